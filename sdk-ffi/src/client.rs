//! [`ZitadelClient`], the root object of the bindings, and its [`ClientConfig`].

use crate::error::FfiError;
use crate::events::{AuthStateListener, ListenerAdapter};
use crate::store::{CoreStore, TokenStore};
use std::sync::Arc;
use std::time::Duration;

/// How to build a [`ZitadelClient`]. Only `issuer` and `client_id` are required.
#[derive(Clone, uniffi::Record)]
pub struct ClientConfig {
    /// The instance URL, e.g. `https://my-instance.zitadel.cloud` (HTTPS, or
    /// http on loopback for development).
    pub issuer: String,
    /// The native app's client id.
    pub client_id: String,
    /// The redirect URI: loopback (`http://127.0.0.1/callback`, any port),
    /// a custom scheme (`com.example.app:/callback`) or an HTTPS app link.
    #[uniffi(default = None)]
    pub redirect_uri: Option<String>,
    /// Replaces the default scopes (`openid` is always added).
    #[uniffi(default = None)]
    pub scopes: Option<Vec<String>>,
    /// Restrict login to this organization id.
    #[uniffi(default = None)]
    pub organization_id: Option<String>,
    /// Restrict login to the organization with this primary domain.
    #[uniffi(default = None)]
    pub organization_domain: Option<String>,
    /// Preferred languages, most preferred first.
    #[uniffi(default)]
    pub ui_locales: Vec<String>,
    /// The account sessions are stored under (default `"default"`).
    #[uniffi(default = None)]
    pub account: Option<String>,
    /// Timeout of each HTTP request in seconds (default 30).
    #[uniffi(default = None)]
    pub http_timeout_secs: Option<u32>,
    /// Refresh the access token when it expires within this many seconds (default 30).
    #[uniffi(default = None)]
    pub refresh_margin_secs: Option<u32>,
    /// The login-client token (a PAT of a service user holding the
    /// `IAM_LOGIN_CLIENT` role) for native registration, native login and
    /// password reset without a session. Whoever holds it can create users
    /// and sign anyone in: only for hosts you control (a backend, a kiosk, a
    /// trusted desktop), never inside an app users install. Not bundled by default.
    #[uniffi(default = None)]
    pub login_client_token: Option<String>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("organization_id", &self.organization_id)
            .field("organization_domain", &self.organization_domain)
            .field("account", &self.account)
            .field(
                "login_client_token",
                &self.login_client_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Builds the sdk-core client with `store` (in memory when `None`).
    pub(crate) fn build(
        self,
        store: Option<Arc<dyn zitadel_sdk::TokenStore>>,
    ) -> Result<zitadel_sdk::Client, FfiError> {
        let mut b = zitadel_sdk::Client::builder(self.issuer, self.client_id);
        if let Some(r) = self.redirect_uri {
            b = b.redirect_uri(r);
        }
        if let Some(s) = self.scopes {
            b = b.scopes(s);
        }
        if let Some(id) = &self.organization_id {
            b = b.organization_id(id);
        }
        if let Some(d) = &self.organization_domain {
            b = b.organization_domain(d);
        }
        if !self.ui_locales.is_empty() {
            b = b.ui_locales(self.ui_locales);
        }
        if let Some(a) = self.account {
            b = b.account(a);
        }
        if let Some(t) = self.http_timeout_secs {
            b = b.http_timeout(Duration::from_secs(t.into()));
        }
        if let Some(m) = self.refresh_margin_secs {
            b = b.refresh_margin(Duration::from_secs(m.into()));
        }
        if let Some(t) = self.login_client_token {
            b = b.login_client_token(t);
        }
        if let Some(s) = store {
            b = b.store(s);
        }
        Ok(b.build()?)
    }
}

/// The SDK client for one issuer and client id, bound to one account.
/// Clones made with [`for_account`](Self::for_account) share caches, locks and listeners.
#[derive(Debug, uniffi::Object)]
pub struct ZitadelClient {
    pub(crate) core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// Builds a client. Makes no network request. `store` keeps the session
    /// across restarts (default: in memory only); it may be written in the
    /// host language (a Keystore or Keychain store) or be one of
    /// [`crate::store::memory_token_store`] and [`crate::store::file_token_store`].
    ///
    /// # Errors
    /// [`FfiError::Misconfigured`] for an invalid or insecure issuer or redirect URI,
    /// an empty client id, or an invalid organization value.
    #[uniffi::constructor]
    pub fn new(
        config: ClientConfig,
        store: Option<Arc<dyn TokenStore>>,
    ) -> Result<Arc<Self>, FfiError> {
        let store = store.map(|s| Arc::new(CoreStore(s)) as Arc<dyn zitadel_sdk::TokenStore>);
        Ok(Arc::new(ZitadelClient {
            core: config.build(store)?,
        }))
    }

    /// The same client bound to another account.
    pub fn for_account(&self, account: String) -> Arc<ZitadelClient> {
        Arc::new(ZitadelClient {
            core: self.core.for_account(account),
        })
    }

    /// The account this client is bound to.
    pub fn account(&self) -> String {
        self.core.account().to_owned()
    }

    /// The configured issuer.
    pub fn issuer(&self) -> String {
        self.core.issuer().to_string()
    }

    /// The scopes asked for at login.
    pub fn scopes(&self) -> Vec<String> {
        self.core.scopes().to_vec()
    }

    /// Registers a listener for sign-in, refresh, sign-out and session-expired
    /// events of every account of this client. Called on an SDK thread; keep it short.
    pub fn add_listener(&self, listener: Arc<dyn AuthStateListener>) {
        self.core.add_listener(Arc::new(ListenerAdapter(listener)));
    }
}
