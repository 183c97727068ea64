//! Second factors of the signed-in user: the authentication methods, TOTP,
//! OTP by SMS and email, security keys (registered through a
//! [`crate::PasskeyAuthenticator`]), recovery codes.

use super::passkeys::WebAuthnKind;
use super::s;
use crate::Client;
use crate::api::Auth;
use crate::error::{Error, Result};
use crate::secret::Secret;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An authentication method a user has set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl AuthMethod {
    pub(crate) fn from_proto(s: &str) -> Option<Self> {
        Some(match s {
            "AUTHENTICATION_METHOD_TYPE_PASSWORD" => Self::Password,
            "AUTHENTICATION_METHOD_TYPE_PASSKEY" => Self::Passkey,
            "AUTHENTICATION_METHOD_TYPE_IDP" => Self::Idp,
            "AUTHENTICATION_METHOD_TYPE_TOTP" => Self::Totp,
            "AUTHENTICATION_METHOD_TYPE_U2F" => Self::U2f,
            "AUTHENTICATION_METHOD_TYPE_OTP_SMS" => Self::OtpSms,
            "AUTHENTICATION_METHOD_TYPE_OTP_EMAIL" => Self::OtpEmail,
            "AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE" => Self::RecoveryCodes,
            _ => return None,
        })
    }

    /// Whether this is a second factor (asked for after the password).
    pub fn is_second_factor(self) -> bool {
        matches!(
            self,
            Self::Totp | Self::U2f | Self::OtpSms | Self::OtpEmail | Self::RecoveryCodes
        )
    }
}

/// ListAuthenticationMethodTypes of user `id` (a path segment).
pub(crate) async fn methods_of(client: &Client, auth: Auth, id: &str) -> Result<Vec<AuthMethod>> {
    let v: Value = client
        .api(
            auth,
            Method::GET,
            &format!("/v2/users/{id}/authentication_methods"),
            None,
        )
        .await?;
    Ok(v.get("authMethodTypes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(AuthMethod::from_proto)
                .collect()
        })
        .unwrap_or_default())
}

/// The U2F security keys of user `id` (a path segment), ready or not.
pub(crate) async fn security_keys_of(
    client: &Client,
    auth: Auth,
    id: &str,
) -> Result<Vec<SecurityKey>> {
    // The HTTP rule has no body: the filters go in the query.
    let v: Value = client
        .api_query(
            auth,
            Method::POST,
            &format!("/v2/users/{id}/authentication_factors/_search"),
            &[
                ("authFactors", "U2F"),
                ("states", "AUTH_FACTOR_STATE_READY"),
                ("states", "AUTH_FACTOR_STATE_NOT_READY"),
            ],
            None,
        )
        .await?;
    Ok(v.get("result")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| {
                    let u = f.get("u2f")?;
                    Some(SecurityKey {
                        id: s(u, "id"),
                        name: super::opt(u, "name"),
                        ready: s(f, "state") == "AUTH_FACTOR_STATE_READY",
                    })
                })
                .collect()
        })
        .unwrap_or_default())
}

/// A TOTP registration: show the URI as a QR code (or the secret for
/// typing), then [`MfaClient::verify_totp`] with a code from the app.
#[derive(Clone, Debug, Serialize)]
pub struct TotpEnrollment {
    /// The `otpauth://` URI.
    pub uri: Secret,
    /// The shared secret (base32).
    pub secret: Secret,
}

/// A registered security key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityKey {
    /// Its id (for [`MfaClient::remove_u2f`]).
    pub id: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Whether its registration was completed.
    pub ready: bool,
}

/// Second factors of the signed-in user. From [`Client::mfa`].
#[derive(Clone, Debug)]
pub struct MfaClient(pub(crate) Client);

impl MfaClient {
    /// The authentication methods the user has set up.
    ///
    /// # Errors
    /// Not signed in; server errors.
    pub async fn methods(&self) -> Result<Vec<AuthMethod>> {
        let id = self.0.my_id().await?;
        methods_of(&self.0, Auth::User, &id).await
    }

    /// Starts a TOTP registration.
    ///
    /// # Errors
    /// `AlreadyExists` when TOTP is set up already.
    pub async fn add_totp(&self) -> Result<TotpEnrollment> {
        let v = self.call(Method::POST, "totp", Some(json!({}))).await?;
        let (uri, secret) = (s(&v, "uri"), s(&v, "secret"));
        if !uri.starts_with("otpauth://") || secret.is_empty() {
            return Err(Error::internal(
                "RegisterTOTP answered without a URI or secret",
            ));
        }
        Ok(TotpEnrollment {
            uri: Secret::new(uri),
            secret: Secret::new(secret),
        })
    }

    /// Completes the TOTP registration with a code from the authenticator app.
    ///
    /// # Errors
    /// `WrongCode`; `FailedPrecondition` when no registration is pending.
    pub async fn verify_totp(&self, code: &str) -> Result<()> {
        let code = code.trim();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::input("a TOTP code has six digits"));
        }
        self.call(Method::POST, "totp/verify", Some(json!({"code": code})))
            .await
            .map(drop)
    }

    /// Removes TOTP.
    ///
    /// # Errors
    /// `NotFound`/`FailedPrecondition` when there is none.
    pub async fn remove_totp(&self) -> Result<()> {
        self.call(Method::DELETE, "totp", None).await.map(drop)
    }

    /// Adds OTP by SMS (the phone must be verified).
    ///
    /// # Errors
    /// `FailedPrecondition` when the phone is not verified; `AlreadyExists`.
    pub async fn add_otp_sms(&self) -> Result<()> {
        self.call(Method::POST, "otp_sms", Some(json!({})))
            .await
            .map(drop)
    }

    /// Removes OTP by SMS.
    ///
    /// # Errors
    /// When there is none.
    pub async fn remove_otp_sms(&self) -> Result<()> {
        self.call(Method::DELETE, "otp_sms", None).await.map(drop)
    }

    /// Adds OTP by email (the email must be verified).
    ///
    /// # Errors
    /// `FailedPrecondition` when the email is not verified; `AlreadyExists`.
    pub async fn add_otp_email(&self) -> Result<()> {
        self.call(Method::POST, "otp_email", Some(json!({})))
            .await
            .map(drop)
    }

    /// Removes OTP by email.
    ///
    /// # Errors
    /// When there is none.
    pub async fn remove_otp_email(&self) -> Result<()> {
        self.call(Method::DELETE, "otp_email", None).await.map(drop)
    }

    /// The user's security keys (U2F).
    ///
    /// # Errors
    /// Not signed in; server errors.
    pub async fn security_keys(&self) -> Result<Vec<SecurityKey>> {
        let id = self.0.my_id().await?;
        security_keys_of(&self.0, Auth::User, &id).await
    }

    /// Registers a security key named `name` (U2F: a second factor) with
    /// `authenticator`. A registration it does not finish is removed again.
    ///
    /// # Errors
    /// As [`PasskeysClient::register`](super::passkeys::PasskeysClient::register).
    pub async fn add_u2f(
        &self,
        authenticator: &dyn crate::PasskeyAuthenticator,
        name: &str,
    ) -> Result<SecurityKey> {
        let id = super::passkeys::register(&self.0, WebAuthnKind::U2f, authenticator, name).await?;
        Ok(SecurityKey {
            id,
            name: Some(name.trim().to_owned()),
            ready: true,
        })
    }

    /// Removes a security key.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn remove_u2f(&self, key_id: &str) -> Result<()> {
        super::passkeys::remove(&self.0, WebAuthnKind::U2f, key_id).await
    }

    /// Generates `count` (1–50) recovery codes, replacing earlier ones.
    /// Show them once; they are not readable again.
    ///
    /// # Errors
    /// `InvalidInput` for a count outside 1–50.
    pub async fn generate_recovery_codes(&self, count: u32) -> Result<Vec<Secret>> {
        if !(1..=50).contains(&count) {
            return Err(Error::input("generate 1 to 50 recovery codes"));
        }
        let v = self
            .call(
                Method::POST,
                "recovery_codes",
                Some(json!({"count": count})),
            )
            .await?;
        Ok(v.get("recoveryCodes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(Secret::new)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Removes the recovery codes.
    ///
    /// # Errors
    /// When there are none.
    pub async fn remove_recovery_codes(&self) -> Result<()> {
        self.call(Method::DELETE, "recovery_codes", None)
            .await
            .map(drop)
    }

    async fn call(&self, method: Method, rest: &str, body: Option<Value>) -> Result<Value> {
        let id = self.0.my_id().await?;
        self.0
            .api(Auth::User, method, &format!("/v2/users/{id}/{rest}"), body)
            .await
    }
}
