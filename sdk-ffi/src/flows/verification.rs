//! The signed-in user's email address and phone number, verified with
//! codes: [`EmailClient`] and [`PhoneClient`], from
//! [`ZitadelClient::email`](crate::ZitadelClient::email) and
//! [`ZitadelClient::phone`](crate::ZitadelClient::phone).

use crate::c::calls::{CallFuture, args, done, json, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::flows::registration::CodeDeliveryArg;
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use zitadel_sdk::Secret;
use zitadel_sdk::flows::verification::CodeDelivery;

/// How a verification code reaches the user.
#[uniffi::remote(Enum)]
pub enum CodeDelivery {
    /// ZITADEL sends it (email or SMS).
    Send,
    /// ZITADEL sends an email with a link built from this template
    /// (placeholders `{{.UserID}}`, `{{.OrgID}}`, `{{.Code}}`); for a phone
    /// number the same as `Send`.
    SendWithUrl(String),
    /// ZITADEL returns the code to the app, which delivers it itself.
    Return,
}

/// A returned code as text for the app (the caller asked for it).
fn exposed(code: Option<Secret>) -> Option<String> {
    code.map(|c| c.expose().to_owned())
}

/// The signed-in user's email address.
#[derive(Debug, uniffi::Object)]
pub struct EmailClient {
    core: zitadel_sdk::Client,
}

/// The signed-in user's phone number.
#[derive(Debug, uniffi::Object)]
pub struct PhoneClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// The signed-in user's email address and its verification.
    pub fn email(&self) -> Arc<EmailClient> {
        Arc::new(EmailClient {
            core: self.core.clone(),
        })
    }

    /// The signed-in user's phone number and its verification.
    pub fn phone(&self) -> Arc<PhoneClient> {
        Arc::new(PhoneClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl EmailClient {
    /// Changes the email address; it stays unverified until
    /// [`verify`](Self::verify). Returns the code with
    /// [`CodeDelivery::Return`] (a secret: never log it), else `null`.
    ///
    /// # Errors
    /// `InvalidInput` for something that is not an email address (checked
    /// first); `NotSignedIn`; server errors.
    pub async fn set(
        &self,
        address: String,
        delivery: CodeDelivery,
    ) -> Result<Option<String>, FfiError> {
        let c = self.core.clone();
        run(
            None,
            async move { c.email().set(&address, &delivery).await },
        )
        .await
        .map(exposed)
    }

    /// Verifies the email address with the code the user received.
    ///
    /// # Errors
    /// `WrongCode`, `CodeExpired`; `FailedPrecondition` when nothing is to
    /// be verified; `InvalidInput` for an empty code.
    pub async fn verify(&self, code: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.email().verify(&code).await }).await
    }

    /// Sends (or returns) a new code for the pending verification.
    ///
    /// # Errors
    /// `FailedPrecondition` when no verification is pending (already verified).
    pub async fn resend(&self, delivery: CodeDelivery) -> Result<Option<String>, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.email().resend(&delivery).await })
            .await
            .map(exposed)
    }
}

#[uniffi::export]
impl PhoneClient {
    /// Sets the phone number (E.164, e.g. `+41791234567`; spaces, dashes and
    /// parentheses are dropped); it stays unverified until
    /// [`verify`](Self::verify). Returns the code with [`CodeDelivery::Return`].
    ///
    /// # Errors
    /// `InvalidInput` for a number that is not `+` and digits (checked
    /// first); `NotSignedIn`; server errors.
    pub async fn set(
        &self,
        number: String,
        delivery: CodeDelivery,
    ) -> Result<Option<String>, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.phone().set(&number, &delivery).await })
            .await
            .map(exposed)
    }

    /// Verifies the phone number with the code the user received by SMS.
    ///
    /// # Errors
    /// `WrongCode`, `CodeExpired`; `FailedPrecondition` when nothing is pending.
    pub async fn verify(&self, code: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.phone().verify(&code).await }).await
    }

    /// Sends (or returns) a new code for the pending verification.
    ///
    /// # Errors
    /// `FailedPrecondition` when no verification is pending.
    pub async fn resend(&self, delivery: CodeDelivery) -> Result<Option<String>, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.phone().resend(&delivery).await })
            .await
            .map(exposed)
    }

    /// Removes the phone number (and with it OTP by SMS).
    ///
    /// # Errors
    /// `NotFound` or `FailedPrecondition` when there is none; server errors.
    pub async fn remove(&self) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move { c.phone().remove().await }).await
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetArgs {
    #[serde(alias = "address", alias = "number")]
    value: String,
    #[serde(default)]
    delivery: CodeDeliveryArg,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeArg {
    code: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResendArgs {
    #[serde(default)]
    delivery: CodeDeliveryArg,
}

/// The C calls `email.*`: `set` `{"address", "delivery"?}` → the returned
/// code or `null`; `verify` `{"code"}`; `resend` `{"delivery"?}` → the code
/// or `null`. `delivery` is `"send"` (default), `"return"` or
/// `{"send_with_url": template}`.
pub(crate) fn c_call_email(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let e = core.email();
    Ok(match name {
        "set" => {
            let s: SetArgs = args(a)?;
            let d = CodeDelivery::from(s.delivery);
            Box::pin(async move { json(e.set(&s.value, &d).await?) })
        }
        "verify" => {
            let c: CodeArg = args(a)?;
            Box::pin(async move { done(e.verify(&c.code).await?) })
        }
        "resend" => {
            let r: ResendArgs = args(a)?;
            let d = CodeDelivery::from(r.delivery);
            Box::pin(async move { json(e.resend(&d).await?) })
        }
        _ => return Err(unknown_method("email", name)),
    })
}

/// The C calls `phone.*`: `set` `{"number", "delivery"?}` → the returned
/// code or `null`; `verify` `{"code"}`; `resend` `{"delivery"?}`; `remove`.
pub(crate) fn c_call_phone(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let p = core.phone();
    Ok(match name {
        "set" => {
            let s: SetArgs = args(a)?;
            let d = CodeDelivery::from(s.delivery);
            Box::pin(async move { json(p.set(&s.value, &d).await?) })
        }
        "verify" => {
            let c: CodeArg = args(a)?;
            Box::pin(async move { done(p.verify(&c.code).await?) })
        }
        "resend" => {
            let r: ResendArgs = args(a)?;
            let d = CodeDelivery::from(r.delivery);
            Box::pin(async move { json(p.resend(&d).await?) })
        }
        "remove" => Box::pin(async move { done(p.remove().await?) }),
        _ => return Err(unknown_method("phone", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delivery_json_maps_to_the_core_delivery() {
        let d = |v| args::<ResendArgs>(v).map(|r| CodeDelivery::from(r.delivery));
        assert_eq!(d(json!({})).ok(), Some(CodeDelivery::Send));
        assert_eq!(
            d(json!({"delivery": "return"})).ok(),
            Some(CodeDelivery::Return)
        );
        assert_eq!(
            d(json!({"delivery": {"send_with_url": "https://a/{{.Code}}"}})).ok(),
            Some(CodeDelivery::SendWithUrl("https://a/{{.Code}}".into()))
        );
        for bad in [
            json!({"delivery": "carrier pigeon"}),
            json!({"delivery": 1}),
            json!({"other": 1}),
        ] {
            assert_eq!(d(bad).err().map(|e| e.code()), Some(3));
        }
    }

    #[test]
    fn set_takes_the_address_or_number_and_refuses_a_missing_one() {
        let s: Option<SetArgs> = args(json!({"address": "a@b.example"})).ok();
        assert_eq!(s.map(|s| s.value).as_deref(), Some("a@b.example"));
        let s: Option<SetArgs> = args(json!({"number": "+41790000000", "delivery": "return"})).ok();
        assert!(s.is_some_and(|s| s.value == "+41790000000"));
        assert!(args::<SetArgs>(json!({"delivery": "send"})).is_err());
        assert!(args::<CodeArg>(json!({"code": 123456})).is_err());
    }
}
