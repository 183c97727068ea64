//! The organization's login, password-complexity and legal settings
//! (settings v2, read with the login-client token and cached for five
//! minutes), and the local password check against the complexity policy.

use super::{b, opt, s};
use crate::Client;
use crate::api::int64;
use crate::error::{ErrorKind, PasswordRule, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A second factor type of the login policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl SecondFactorType {
    /// The proto enum name, e.g. `SECOND_FACTOR_TYPE_OTP` for TOTP.
    pub fn proto_name(self) -> &'static str {
        match self {
            Self::Totp => "SECOND_FACTOR_TYPE_OTP",
            Self::U2f => "SECOND_FACTOR_TYPE_U2F",
            Self::OtpEmail => "SECOND_FACTOR_TYPE_OTP_EMAIL",
            Self::OtpSms => "SECOND_FACTOR_TYPE_OTP_SMS",
            Self::RecoveryCodes => "SECOND_FACTOR_TYPE_RECOVERY_CODES",
        }
    }

    pub(crate) fn from_proto(s: &str) -> Option<Self> {
        [
            Self::Totp,
            Self::U2f,
            Self::OtpEmail,
            Self::OtpSms,
            Self::RecoveryCodes,
        ]
        .into_iter()
        .find(|t| t.proto_name() == s)
    }
}

/// The login policy that applies (the org's, else the instance's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl LoginSettings {
    fn from_json(v: &Value) -> Self {
        let st = v.get("settings").cloned().unwrap_or(Value::Null);
        LoginSettings {
            allow_register: b(&st, "allowRegister"),
            allow_username_password: b(&st, "allowUsernamePassword"),
            allow_external_idp: b(&st, "allowExternalIdp"),
            force_mfa: b(&st, "forceMfa"),
            force_mfa_local_only: b(&st, "forceMfaLocalOnly"),
            passkeys_allowed: s(&st, "passkeysType") == "PASSKEYS_TYPE_ALLOWED",
            second_factors: st
                .get("secondFactors")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter_map(SecondFactorType::from_proto)
                        .collect()
                })
                .unwrap_or_default(),
            hide_password_reset: b(&st, "hidePasswordReset"),
            ignore_unknown_usernames: b(&st, "ignoreUnknownUsernames"),
        }
    }

    /// Whether a local login (password or passkey) must have a second factor.
    pub fn mfa_required_for_local_login(&self) -> bool {
        self.force_mfa || self.force_mfa_local_only
    }
}

/// The password complexity policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl PasswordPolicy {
    /// Decodes settings v2 `settings` or auth v1 `policy`.
    pub(crate) fn from_json(v: &Value) -> Self {
        let p = v
            .get("settings")
            .or_else(|| v.get("policy"))
            .cloned()
            .unwrap_or(Value::Null);
        PasswordPolicy {
            min_length: p.get("minLength").and_then(int64).unwrap_or(0),
            requires_uppercase: b(&p, "requiresUppercase") || b(&p, "hasUppercase"),
            requires_lowercase: b(&p, "requiresLowercase") || b(&p, "hasLowercase"),
            requires_number: b(&p, "requiresNumber") || b(&p, "hasNumber"),
            requires_symbol: b(&p, "requiresSymbol") || b(&p, "hasSymbol"),
        }
    }

    /// The rules `password` breaks, in the order ZITADEL checks them
    /// (length, lower, upper, number, symbol); empty when it passes.
    pub fn unmet_rules(&self, password: &str) -> Vec<PasswordRule> {
        let mut unmet = Vec::new();
        if (password.chars().count() as u64) < self.min_length {
            unmet.push(PasswordRule::MinLength);
        }
        if self.requires_lowercase && !password.chars().any(char::is_lowercase) {
            unmet.push(PasswordRule::Lowercase);
        }
        if self.requires_uppercase && !password.chars().any(char::is_uppercase) {
            unmet.push(PasswordRule::Uppercase);
        }
        if self.requires_number && !password.chars().any(|c| c.is_ascii_digit()) {
            unmet.push(PasswordRule::Number);
        }
        if self.requires_symbol && password.chars().all(char::is_alphanumeric) {
            unmet.push(PasswordRule::Symbol);
        }
        unmet
    }

    /// `Ok` when `password` meets the policy, else a `PasswordPolicy`
    /// error listing every unmet rule.
    ///
    /// # Errors
    /// [`crate::ErrorCode::PasswordPolicy`].
    pub fn check(&self, password: &str) -> Result<()> {
        let unmet = self.unmet_rules(password);
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(ErrorKind::PasswordPolicy(unmet).into())
        }
    }
}

/// The legal and support links the app shows (terms of service, privacy policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl LegalSettings {
    fn from_json(v: &Value) -> Self {
        let st = v.get("settings").cloned().unwrap_or(Value::Null);
        LegalSettings {
            tos_link: opt(&st, "tosLink"),
            privacy_policy_link: opt(&st, "privacyPolicyLink"),
            help_link: opt(&st, "helpLink"),
            support_email: opt(&st, "supportEmail"),
        }
    }
}

/// An identity provider active in the login policy (a button on a login screen).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProvider {
    /// Its id (for registration, login and linking).
    pub id: String,
    /// Its name.
    pub name: String,
    /// `IDENTITY_PROVIDER_TYPE_OIDC`, `…_GOOGLE`, ...
    pub kind: String,
}

/// Settings read with the login-client token. From [`Client::settings`].
#[derive(Clone, Debug)]
pub struct SettingsClient(pub(crate) Client);

impl SettingsClient {
    /// The login policy of `org_id` (the instance's default org when `None`).
    ///
    /// # Errors
    /// No login client configured; server errors.
    pub async fn login(&self, org_id: Option<&str>) -> Result<LoginSettings> {
        let v = self.read("/v2/settings/login", org_id).await?;
        Ok(LoginSettings::from_json(&v))
    }

    /// The password complexity policy of `org_id`.
    ///
    /// # Errors
    /// No login client configured; server errors.
    pub async fn password_complexity(&self, org_id: Option<&str>) -> Result<PasswordPolicy> {
        let v = self
            .read("/v2/settings/password/complexity", org_id)
            .await?;
        Ok(PasswordPolicy::from_json(&v))
    }

    /// The legal and support settings of `org_id`.
    ///
    /// # Errors
    /// No login client configured; server errors.
    pub async fn legal(&self, org_id: Option<&str>) -> Result<LegalSettings> {
        let v = self.read("/v2/settings/legal_support", org_id).await?;
        Ok(LegalSettings::from_json(&v))
    }

    /// The identity providers active in the login policy of `org_id`.
    ///
    /// # Errors
    /// No login client configured; server errors.
    pub async fn identity_providers(&self, org_id: Option<&str>) -> Result<Vec<IdentityProvider>> {
        let v = self.read("/v2/settings/login/idps", org_id).await?;
        Ok(v.get("identityProviders")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|i| IdentityProvider {
                        id: s(i, "id"),
                        name: s(i, "name"),
                        kind: s(i, "type"),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn read(&self, path: &str, org_id: Option<&str>) -> Result<Value> {
        match org_id {
            Some(org) => self.0.cached_settings(path, &[("ctx.orgId", org)]).await,
            None => {
                self.0
                    .cached_settings(path, &[("ctx.instance", "true")])
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> PasswordPolicy {
        PasswordPolicy::from_json(&json!({"settings": {"minLength": "8",
            "requiresUppercase": true, "requiresLowercase": true,
            "requiresNumber": true, "requiresSymbol": true}}))
    }

    #[test]
    fn every_unmet_password_rule_is_listed_in_zitadels_order() {
        assert_eq!(
            policy().unmet_rules("abc"),
            vec![
                PasswordRule::MinLength,
                PasswordRule::Uppercase,
                PasswordRule::Number,
                PasswordRule::Symbol
            ]
        );
        assert!(policy().unmet_rules("Password1!").is_empty());
        let e = policy().check("password").err().unwrap();
        assert_eq!(e.code(), crate::ErrorCode::PasswordPolicy);
        assert_eq!(e.unmet_password_rules().len(), 3);
    }

    #[test]
    fn login_settings_decode_the_factor_lists_and_omitted_booleans() {
        let s = LoginSettings::from_json(&json!({"settings": {
            "allowRegister": true, "forceMfa": true, "passkeysType": "PASSKEYS_TYPE_ALLOWED",
            "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_OTP_EMAIL", "SOMETHING_NEW"]}}));
        assert!(s.allow_register && s.force_mfa && s.passkeys_allowed);
        assert!(!s.allow_external_idp);
        assert_eq!(
            s.second_factors,
            vec![SecondFactorType::Totp, SecondFactorType::OtpEmail]
        );
    }
}
