//! Password change and reset: [`PasswordClient`], from
//! [`ZitadelClient::password`](crate::ZitadelClient::password).

use crate::c::calls::{CallFuture, args, done, json, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use zitadel_sdk::flows::password::ResetDelivery;
use zitadel_sdk::flows::settings::PasswordPolicy;

/// How a password reset code reaches the user.
#[uniffi::remote(Enum)]
pub enum ResetDelivery {
    /// ZITADEL emails a link.
    Email,
    /// ZITADEL emails a link built from this template (placeholders
    /// `{{.UserID}}`, `{{.OrgID}}`, `{{.Code}}`).
    EmailWithUrl(String),
    /// ZITADEL sends the code by SMS.
    Sms,
    /// ZITADEL returns the code to the app.
    Return,
}

/// A password reset that was requested. `Debug` (Kotlin's `toString`,
/// Swift's description) never shows the code.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct PasswordResetStarted {
    /// The user whose password is reset (pass it to [`PasswordClient::set_with_code`]).
    pub user_id: String,
    /// The code, with [`ResetDelivery::Return`]; a secret: never log it.
    pub code: Option<String>,
}

impl std::fmt::Debug for PasswordResetStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetStarted")
            .field("user_id", &self.user_id)
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl From<zitadel_sdk::flows::password::PasswordResetStarted> for PasswordResetStarted {
    fn from(s: zitadel_sdk::flows::password::PasswordResetStarted) -> Self {
        PasswordResetStarted {
            user_id: s.user_id,
            code: s.code.map(|c| c.expose().to_owned()),
        }
    }
}

impl PasswordResetStarted {
    /// The C result: `{"user_id", "code"}`.
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"user_id": self.user_id, "code": self.code})
    }
}

/// Password change and reset.
#[derive(Debug, uniffi::Object)]
pub struct PasswordClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// Password change (signed in) and reset (signed in, or for a user who
    /// cannot sign in, through the login client).
    pub fn password(&self) -> Arc<PasswordClient> {
        Arc::new(PasswordClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl PasswordClient {
    /// The complexity policy that applies to the signed-in user.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn policy(&self) -> Result<PasswordPolicy, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.password().policy().await }).await
    }

    /// Changes the signed-in user's password: `new` is checked against the
    /// policy first (a `PasswordPolicy` error lists every unmet rule and
    /// nothing is sent), then set with the `current` one.
    ///
    /// # Errors
    /// `PasswordPolicy`; `InvalidCredentials` for a wrong current password;
    /// `FailedPrecondition` when the new password equals the old one.
    pub async fn change(&self, current: String, new: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(
            None,
            async move { c.password().change(&current, &new).await },
        )
        .await
    }

    /// Requests a reset code for the signed-in user.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn request_reset(
        &self,
        delivery: ResetDelivery,
    ) -> Result<PasswordResetStarted, FfiError> {
        let c = self.core.clone();
        run(
            None,
            async move { c.password().request_reset(&delivery).await },
        )
        .await
        .map(PasswordResetStarted::from)
    }

    /// Requests a reset code for a user who cannot sign in, found by login
    /// name, through the login client.
    ///
    /// # Errors
    /// `Misconfigured` without a login-client token; `NotFound` for an
    /// unknown login name; `InvalidInput` when it matches several users.
    pub async fn request_reset_for(
        &self,
        login_name: String,
        delivery: ResetDelivery,
    ) -> Result<PasswordResetStarted, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.password().request_reset_for(&login_name, &delivery).await
        })
        .await
        .map(PasswordResetStarted::from)
    }

    /// Sets a new password with the reset code, through the login client;
    /// the password is checked against the user's org policy first.
    ///
    /// # Errors
    /// `Misconfigured` without a login-client token; `PasswordPolicy`;
    /// `WrongCode`; `CodeExpired`.
    pub async fn set_with_code(
        &self,
        user_id: String,
        code: String,
        new: String,
    ) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.password().set_with_code(&user_id, &code, &new).await
        })
        .await
    }
}

/// [`ResetDelivery`] in the JSON of the C calls: `"email"` (the default),
/// `"sms"`, `"return"` or `{"email_with_url": template}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ResetDeliveryArg {
    #[default]
    Email,
    EmailWithUrl(String),
    Sms,
    Return,
}

impl From<ResetDeliveryArg> for ResetDelivery {
    fn from(d: ResetDeliveryArg) -> Self {
        match d {
            ResetDeliveryArg::Email => ResetDelivery::Email,
            ResetDeliveryArg::EmailWithUrl(t) => ResetDelivery::EmailWithUrl(t),
            ResetDeliveryArg::Sms => ResetDelivery::Sms,
            ResetDeliveryArg::Return => ResetDelivery::Return,
        }
    }
}

/// No `Debug`: the argument structs below hold passwords and codes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeArgs {
    current: String,
    new: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResetArgs {
    #[serde(default)]
    login_name: Option<String>,
    #[serde(default)]
    delivery: ResetDeliveryArg,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetWithCodeArgs {
    user_id: String,
    code: String,
    new: String,
}

/// The C calls `password.*`: `policy`; `change` `{"current", "new"}`;
/// `request_reset` `{"delivery"?}` and `request_reset_for` `{"login_name",
/// "delivery"?}` → `{"user_id", "code"}` (`code` only with `"return"`);
/// `set_with_code` `{"user_id", "code", "new"}`.
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let p = core.password();
    Ok(match name {
        "policy" => Box::pin(async move { json(p.policy().await?) }),
        "change" => {
            let c: ChangeArgs = args(a)?;
            Box::pin(async move { done(p.change(&c.current, &c.new).await?) })
        }
        "request_reset" => {
            let r: ResetArgs = args(a)?;
            if r.login_name.is_some() {
                return Err(FfiError::invalid_input(
                    "request_reset is for the signed-in user: use request_reset_for with a login name",
                ));
            }
            let d = ResetDelivery::from(r.delivery);
            Box::pin(
                async move { Ok(PasswordResetStarted::from(p.request_reset(&d).await?).to_json()) },
            )
        }
        "request_reset_for" => {
            let r: ResetArgs = args(a)?;
            let login = r
                .login_name
                .ok_or_else(|| FfiError::invalid_input("request_reset_for needs a login_name"))?;
            let d = ResetDelivery::from(r.delivery);
            Box::pin(async move {
                Ok(PasswordResetStarted::from(p.request_reset_for(&login, &d).await?).to_json())
            })
        }
        "set_with_code" => {
            let s: SetWithCodeArgs = args(a)?;
            Box::pin(async move { done(p.set_with_code(&s.user_id, &s.code, &s.new).await?) })
        }
        _ => return Err(unknown_method("password", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reset_code_is_returned_but_never_in_debug() {
        let s = PasswordResetStarted::from(zitadel_sdk::flows::password::PasswordResetStarted {
            user_id: "u1".into(),
            code: Some(zitadel_sdk::Secret::new("SECRET-CODE")),
        });
        assert_eq!(s.code.as_deref(), Some("SECRET-CODE"));
        assert!(!format!("{s:?}").contains("SECRET-CODE"));
        assert_eq!(s.to_json(), json!({"user_id": "u1", "code": "SECRET-CODE"}));
    }

    #[test]
    fn reset_delivery_json_maps_to_the_core_delivery() {
        let d = |v| args::<ResetArgs>(v).map(|r| ResetDelivery::from(r.delivery));
        assert_eq!(d(json!({})).ok(), Some(ResetDelivery::Email));
        assert_eq!(d(json!({"delivery": "sms"})).ok(), Some(ResetDelivery::Sms));
        assert_eq!(
            d(json!({"delivery": {"email_with_url": "https://a/{{.Code}}"}})).ok(),
            Some(ResetDelivery::EmailWithUrl("https://a/{{.Code}}".into()))
        );
        assert_eq!(
            d(json!({"delivery": "send"})).err().map(|e| e.code()),
            Some(3)
        );
    }

    #[test]
    fn bad_password_arguments_are_invalid_input_before_any_request() {
        let Ok(core) = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() else {
            panic!("a loopback client builds");
        };
        for (m, a) in [
            ("change", json!({"current": "x"})),
            ("change", json!({"current": "x", "new": 5})),
            ("request_reset_for", json!({})),
            ("request_reset", json!({"login_name": "alice"})),
            ("set_with_code", json!({"user_id": "u", "code": "c"})),
            ("nope", json!({})),
        ] {
            let e = c_call(core.clone(), m, a).err();
            assert_eq!(e.map(|e| e.code()), Some(3), "{m}");
        }
    }
}
