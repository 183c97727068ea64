//! Email and phone of the signed-in user: set, verify with a code, resend,
//! remove (users v2: SetEmail, VerifyEmail, ResendEmailCode, SetPhone,
//! VerifyPhone, ResendPhoneCode, RemovePhone).

use crate::Client;
use crate::api::Auth;
use crate::error::{Error, Result};
use crate::secret::Secret;
use reqwest::Method;
use serde_json::{Value, json};

/// How a verification code reaches the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CodeDelivery {
    /// ZITADEL sends it (email or SMS); an email may link to `url_template`
    /// (placeholders `{{.UserID}}`, `{{.OrgID}}`, `{{.Code}}`).
    #[default]
    Send,
    /// ZITADEL sends an email with a link built from this template.
    SendWithUrl(String),
    /// ZITADEL returns the code to the caller, which delivers it itself.
    Return,
}

impl CodeDelivery {
    /// The `sendCode` / `returnCode` member of the request.
    pub(crate) fn member(&self, with_url: bool) -> (&'static str, Value) {
        match self {
            CodeDelivery::Send => ("sendCode", json!({})),
            CodeDelivery::SendWithUrl(t) if with_url => ("sendCode", json!({"urlTemplate": t})),
            CodeDelivery::SendWithUrl(_) => ("sendCode", json!({})),
            CodeDelivery::Return => ("returnCode", json!({})),
        }
    }
}

/// A code ZITADEL returned (with [`CodeDelivery::Return`]).
pub(crate) fn returned_code(v: &Value, key: &str) -> Option<Secret> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(Secret::new)
}

fn check_code(code: &str) -> Result<&str> {
    let code = code.trim();
    if code.is_empty() || code.len() > 64 {
        return Err(Error::input("the code is empty or too long"));
    }
    Ok(code)
}

/// The signed-in user's email address. From [`Client::email`].
#[derive(Clone, Debug)]
pub struct EmailClient(pub(crate) Client);

impl EmailClient {
    /// Changes the email address; it is unverified until [`verify`](Self::verify).
    /// Returns the code with [`CodeDelivery::Return`].
    ///
    /// # Errors
    /// An invalid address (checked locally first); not signed in; server errors.
    pub async fn set(&self, address: &str, delivery: &CodeDelivery) -> Result<Option<Secret>> {
        let address = address.trim();
        if !looks_like_email(address) {
            return Err(Error::input("this is not an email address"));
        }
        let id = self.0.my_id().await?;
        let (k, v) = delivery.member(true);
        own_code_request(
            &self.0,
            &format!("/v2/users/{id}/email"),
            json!({"email": address, k: v}),
        )
        .await
    }

    /// Verifies the email address with the code the user received.
    ///
    /// # Errors
    /// `WrongCode`, `CodeExpired`; `FailedPrecondition` when nothing is to be verified.
    pub async fn verify(&self, code: &str) -> Result<()> {
        let code = check_code(code)?;
        let id = self.0.my_id().await?;
        verify_email(&self.0, Auth::User, &id, code).await
    }

    /// Sends (or returns) a new code for the pending verification.
    ///
    /// # Errors
    /// `FailedPrecondition` when no verification is pending (already verified).
    pub async fn resend(&self, delivery: &CodeDelivery) -> Result<Option<Secret>> {
        let id = self.0.my_id().await?;
        resend_email(&self.0, Auth::User, &id, delivery).await
    }
}

/// VerifyEmail for user `id` (a path segment) with `auth`.
pub(crate) async fn verify_email(client: &Client, auth: Auth, id: &str, code: &str) -> Result<()> {
    let _: Value = client
        .api(
            auth,
            Method::POST,
            &format!("/v2/users/{id}/email/verify"),
            Some(json!({"verificationCode": code})),
        )
        .await?;
    Ok(())
}

/// ResendEmailCode for user `id` (a path segment) with `auth`.
pub(crate) async fn resend_email(
    client: &Client,
    auth: Auth,
    id: &str,
    delivery: &CodeDelivery,
) -> Result<Option<Secret>> {
    let (k, v) = delivery.member(true);
    let r: Value = client
        .api(
            auth,
            Method::POST,
            &format!("/v2/users/{id}/email/resend"),
            Some(json!({ k: v })),
        )
        .await?;
    Ok(returned_code(&r, "verificationCode"))
}

/// A POST with the user's own token whose answer may carry a returned code.
async fn own_code_request(client: &Client, path: &str, body: Value) -> Result<Option<Secret>> {
    let r: Value = client
        .api(Auth::User, Method::POST, path, Some(body))
        .await?;
    Ok(returned_code(&r, "verificationCode"))
}

/// A cheap shape check (one `@`, a dot in the domain, no spaces); the
/// server has the last word.
pub(crate) fn looks_like_email(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !a.contains(char::is_whitespace)
        && !domain.contains('@')
        && a.len() <= 200
}

/// The signed-in user's phone number. From [`Client::phone`].
#[derive(Clone, Debug)]
pub struct PhoneClient(pub(crate) Client);

impl PhoneClient {
    /// Sets the phone number (E.164, e.g. `+41791234567`); it is unverified
    /// until [`verify`](Self::verify). Returns the code with [`CodeDelivery::Return`].
    ///
    /// # Errors
    /// A number that is not `+` and digits (checked first); server errors.
    pub async fn set(&self, number: &str, delivery: &CodeDelivery) -> Result<Option<Secret>> {
        let number: String = number.chars().filter(|c| !" -()".contains(*c)).collect();
        if !(number.starts_with('+')
            && number.len() > 4
            && number.len() <= 20
            && number[1..].chars().all(|c| c.is_ascii_digit()))
        {
            return Err(Error::input(
                "a phone number is + and the digits with the country code, e.g. +41791234567",
            ));
        }
        let id = self.0.my_id().await?;
        let (k, v) = delivery.member(false);
        own_code_request(
            &self.0,
            &format!("/v2/users/{id}/phone"),
            json!({"phone": number, k: v}),
        )
        .await
    }

    /// Verifies the phone number with the code the user received by SMS.
    ///
    /// # Errors
    /// `WrongCode`, `CodeExpired`; `FailedPrecondition` when nothing is pending.
    pub async fn verify(&self, code: &str) -> Result<()> {
        let code = check_code(code)?;
        let id = self.0.my_id().await?;
        let _: Value = self
            .0
            .api(
                Auth::User,
                Method::POST,
                &format!("/v2/users/{id}/phone/verify"),
                Some(json!({"verificationCode": code})),
            )
            .await?;
        Ok(())
    }

    /// Sends (or returns) a new code for the pending verification.
    ///
    /// # Errors
    /// `FailedPrecondition` when no verification is pending.
    pub async fn resend(&self, delivery: &CodeDelivery) -> Result<Option<Secret>> {
        let id = self.0.my_id().await?;
        let (k, v) = delivery.member(false);
        own_code_request(
            &self.0,
            &format!("/v2/users/{id}/phone/resend"),
            json!({ k: v }),
        )
        .await
    }

    /// Removes the phone number (and with it OTP by SMS).
    ///
    /// # Errors
    /// `NotFound` or `FailedPrecondition` when there is none; server errors.
    pub async fn remove(&self) -> Result<()> {
        let id = self.0.my_id().await?;
        let _: Value = self
            .0
            .api(
                Auth::User,
                Method::DELETE,
                &format!("/v2/users/{id}/phone"),
                Some(json!({})),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_shape_checked() {
        assert!(looks_like_email("a@b.example"));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.example",
            "a b@c.example",
            "a@.example",
            "a@b@c.example",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }

    #[test]
    fn code_delivery_becomes_the_proto_oneof_member() {
        assert_eq!(CodeDelivery::Return.member(true), ("returnCode", json!({})));
        assert_eq!(
            CodeDelivery::SendWithUrl("https://a/{{.Code}}".into()).member(true),
            ("sendCode", json!({"urlTemplate": "https://a/{{.Code}}"}))
        );
        assert_eq!(
            CodeDelivery::SendWithUrl("x".into()).member(false),
            ("sendCode", json!({}))
        );
    }
}
