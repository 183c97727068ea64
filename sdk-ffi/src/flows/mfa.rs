//! Second factors of the signed-in user: [`MfaClient`], from
//! [`ZitadelClient::mfa`](crate::ZitadelClient::mfa) — the authentication
//! methods, TOTP, OTP by SMS and email, security keys (U2F, registered
//! through a [`PasskeyAuthenticator`]), recovery codes.

use super::passkeys::{AuthenticatorAdapter, PasskeyAuthenticator, c_authenticator};
use crate::c::calls::{CallFuture, args, done, json, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use zitadel_sdk::flows::mfa::{AuthMethod, SecurityKey};

/// An authentication method a user has set up.
#[uniffi::remote(Enum)]
pub enum AuthMethod {
    /// A password.
    Password,
    /// A passkey (passwordless).
    Passkey,
    /// An external identity provider link.
    Idp,
    /// TOTP (authenticator app).
    Totp,
    /// A security key (U2F).
    U2f,
    /// One-time password by SMS.
    OtpSms,
    /// One-time password by email.
    OtpEmail,
    /// Recovery codes.
    RecoveryCodes,
}

/// Whether `method` is a second factor (asked for after the password).
#[uniffi::export]
pub fn auth_method_is_second_factor(method: AuthMethod) -> bool {
    method.is_second_factor()
}

/// A registered security key.
#[uniffi::remote(Record)]
pub struct SecurityKey {
    /// Its id (for [`MfaClient::remove_u2f`]).
    pub id: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Whether its registration was completed.
    pub ready: bool,
}

/// A TOTP registration: show `uri` as a QR code (or `secret` for typing),
/// then [`MfaClient::verify_totp`] with a code from the app. Both are the
/// user's own secret: show them, never log them. `Debug` (Kotlin's
/// `toString`, Swift's description) never shows them.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct TotpEnrollment {
    /// The `otpauth://` URI (it holds the secret).
    pub uri: String,
    /// The shared secret (base32).
    pub secret: String,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("uri", &"[redacted]")
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl From<zitadel_sdk::flows::mfa::TotpEnrollment> for TotpEnrollment {
    fn from(e: zitadel_sdk::flows::mfa::TotpEnrollment) -> Self {
        TotpEnrollment {
            uri: e.uri.expose().to_owned(),
            secret: e.secret.expose().to_owned(),
        }
    }
}

/// Second factors of the signed-in user.
#[derive(Debug, uniffi::Object)]
pub struct MfaClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// Second factors: TOTP, OTP by SMS and email, security keys, recovery codes.
    pub fn mfa(&self) -> Arc<MfaClient> {
        Arc::new(MfaClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl MfaClient {
    /// The authentication methods the user has set up.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn methods(&self) -> Result<Vec<AuthMethod>, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().methods().await }).await
    }

    /// Starts a TOTP registration.
    ///
    /// # Errors
    /// `AlreadyExists` when TOTP is set up already.
    pub async fn add_totp(&self) -> Result<TotpEnrollment, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().add_totp().await })
            .await
            .map(TotpEnrollment::from)
    }

    /// Completes the TOTP registration with a six-digit code from the app.
    ///
    /// # Errors
    /// `InvalidInput` for something else than six digits; `WrongCode`;
    /// `FailedPrecondition` when no registration is pending.
    pub async fn verify_totp(&self, code: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().verify_totp(&code).await }).await
    }

    /// Removes TOTP.
    ///
    /// # Errors
    /// `NotFound`/`FailedPrecondition` when there is none.
    pub async fn remove_totp(&self) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().remove_totp().await }).await
    }

    /// Adds OTP by SMS (the phone must be verified).
    ///
    /// # Errors
    /// `FailedPrecondition` when the phone is not verified; `AlreadyExists`.
    pub async fn add_otp_sms(&self) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().add_otp_sms().await }).await
    }

    /// Removes OTP by SMS.
    ///
    /// # Errors
    /// When there is none.
    pub async fn remove_otp_sms(&self) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().remove_otp_sms().await }).await
    }

    /// Adds OTP by email (the email must be verified).
    ///
    /// # Errors
    /// `FailedPrecondition` when the email is not verified; `AlreadyExists`.
    pub async fn add_otp_email(&self) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().add_otp_email().await }).await
    }

    /// Removes OTP by email.
    ///
    /// # Errors
    /// When there is none.
    pub async fn remove_otp_email(&self) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().remove_otp_email().await }).await
    }

    /// The user's security keys (U2F).
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn security_keys(&self) -> Result<Vec<SecurityKey>, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().security_keys().await }).await
    }

    /// Registers a security key named `name` (U2F: a second factor) with
    /// `authenticator`. A registration it does not finish is removed again.
    ///
    /// # Errors
    /// As [`PasskeysClient::register`](super::passkeys::PasskeysClient::register).
    pub async fn add_u2f(
        &self,
        authenticator: Arc<dyn PasskeyAuthenticator>,
        name: String,
    ) -> Result<SecurityKey, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.mfa()
                .add_u2f(&AuthenticatorAdapter(authenticator), &name)
                .await
        })
        .await
    }

    /// Removes a security key.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn remove_u2f(&self, key_id: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().remove_u2f(&key_id).await }).await
    }

    /// Generates `count` (1–50) recovery codes, replacing earlier ones. Show
    /// them once (they are not readable again); never log them.
    ///
    /// # Errors
    /// `InvalidInput` for a count outside 1–50.
    pub async fn generate_recovery_codes(&self, count: u32) -> Result<Vec<String>, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.mfa()
                .generate_recovery_codes(count)
                .await
                .map(|codes| codes.into_iter().map(|s| s.expose().to_owned()).collect())
        })
        .await
    }

    /// Removes the recovery codes.
    ///
    /// # Errors
    /// When there are none.
    pub async fn remove_recovery_codes(&self) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.mfa().remove_recovery_codes().await }).await
    }
}

/// No `Debug`: it holds a one-time code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeArg {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArg {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArg {
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountArg {
    count: u32,
}

/// The C calls `mfa.*`: `methods` → `["password","totp",…]`; `add_totp` →
/// `{"uri","secret"}`; `verify_totp` `{"code"}`; `remove_totp`;
/// `add_otp_sms`, `remove_otp_sms`, `add_otp_email`, `remove_otp_email`;
/// `security_keys` → `[{"id","name","ready"}]`; `add_u2f` `{"name"}` (with
/// the software authenticator in the client's store: feature
/// `software-authenticator`, else `ZID_ERR_MISCONFIGURED`); `remove_u2f`
/// `{"id"}`; `generate_recovery_codes` `{"count"}` → `["code",…]`;
/// `remove_recovery_codes`.
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let m = core.mfa();
    Ok(match name {
        "methods" => Box::pin(async move { json(m.methods().await?) }),
        "add_totp" => Box::pin(async move { json(m.add_totp().await?) }),
        "verify_totp" => {
            let c: CodeArg = args(a)?;
            Box::pin(async move { done(m.verify_totp(&c.code).await?) })
        }
        "remove_totp" => Box::pin(async move { done(m.remove_totp().await?) }),
        "add_otp_sms" => Box::pin(async move { done(m.add_otp_sms().await?) }),
        "remove_otp_sms" => Box::pin(async move { done(m.remove_otp_sms().await?) }),
        "add_otp_email" => Box::pin(async move { done(m.add_otp_email().await?) }),
        "remove_otp_email" => Box::pin(async move { done(m.remove_otp_email().await?) }),
        "security_keys" => Box::pin(async move { json(m.security_keys().await?) }),
        "add_u2f" => {
            let n: NameArg = args(a)?;
            let auth = c_authenticator(&core)?;
            Box::pin(async move { json(m.add_u2f(&*auth, &n.name).await?) })
        }
        "remove_u2f" => {
            let i: IdArg = args(a)?;
            Box::pin(async move { done(m.remove_u2f(&i.id).await?) })
        }
        "generate_recovery_codes" => {
            let c: CountArg = args(a)?;
            Box::pin(async move { json(m.generate_recovery_codes(c.count).await?) })
        }
        "remove_recovery_codes" => Box::pin(async move { done(m.remove_recovery_codes().await?) }),
        _ => return Err(unknown_method("mfa", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_totp_enrollment_is_returned_but_never_in_debug() {
        let e = TotpEnrollment::from(zitadel_sdk::flows::mfa::TotpEnrollment {
            uri: zitadel_sdk::Secret::new("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"),
            secret: zitadel_sdk::Secret::new("JBSWY3DPEHPK3PXP"),
        });
        assert_eq!(e.secret, "JBSWY3DPEHPK3PXP");
        assert!(e.uri.starts_with("otpauth://"));
        let debug = format!("{e:?}");
        assert!(!debug.contains("JBSWY3DPEHPK3PXP"), "{debug}");
    }

    #[test]
    fn second_factors_are_told_apart() {
        assert!(auth_method_is_second_factor(AuthMethod::Totp));
        assert!(!auth_method_is_second_factor(AuthMethod::Password));
    }

    #[test]
    fn bad_mfa_arguments_are_invalid_input_before_any_request() {
        let Ok(core) = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() else {
            panic!("a loopback client builds");
        };
        for (m, a) in [
            ("verify_totp", json!({})),
            ("verify_totp", json!({"code": 123456})),
            ("remove_u2f", json!({"key": "k"})),
            ("generate_recovery_codes", json!({"count": -1})),
            ("generate_recovery_codes", json!({"count": "ten"})),
            ("add_u2f", json!({})),
            ("nope", json!({})),
        ] {
            let e = c_call(core.clone(), m, a).err();
            assert_eq!(e.map(|e| e.code()), Some(3), "{m}");
        }
    }

    #[test]
    fn add_u2f_in_c_needs_the_software_authenticator_feature() {
        let Ok(core) = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() else {
            panic!("a loopback client builds");
        };
        let r = c_call(core, "add_u2f", json!({"name": "key"}));
        if cfg!(feature = "software-authenticator") {
            assert!(r.is_ok());
        } else {
            assert_eq!(r.err().map(|e| e.code()), Some(7));
        }
    }
}
