//! The self-service flows, one module each, reached through sub-clients of
//! [`Client`]: `client.profile()`, `client.email()`, `client.phone()`,
//! `client.password()`, `client.mfa()`, `client.passkeys()`, `client.sessions()`,
//! `client.links()`, `client.registration()`, `client.native_login()`.
//!
//! The signed-in user's flows call ZITADEL's user API with the user's own
//! access token (the default scopes include the ZITADEL audience they
//! need); registration, native login and password reset for users who
//! cannot sign in use the login-client credential
//! ([`crate::ClientBuilder::login_client_token`]).

pub mod links;
pub mod mfa;
pub mod native_login;
pub mod passkeys;
pub mod password;
pub mod profile;
pub mod registration;
pub mod sessions;
pub mod settings;
pub mod verification;

use crate::Client;
use crate::api::seg;
use crate::error::{ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// How long settings read with the login-client token are reused (5 min).
const SETTINGS_TTL: i64 = 300;

impl Client {
    /// The profile and metadata of the signed-in user.
    pub fn profile(&self) -> profile::ProfileClient {
        profile::ProfileClient(self.clone())
    }
    /// The signed-in user's email address and its verification.
    pub fn email(&self) -> verification::EmailClient {
        verification::EmailClient(self.clone())
    }
    /// The signed-in user's phone number and its verification.
    pub fn phone(&self) -> verification::PhoneClient {
        verification::PhoneClient(self.clone())
    }
    /// Password change and reset.
    pub fn password(&self) -> password::PasswordClient {
        password::PasswordClient(self.clone())
    }
    /// Second factors: TOTP, OTP by SMS and email, security keys, recovery codes.
    pub fn mfa(&self) -> mfa::MfaClient {
        mfa::MfaClient(self.clone())
    }
    /// The signed-in user's passkeys: register, list, remove.
    pub fn passkeys(&self) -> passkeys::PasskeysClient {
        passkeys::PasskeysClient(self.clone())
    }
    /// The signed-in user's sessions: list, end one, end all.
    pub fn sessions(&self) -> sessions::SessionsClient {
        sessions::SessionsClient(self.clone())
    }
    /// Links to external identity providers.
    pub fn links(&self) -> links::LinksClient {
        links::LinksClient(self.clone())
    }
    /// Registration of new users (browser, or native with a login client).
    pub fn registration(&self) -> registration::RegistrationClient {
        registration::RegistrationClient(self.clone())
    }
    /// Browserless login through the Session API (login-client hosts only).
    pub fn native_login(&self) -> native_login::NativeLoginClient {
        native_login::NativeLoginClient(self.clone())
    }
    /// The organization's settings as the login client reads them.
    pub fn settings(&self) -> settings::SettingsClient {
        settings::SettingsClient(self.clone())
    }

    /// The signed-in user's id, as a path segment.
    pub(crate) async fn my_id(&self) -> Result<String> {
        let s = self.session().await?.ok_or(ErrorKind::NotSignedIn)?;
        seg(&s.subject)
    }

    /// A settings document read with the login-client token, cached for
    /// [`SETTINGS_TTL`] per path and query.
    pub(crate) async fn cached_settings(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value> {
        let key = format!("{path}?{query:?}");
        let now = self.now();
        if let Ok(cache) = self.inner.settings.lock()
            && let Some((at, v)) = cache.get(&key)
            && now.saturating_sub(*at) < SETTINGS_TTL
        {
            return Ok(v.clone());
        }
        let v: serde_json::Value = self
            .api_query(
                crate::api::Auth::LoginClient,
                reqwest::Method::GET,
                path,
                query,
                None,
            )
            .await?;
        if let Ok(mut cache) = self.inner.settings.lock() {
            cache.insert(key, (now, v.clone()));
        }
        Ok(v)
    }
}

/// What a ZITADEL list answered: the items and the total count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
}

/// A protojson object field as a string (missing → empty).
pub(crate) fn s(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A protojson object field as a bool (missing → false, as protojson omits it).
pub(crate) fn b(v: &serde_json::Value, key: &str) -> bool {
    v.get(key)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// An optional non-empty string field.
pub(crate) fn opt(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The `details.totalResult` (or `pagination.totalResult`) of a list answer.
pub(crate) fn total(v: &serde_json::Value) -> u64 {
    v.get("details")
        .or_else(|| v.get("pagination"))
        .and_then(|d| d.get("totalResult"))
        .and_then(crate::api::int64)
        .unwrap_or(0)
}

/// A list query in the older v2 shape: newest first, at most `limit`.
pub(crate) fn list_query(limit: u32) -> serde_json::Value {
    serde_json::json!({"offset": "0", "limit": limit, "asc": false})
}
