//! The organization's settings as the login client reads them (login
//! policy, password complexity, legal links, identity providers):
//! [`SettingsClient`], from [`ZitadelClient::settings`](crate::ZitadelClient::settings);
//! and the local password check against a [`PasswordPolicy`].
//!
//! Needs the login-client token in the [`ClientConfig`](crate::ClientConfig).

use crate::c::calls::{CallFuture, args, json, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use zitadel_sdk::PasswordRule;
use zitadel_sdk::flows::settings::{
    IdentityProvider, LegalSettings, LoginSettings, PasswordPolicy, SecondFactorType,
};

/// A second factor type of the login policy.
#[uniffi::remote(Enum)]
pub enum SecondFactorType {
    /// Time-based one-time password (an authenticator app).
    Totp,
    /// A security key (U2F / WebAuthn without user verification).
    U2f,
    /// One-time password by email.
    OtpEmail,
    /// One-time password by SMS.
    OtpSms,
    /// Recovery codes.
    RecoveryCodes,
}

/// A rule of the password complexity policy.
#[uniffi::remote(Enum)]
pub enum PasswordRule {
    /// At least the policy's minimum length.
    MinLength,
    /// At least one lower-case letter.
    Lowercase,
    /// At least one upper-case letter.
    Uppercase,
    /// At least one digit.
    Number,
    /// At least one symbol (not a letter or digit).
    Symbol,
}

/// The login policy that applies (the org's, else the instance's).
#[uniffi::remote(Record)]
pub struct LoginSettings {
    /// Users may register themselves.
    pub allow_register: bool,
    /// Login with user name and password is allowed.
    pub allow_username_password: bool,
    /// Login with external identity providers is allowed.
    pub allow_external_idp: bool,
    /// Every user must have a second factor.
    pub force_mfa: bool,
    /// Only local (non-IdP) logins must have a second factor.
    pub force_mfa_local_only: bool,
    /// Passwordless login with passkeys is allowed.
    pub passkeys_allowed: bool,
    /// The second factors users may use.
    pub second_factors: Vec<SecondFactorType>,
    /// Password reset is hidden in the login.
    pub hide_password_reset: bool,
    /// Unknown login names fail like wrong passwords.
    pub ignore_unknown_usernames: bool,
}

/// The password complexity policy.
#[uniffi::remote(Record)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_length: u64,
    /// An upper-case letter is required.
    pub requires_uppercase: bool,
    /// A lower-case letter is required.
    pub requires_lowercase: bool,
    /// A digit is required.
    pub requires_number: bool,
    /// A symbol is required.
    pub requires_symbol: bool,
}

/// The legal and support links the app shows (terms of service, privacy policy).
#[uniffi::remote(Record)]
pub struct LegalSettings {
    /// The terms of service.
    pub tos_link: Option<String>,
    /// The privacy policy.
    pub privacy_policy_link: Option<String>,
    /// A help page.
    pub help_link: Option<String>,
    /// A support email address.
    pub support_email: Option<String>,
}

/// An identity provider active in the login policy (a button on a login screen).
#[uniffi::remote(Record)]
pub struct IdentityProvider {
    /// Its id (for registration, login and linking).
    pub id: String,
    /// Its name.
    pub name: String,
    /// `IDENTITY_PROVIDER_TYPE_OIDC`, `…_GOOGLE`, ...
    pub kind: String,
}

/// The rules `password` breaks under `policy`, in the order ZITADEL checks
/// them (length, lower, upper, number, symbol); empty when it passes. A
/// local check: no request, nothing logged.
#[uniffi::export]
pub fn password_policy_unmet_rules(policy: PasswordPolicy, password: String) -> Vec<PasswordRule> {
    policy.unmet_rules(&password)
}

/// Whether a local login (password or passkey) must have a second factor
/// under these settings.
#[uniffi::export]
pub fn login_settings_mfa_required_for_local_login(settings: LoginSettings) -> bool {
    settings.mfa_required_for_local_login()
}

/// The organization's settings, read with the login-client token (cached
/// for five minutes).
#[derive(Debug, uniffi::Object)]
pub struct SettingsClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// The organization's login, password and legal settings and identity
    /// providers (needs the login-client token).
    pub fn settings(&self) -> Arc<SettingsClient> {
        Arc::new(SettingsClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl SettingsClient {
    /// The login policy of `org_id` (the instance's default org when `null`).
    ///
    /// # Errors
    /// `Misconfigured` without a login-client token; server errors.
    pub async fn login(&self, org_id: Option<String>) -> Result<LoginSettings, FfiError> {
        let c = self.core.clone();
        run(
            None,
            async move { c.settings().login(org_id.as_deref()).await },
        )
        .await
    }

    /// The password complexity policy of `org_id`.
    ///
    /// # Errors
    /// `Misconfigured` without a login-client token; server errors.
    pub async fn password_complexity(
        &self,
        org_id: Option<String>,
    ) -> Result<PasswordPolicy, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.settings().password_complexity(org_id.as_deref()).await
        })
        .await
    }

    /// The legal and support settings of `org_id`.
    ///
    /// # Errors
    /// `Misconfigured` without a login-client token; server errors.
    pub async fn legal(&self, org_id: Option<String>) -> Result<LegalSettings, FfiError> {
        let c = self.core.clone();
        run(
            None,
            async move { c.settings().legal(org_id.as_deref()).await },
        )
        .await
    }

    /// The identity providers active in the login policy of `org_id`.
    ///
    /// # Errors
    /// `Misconfigured` without a login-client token; server errors.
    pub async fn identity_providers(
        &self,
        org_id: Option<String>,
    ) -> Result<Vec<IdentityProvider>, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.settings().identity_providers(org_id.as_deref()).await
        })
        .await
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OrgArg {
    #[serde(default)]
    org_id: Option<String>,
}

/// The arguments of `settings.check_password`. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckArgs {
    policy: PasswordPolicy,
    password: String,
}

/// The C calls `settings.*`: `login`, `password_complexity`, `legal`,
/// `identity_providers`, each `{"org_id"?}`; and `check_password`
/// `{"policy": {…}, "password"}` → the unmet rules (`["min_length", …]`,
/// empty when it passes; local, no request).
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let s = core.settings();
    if name == "check_password" {
        let c: CheckArgs = args(a)?;
        let unmet = c.policy.unmet_rules(&c.password);
        return Ok(Box::pin(async move { json(unmet) }));
    }
    let org: OrgArg = args(a)?;
    let org = org.org_id;
    Ok(match name {
        "login" => Box::pin(async move { json(s.login(org.as_deref()).await?) }),
        "password_complexity" => {
            Box::pin(async move { json(s.password_complexity(org.as_deref()).await?) })
        }
        "legal" => Box::pin(async move { json(s.legal(org.as_deref()).await?) }),
        "identity_providers" => {
            Box::pin(async move { json(s.identity_providers(org.as_deref()).await?) })
        }
        _ => return Err(unknown_method("settings", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strict() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 8,
            requires_uppercase: true,
            requires_lowercase: true,
            requires_number: true,
            requires_symbol: true,
        }
    }

    #[test]
    fn the_local_password_check_lists_every_unmet_rule() {
        assert_eq!(
            password_policy_unmet_rules(strict(), "abc".into()),
            vec![
                PasswordRule::MinLength,
                PasswordRule::Uppercase,
                PasswordRule::Number,
                PasswordRule::Symbol
            ]
        );
        assert!(password_policy_unmet_rules(strict(), "Password1!".into()).is_empty());
    }

    #[tokio::test]
    async fn check_password_in_c_answers_rule_names_without_a_request() {
        let core = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build();
        let Ok(core) = core else {
            panic!("a loopback client builds");
        };
        let policy = serde_json::to_value(strict()).unwrap_or_default();
        let call = c_call(
            core.clone(),
            "check_password",
            json!({"policy": policy, "password": "abcdefgh"}),
        );
        let Ok(call) = call else {
            panic!("the arguments fit");
        };
        assert_eq!(
            call.await.ok(),
            Some(json!(["uppercase", "number", "symbol"]))
        );
        for bad in [
            json!({"password": "x"}),
            json!({"policy": policy, "password": 1}),
        ] {
            let e = c_call(core.clone(), "check_password", bad).err();
            assert_eq!(e.map(|e| e.code()), Some(3));
        }
        let e = c_call(core, "login", json!({"org_id": 7})).err();
        assert_eq!(e.map(|e| e.code()), Some(3));
    }

    #[test]
    fn mfa_is_required_for_local_logins_when_forced() {
        let s = LoginSettings {
            allow_register: true,
            allow_username_password: true,
            allow_external_idp: false,
            force_mfa: false,
            force_mfa_local_only: true,
            passkeys_allowed: true,
            second_factors: vec![SecondFactorType::Totp],
            hide_password_reset: false,
            ignore_unknown_usernames: false,
        };
        assert!(login_settings_mfa_required_for_local_login(s));
    }
}
