//! Passkeys (passwordless WebAuthn) of the signed-in user: register with a
//! name, list, remove — through a [`PasskeyAuthenticator`]. Also the WebAuthn
//! plumbing the security keys of [`super::mfa`] and the passkey and U2F
//! checks of [`super::native_login`] share.
//!
//! The relying party is the issuer: its host is the RP ID (the `domain`
//! ZITADEL is sent), its origin the origin the authenticator is given.

use super::{opt, s};
use crate::Client;
use crate::api::{Auth, seg};
use crate::error::{Error, ErrorCode, Result};
use crate::platform::PasskeyAuthenticator;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A registered passkey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passkey {
    /// Its id (for [`PasskeysClient::remove`]).
    pub id: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Whether its registration was completed.
    pub ready: bool,
}

/// The signed-in user's passkeys. From [`Client::passkeys`].
#[derive(Clone, Debug)]
pub struct PasskeysClient(pub(crate) Client);

impl PasskeysClient {
    /// Registers a passkey named `name`: ZITADEL's creation options go to
    /// `authenticator`, its credential back to ZITADEL. A registration the
    /// authenticator does not finish is removed again.
    ///
    /// # Errors
    /// `InvalidInput` for an empty or over-long name; the authenticator's
    /// errors (`Cancelled` when the user declines, `AlreadyExists` when it
    /// is registered already); `InvalidInput` when ZITADEL refuses the
    /// credential; `NotSignedIn`.
    pub async fn register(
        &self,
        authenticator: &dyn PasskeyAuthenticator,
        name: &str,
    ) -> Result<Passkey> {
        let id = register(&self.0, WebAuthnKind::Passkey, authenticator, name).await?;
        Ok(Passkey {
            id,
            name: Some(name.trim().to_owned()),
            ready: true,
        })
    }

    /// The user's passkeys.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn list(&self) -> Result<Vec<Passkey>> {
        let id = self.0.my_id().await?;
        let v: Value = self
            .0
            .api(
                Auth::User,
                Method::POST,
                &format!("/v2/users/{id}/passkeys/_search"),
                Some(json!({})),
            )
            .await?;
        Ok(v.get("result")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|p| Passkey {
                        id: s(p, "id"),
                        name: opt(p, "name"),
                        ready: s(p, "state") == "AUTH_FACTOR_STATE_READY",
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Removes a passkey (the authenticator keeps its key; it no longer signs in).
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `NotSignedIn`.
    pub async fn remove(&self, passkey_id: &str) -> Result<()> {
        remove(&self.0, WebAuthnKind::Passkey, passkey_id).await
    }
}

/// Which WebAuthn credential a user API call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WebAuthnKind {
    /// A second-factor security key.
    U2f,
    /// A passwordless passkey.
    Passkey,
}

impl WebAuthnKind {
    /// The path of the user's credentials of this kind.
    fn path(self, user: &str) -> String {
        match self {
            Self::U2f => format!("/v2/users/{user}/u2f"),
            Self::Passkey => format!("/v2/users/{user}/passkeys"),
        }
    }
}

/// The RP ID (the issuer's host) and the origin (the issuer's).
fn relying_party(client: &Client) -> Result<(String, String)> {
    let issuer = &client.inner.issuer;
    let host = issuer
        .host_str()
        .ok_or_else(|| Error::config("the issuer has no host to serve as WebAuthn RP ID"))?;
    Ok((host.to_owned(), issuer.origin().ascii_serialization()))
}

/// Registers a credential of `kind` for the signed-in user; returns its id.
pub(crate) async fn register(
    client: &Client,
    kind: WebAuthnKind,
    authenticator: &dyn PasskeyAuthenticator,
    name: &str,
) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::input(
            "the name is empty or longer than 200 characters",
        ));
    }
    let me = client.my_id().await?;
    let (domain, origin) = relying_party(client)?;
    let base = kind.path(&me);
    let started: Value = client
        .api(
            Auth::User,
            Method::POST,
            &base,
            Some(json!({ "domain": domain })),
        )
        .await?;
    let (id, name_field) = match kind {
        WebAuthnKind::U2f => (s(&started, "u2fId"), "tokenName"),
        WebAuthnKind::Passkey => (s(&started, "passkeyId"), "passkeyName"),
    };
    let options = started.pointer("/publicKeyCredentialCreationOptions/publicKey");
    let (Some(options), false) = (options, id.is_empty()) else {
        return Err(Error::internal(
            "the WebAuthn registration answered without an id or creation options",
        ));
    };
    let path = format!("{base}/{}", seg(&id)?);
    let finished = async {
        let credential = authenticator.create(&options.to_string(), &origin).await?;
        let credential = host_json(&credential)?;
        client
            .api::<Value>(
                Auth::User,
                Method::POST,
                &path,
                Some(json!({"publicKeyCredential": credential, name_field: name})),
            )
            .await
    }
    .await;
    if let Err(e) = finished {
        // Leave no half-registered credential behind (best effort).
        let _ = client
            .api::<Value>(Auth::User, Method::DELETE, &path, None)
            .await;
        return Err(e);
    }
    Ok(id)
}

/// Removes the signed-in user's credential `id` of `kind`.
pub(crate) async fn remove(client: &Client, kind: WebAuthnKind, id: &str) -> Result<()> {
    let me = client.my_id().await?;
    let path = format!("{}/{}", kind.path(&me), seg(id)?);
    client
        .api::<Value>(Auth::User, Method::DELETE, &path, None)
        .await
        .map(drop)
}

/// The session challenge for a WebAuthn check: a passkey (user
/// verification required) or a security key (discouraged).
pub(crate) fn challenge(client: &Client, kind: WebAuthnKind) -> Result<Value> {
    let (domain, _) = relying_party(client)?;
    let uv = match kind {
        WebAuthnKind::Passkey => "USER_VERIFICATION_REQUIREMENT_REQUIRED",
        WebAuthnKind::U2f => "USER_VERIFICATION_REQUIREMENT_DISCOURAGED",
    };
    Ok(json!({"webAuthN": {"domain": domain, "userVerificationRequirement": uv}}))
}

/// Signs the request options of a session answer (`challenges.webAuthN`)
/// with `authenticator`; returns the session check to send.
pub(crate) async fn check(
    client: &Client,
    authenticator: &dyn PasskeyAuthenticator,
    session_answer: &Value,
) -> Result<Value> {
    let options = session_answer
        .pointer("/challenges/webAuthN/publicKeyCredentialRequestOptions/publicKey")
        .ok_or_else(|| Error::internal("the session answered without WebAuthn request options"))?;
    let (_, origin) = relying_party(client)?;
    let assertion = authenticator.get(&options.to_string(), &origin).await?;
    let assertion = host_json(&assertion)?;
    Ok(json!({"webAuthN": {"credentialAssertionData": assertion}}))
}

/// The authenticator's answer as a JSON object.
fn host_json(answer: &str) -> Result<Value> {
    serde_json::from_str::<Value>(answer)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            Error::host(
                ErrorCode::InvalidInput,
                "the authenticator answered with something other than a JSON object",
            )
        })
}
