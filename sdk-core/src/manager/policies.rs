//! The org's login, password complexity and lockout policies (management
//! v1): read the effective policy, and set it — creating the org's own
//! policy from the inherited one when it has none, else updating it.

use super::{ManagerClient, items, strings};
use crate::api::int64;
use crate::error::{Error, Result};
use crate::flows::settings::{PasswordPolicy, SecondFactorType};
use crate::flows::{b, s};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The fields of the login policy that AddCustomLoginPolicy and
/// UpdateCustomLoginPolicy both take (read back from GetLoginPolicy).
const LOGIN_FIELDS: &[&str] = &[
    "allowUsernamePassword",
    "allowRegister",
    "allowExternalIdp",
    "forceMfa",
    "passwordlessType",
    "hidePasswordReset",
    "ignoreUnknownUsernames",
    "defaultRedirectUri",
    "passwordCheckLifetime",
    "externalLoginCheckLifetime",
    "mfaInitSkipLifetime",
    "secondFactorCheckLifetime",
    "multiFactorCheckLifetime",
    "allowDomainDiscovery",
    "disableLoginWithEmail",
    "disableLoginWithPhone",
    "forceMfaLocalOnly",
];

/// The org's effective login policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPolicy {
    /// Whether the org has its own policy (else the instance's applies).
    pub custom: bool,
    /// Login with user name and password is allowed.
    pub allow_username_password: bool,
    /// Users may register themselves.
    pub allow_register: bool,
    /// Login with external identity providers is allowed.
    pub allow_external_idp: bool,
    /// Every user must set up a second factor.
    pub force_mfa: bool,
    /// Only local (non-IdP) logins need a second factor.
    pub force_mfa_local_only: bool,
    /// Passwordless login with passkeys is allowed.
    pub passkeys_allowed: bool,
    /// Password reset is hidden in the login.
    pub hide_password_reset: bool,
    /// Unknown login names fail like wrong passwords.
    pub ignore_unknown_usernames: bool,
    /// The second factors users may use.
    pub second_factors: Vec<SecondFactorType>,
    /// The ids of the identity providers offered at login.
    pub idp_ids: Vec<String>,
}

/// Changes to the login policy; fields left `None` stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPolicyUpdate {
    /// Login with user name and password.
    pub allow_username_password: Option<bool>,
    /// Self-registration.
    pub allow_register: Option<bool>,
    /// Login with external identity providers.
    pub allow_external_idp: Option<bool>,
    /// A second factor for every user.
    pub force_mfa: Option<bool>,
    /// A second factor for local logins only.
    pub force_mfa_local_only: Option<bool>,
    /// Passwordless login with passkeys.
    pub passkeys_allowed: Option<bool>,
    /// Hide password reset in the login.
    pub hide_password_reset: Option<bool>,
    /// Unknown login names fail like wrong passwords.
    pub ignore_unknown_usernames: Option<bool>,
    /// The second factors users may use (replaces the list).
    pub second_factors: Option<Vec<SecondFactorType>>,
}

impl LoginPolicyUpdate {
    /// Applies the changes to a request body of the v1 login policy.
    fn apply(&self, body: &mut Map<String, Value>) {
        for (key, v) in [
            ("allowUsernamePassword", self.allow_username_password),
            ("allowRegister", self.allow_register),
            ("allowExternalIdp", self.allow_external_idp),
            ("forceMfa", self.force_mfa),
            ("forceMfaLocalOnly", self.force_mfa_local_only),
            ("hidePasswordReset", self.hide_password_reset),
            ("ignoreUnknownUsernames", self.ignore_unknown_usernames),
        ] {
            if let Some(v) = v {
                body.insert(key.into(), json!(v));
            }
        }
        if let Some(p) = self.passkeys_allowed {
            let t = if p {
                "PASSWORDLESS_TYPE_ALLOWED"
            } else {
                "PASSWORDLESS_TYPE_NOT_ALLOWED"
            };
            body.insert("passwordlessType".into(), json!(t));
        }
    }
}

/// The lockout policy: how many wrong passwords and one-time codes lock a
/// user (0: never).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicy {
    /// Wrong passwords before the user is locked.
    pub max_password_attempts: u32,
    /// Wrong one-time codes (TOTP, OTP email/SMS) before the user is locked.
    pub max_otp_attempts: u32,
}

/// The `policy` of a v1 GetXPolicy answer and whether it is the org's own.
fn policy_of(v: &Value) -> (Value, bool) {
    let p = v.get("policy").cloned().unwrap_or(Value::Null);
    let default = b(&p, "isDefault") || b(v, "isDefault");
    (p, !default)
}

/// A request body with the given fields copied from a read policy.
fn copy_fields(p: &Value, fields: &[&str]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|k| p.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}

impl ManagerClient {
    /// The org's effective login policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn login_policy(&self) -> Result<LoginPolicy> {
        let (p, custom) = policy_of(&self.v1(Method::GET, "/policies/login", None).await?);
        let mut policy = login_policy_from(&p, custom);
        policy.idp_ids = self.login_policy_idps().await?;
        Ok(policy)
    }

    /// The ids of the IdPs active in the effective login policy
    /// (ListLoginPolicyIDPs).
    async fn login_policy_idps(&self) -> Result<Vec<String>> {
        let v = self.v1_search("/policies/login/idps/_search", None).await?;
        Ok(items(&v, "result", |l| s(l, "idpId")))
    }

    /// Sets the org's login policy (creating the org's own from the
    /// inherited one when needed) and returns the result.
    ///
    /// # Errors
    /// `InvalidInput` for an empty update; `PermissionDenied`.
    pub async fn set_login_policy(&self, update: &LoginPolicyUpdate) -> Result<LoginPolicy> {
        if update == &LoginPolicyUpdate::default() {
            return Err(Error::input("nothing to update"));
        }
        let (p, custom) = policy_of(&self.v1(Method::GET, "/policies/login", None).await?);
        let current = copy_fields(&p, LOGIN_FIELDS);
        let mut body = current.clone();
        update.apply(&mut body);
        let have = login_policy_from(&p, custom).second_factors;
        let want = update
            .second_factors
            .clone()
            .unwrap_or_else(|| have.clone());
        if !custom {
            self.add_login_policy(&p, body, &want, None).await?;
        } else {
            if body != current {
                self.v1(Method::PUT, "/policies/login", Some(Value::Object(body)))
                    .await?;
            }
            for f in want.iter().filter(|f| !have.contains(f)) {
                self.v1(
                    Method::POST,
                    "/policies/login/second_factors",
                    Some(json!({"type": f.proto_name()})),
                )
                .await?;
            }
            for f in have.iter().filter(|f| !want.contains(f)) {
                let path = format!("/policies/login/second_factors/{}", f.proto_name());
                self.v1(Method::DELETE, &path, None).await?;
            }
        }
        self.login_policy().await
    }

    /// Makes sure the org has its own login policy with external IdPs
    /// allowed; when it has to create one, `idp` is activated in it at once
    /// and `true` returned.
    pub(super) async fn ensure_custom_login_policy(&self, idp: Option<&Value>) -> Result<bool> {
        let (p, custom) = policy_of(&self.v1(Method::GET, "/policies/login", None).await?);
        let mut body = copy_fields(&p, LOGIN_FIELDS);
        if !custom {
            body.insert("allowExternalIdp".into(), json!(true));
            let factors = login_policy_from(&p, false).second_factors;
            self.add_login_policy(&p, body, &factors, idp).await?;
            return Ok(idp.is_some());
        }
        if !b(&p, "allowExternalIdp") {
            body.insert("allowExternalIdp".into(), json!(true));
            self.v1(Method::PUT, "/policies/login", Some(Value::Object(body)))
                .await?;
        }
        Ok(false)
    }

    /// AddCustomLoginPolicy from the inherited policy `p` with `body`'s
    /// settings, the second factors `factors`, its multi factors and
    /// active IdPs (instance IdPs, as the inherited policy can only have
    /// those), plus `idp`.
    async fn add_login_policy(
        &self,
        p: &Value,
        mut body: Map<String, Value>,
        factors: &[SecondFactorType],
        idp: Option<&Value>,
    ) -> Result<()> {
        let factors: Vec<&str> = factors.iter().map(|f| f.proto_name()).collect();
        body.insert("secondFactors".into(), json!(factors));
        body.insert("multiFactors".into(), json!(strings(p, "multiFactors")));
        let mut idps: Vec<Value> = self
            .login_policy_idps()
            .await?
            .into_iter()
            .map(|id| json!({"idpId": id, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}))
            .collect();
        if let Some(i) = idp {
            idps.push(i.clone());
        }
        body.insert("idps".into(), json!(idps));
        self.v1(Method::POST, "/policies/login", Some(Value::Object(body)))
            .await
            .map(drop)
    }

    /// The org's effective password complexity policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn password_complexity_policy(&self) -> Result<PasswordPolicy> {
        let v = self
            .v1(Method::GET, "/policies/password/complexity", None)
            .await?;
        Ok(PasswordPolicy::from_json(&v))
    }

    /// Sets the org's password complexity policy (new and changed
    /// passwords must meet it).
    ///
    /// # Errors
    /// `InvalidInput` for a minimum length of 0 or over 72; `PermissionDenied`.
    pub async fn set_password_complexity_policy(&self, policy: &PasswordPolicy) -> Result<()> {
        if policy.min_length == 0 || policy.min_length > 72 {
            return Err(Error::input("the minimum length must be 1 to 72"));
        }
        let body = json!({
            "minLength": policy.min_length.to_string(),
            "hasUppercase": policy.requires_uppercase,
            "hasLowercase": policy.requires_lowercase,
            "hasNumber": policy.requires_number,
            "hasSymbol": policy.requires_symbol,
        });
        let changed = |p: &Value| PasswordPolicy::from_json(&json!({"policy": p})) != *policy;
        self.upsert("/policies/password/complexity", body, changed)
            .await
    }

    /// The org's effective lockout policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn lockout_policy(&self) -> Result<LockoutPolicy> {
        let (p, _) = policy_of(&self.v1(Method::GET, "/policies/lockout", None).await?);
        Ok(lockout_from(&p))
    }

    /// Sets the org's lockout policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn set_lockout_policy(&self, policy: &LockoutPolicy) -> Result<()> {
        let body = json!({
            "maxPasswordAttempts": policy.max_password_attempts,
            "maxOtpAttempts": policy.max_otp_attempts,
        });
        self.upsert("/policies/lockout", body, |p| lockout_from(p) != *policy)
            .await
    }

    /// POST (create) when the org has no own policy at `path`, else PUT
    /// (update) when `changed` says the read policy differs.
    async fn upsert(
        &self,
        path: &str,
        body: Value,
        changed: impl Fn(&Value) -> bool,
    ) -> Result<()> {
        let (p, custom) = policy_of(&self.v1(Method::GET, path, None).await?);
        if !custom {
            self.v1(Method::POST, path, Some(body)).await?;
        } else if changed(&p) {
            self.v1(Method::PUT, path, Some(body)).await?;
        }
        Ok(())
    }
}

fn lockout_from(p: &Value) -> LockoutPolicy {
    let n = |k: &str| {
        p.get(k)
            .and_then(int64)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    LockoutPolicy {
        max_password_attempts: n("maxPasswordAttempts"),
        max_otp_attempts: n("maxOtpAttempts"),
    }
}

fn login_policy_from(p: &Value, custom: bool) -> LoginPolicy {
    LoginPolicy {
        custom,
        allow_username_password: b(p, "allowUsernamePassword"),
        allow_register: b(p, "allowRegister"),
        allow_external_idp: b(p, "allowExternalIdp"),
        force_mfa: b(p, "forceMfa"),
        force_mfa_local_only: b(p, "forceMfaLocalOnly"),
        passkeys_allowed: s(p, "passwordlessType") == "PASSWORDLESS_TYPE_ALLOWED",
        hide_password_reset: b(p, "hidePasswordReset"),
        ignore_unknown_usernames: b(p, "ignoreUnknownUsernames"),
        second_factors: strings(p, "secondFactors")
            .iter()
            .filter_map(|f| SecondFactorType::from_proto(f))
            .collect(),
        idp_ids: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_changes_only_the_fields_given() {
        let p = json!({"allowRegister": true, "forceMfa": false, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
                       "mfaInitSkipLifetime": "0s", "isDefault": true, "details": {}});
        let mut body = copy_fields(&p, LOGIN_FIELDS);
        LoginPolicyUpdate {
            force_mfa: Some(true),
            passkeys_allowed: Some(false),
            ..Default::default()
        }
        .apply(&mut body);
        assert_eq!(
            Value::Object(body),
            json!({"allowRegister": true, "forceMfa": true,
                   "passwordlessType": "PASSWORDLESS_TYPE_NOT_ALLOWED", "mfaInitSkipLifetime": "0s"})
        );
        assert!(!policy_of(&json!({"policy": p})).1);
    }
}
