//! WebAuthn ceremonies (U2F security keys and passkeys) through `webauthn-rs`.
//!
//! The relying party is the issuer: RP ID = the issuer's host, origin = the
//! issuer URL on any port. Registration and authentication states and the
//! verified credentials are kept as JSON values in the model so that the
//! state stays plain serde data.

use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticatorAttachment, CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    SecurityKey, SecurityKeyAuthentication, SecurityKeyRegistration, Url, Uuid, Webauthn,
    WebauthnBuilder,
};

use crate::error::{ApiError, GrpcCode};
use crate::model::{Session, State as Model, UserKind, WebAuthnKind};

/// The relying party of an issuer URL.
pub(crate) struct RelyingParty {
    webauthn: Webauthn,
}

fn internal(id: &'static str, message: &str) -> ApiError {
    ApiError::new(GrpcCode::Internal, id, message)
}

impl RelyingParty {
    /// The relying party for `issuer`; `domain` (the RP ID a request asks
    /// for) must be empty or the issuer's host.
    pub(crate) fn new(issuer: &str, domain: &str) -> Result<Self, ApiError> {
        let origin = Url::parse(issuer)
            .map_err(|_| internal("WEBAU-UX9ta", "Invalid WebAuthn server config"))?;
        let rp_id = origin.host_str().unwrap_or("localhost").to_owned();
        if !domain.is_empty() && domain != rp_id {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "EMU-WEBA01",
                "The domain must be the issuer's host",
            ));
        }
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .map(|b| b.allow_any_port(true).rp_name("ZITADEL"))
            .and_then(WebauthnBuilder::build)
            .map_err(|_| internal("WEBAU-UX9ta", "Invalid WebAuthn server config"))?;
        Ok(Self { webauthn })
    }

    /// Starts a registration. Returns the creation options (`{"publicKey":
    /// …}`) and the state to keep until [`Self::finish_registration`].
    pub(crate) fn start_registration(
        &self,
        kind: WebAuthnKind,
        user_id: &str,
        user_name: &str,
        display_name: &str,
        existing: &[Value],
        attachment: Option<AuthenticatorAttachment>,
    ) -> Result<(Value, Value), ApiError> {
        let exclude: Vec<CredentialID> = existing
            .iter()
            .filter_map(|c| credential_id(kind, c))
            .collect();
        let exclude = (!exclude.is_empty()).then_some(exclude);
        let uuid = user_uuid(user_id);
        let display = if display_name.is_empty() {
            user_name
        } else {
            display_name
        };
        let failed = || internal("WEBAU-bM8sd", "Could not start the WebAuthn registration");
        let (mut options, state) = match kind {
            WebAuthnKind::U2f => {
                let (ccr, state) = self
                    .webauthn
                    .start_securitykey_registration(
                        uuid, user_name, display, exclude, None, attachment,
                    )
                    .map_err(|_| failed())?;
                (to_value(&ccr)?, to_value(&state)?)
            }
            WebAuthnKind::Passkey => {
                let (ccr, state) = self
                    .webauthn
                    .start_passkey_registration(uuid, user_name, display, exclude)
                    .map_err(|_| failed())?;
                (to_value(&ccr)?, to_value(&state)?)
            }
        };
        if kind == WebAuthnKind::U2f
            && let Some(ext) = options
                .pointer_mut("/publicKey/extensions")
                .and_then(Value::as_object_mut)
        {
            // webauthn-rs asks security keys for credProtect "UV required"
            // (not enforced) together with userVerification "preferred";
            // browsers refuse that combination, and ZITADEL sends no
            // credProtect. The registration state does not enforce it.
            ext.remove("credentialProtectionPolicy");
            ext.remove("enforceCredentialProtectionPolicy");
        }
        if kind == WebAuthnKind::Passkey
            && let Some(sel) = options
                .pointer_mut("/publicKey/authenticatorSelection")
                .and_then(Value::as_object_mut)
        {
            // As ZITADEL: passkeys are discoverable credentials, so that a
            // username-less login can find them. The state does not check it.
            sel.insert("residentKey".into(), Value::from("required"));
            sel.insert("requireResidentKey".into(), Value::from(true));
        }
        if let Some(a) = attachment {
            let name = match a {
                AuthenticatorAttachment::Platform => "platform",
                AuthenticatorAttachment::CrossPlatform => "cross-platform",
            };
            if let Some(sel) = options
                .pointer_mut("/publicKey/authenticatorSelection")
                .and_then(Value::as_object_mut)
            {
                sel.insert("authenticatorAttachment".into(), Value::from(name));
            }
        }
        Ok((options, state))
    }

    /// Verifies the browser's `PublicKeyCredential` against the registration
    /// state; returns the credential to store.
    pub(crate) fn finish_registration(
        &self,
        kind: WebAuthnKind,
        state: &Value,
        credential: &Value,
    ) -> Result<Value, ApiError> {
        let reg: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|_| internal("WEBAU-sEr8c", "Could not parse the credential"))?;
        let failed = || internal("WEBAU-3Vb9s", "Could not create the credential");
        match kind {
            WebAuthnKind::U2f => {
                let state: SecurityKeyRegistration = from_value(state)?;
                let key = self
                    .webauthn
                    .finish_securitykey_registration(&reg, &state)
                    .map_err(|_| failed())?;
                to_value(&key)
            }
            WebAuthnKind::Passkey => {
                let state: PasskeyRegistration = from_value(state)?;
                let key = self
                    .webauthn
                    .finish_passkey_registration(&reg, &state)
                    .map_err(|_| failed())?;
                to_value(&key)
            }
        }
    }

    /// Starts an authentication with the user's credentials of one kind.
    /// Returns the request options (`{"publicKey": …}`) and the state.
    pub(crate) fn start_authentication(
        &self,
        kind: WebAuthnKind,
        credentials: &[Value],
    ) -> Result<(Value, Value), ApiError> {
        let failed = || internal("WEBAU-4G8sw", "Could not start the WebAuthn login");
        match kind {
            WebAuthnKind::U2f => {
                let keys: Vec<SecurityKey> = credentials
                    .iter()
                    .map(from_value)
                    .collect::<Result<_, _>>()?;
                let (rcr, state) = self
                    .webauthn
                    .start_securitykey_authentication(&keys)
                    .map_err(|_| failed())?;
                Ok((to_value(&rcr)?, to_value(&state)?))
            }
            WebAuthnKind::Passkey => {
                let keys: Vec<Passkey> = credentials
                    .iter()
                    .map(from_value)
                    .collect::<Result<_, _>>()?;
                let (rcr, state) = self
                    .webauthn
                    .start_passkey_authentication(&keys)
                    .map_err(|_| failed())?;
                Ok((to_value(&rcr)?, to_value(&state)?))
            }
        }
    }

    /// Verifies an assertion. Returns the id (base64url) of the credential
    /// used, whether the user was verified, and the authentication result
    /// to update the stored credential with.
    pub(crate) fn finish_authentication(
        &self,
        kind: WebAuthnKind,
        state: &Value,
        assertion: &Value,
    ) -> Result<Assertion, ApiError> {
        let cred: PublicKeyCredential = serde_json::from_value(assertion.clone())
            .map_err(|_| internal("WEBAU-ADgv4", "Could not validate the login credentials"))?;
        let failed = || internal("WEBAU-3M9si", "Could not validate the login credentials");
        let result = match kind {
            WebAuthnKind::U2f => {
                let state: SecurityKeyAuthentication = from_value(state)?;
                self.webauthn
                    .finish_securitykey_authentication(&cred, &state)
                    .map_err(|_| failed())?
            }
            WebAuthnKind::Passkey => {
                let state: PasskeyAuthentication = from_value(state)?;
                self.webauthn
                    .finish_passkey_authentication(&cred, &state)
                    .map_err(|_| failed())?
            }
        };
        Ok(Assertion {
            user_verified: result.user_verified(),
            result,
        })
    }
}

impl RelyingParty {
    /// Starts a username-less passkey login (empty `allowCredentials`).
    /// Returns the request options (`{"publicKey": …}`) and the state.
    pub(crate) fn start_discoverable(&self) -> Result<(Value, Value), ApiError> {
        let (rcr, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|_| internal("WEBAU-4G8sw", "Could not start the WebAuthn login"))?;
        let mut options = to_value(&rcr)?;
        if let Some(o) = options.as_object_mut() {
            // The hosted page asks with a button, not through autofill.
            o.remove("mediation");
        }
        Ok((options, to_value(&state)?))
    }

    /// Verifies a username-less passkey assertion: finds the user by the
    /// assertion's user handle and checks it against that user's passkeys,
    /// updating the credential's counter. Returns the user id and whether
    /// the user was verified.
    pub(crate) fn finish_discoverable(
        &self,
        model: &mut Model,
        state: &Value,
        assertion: &Value,
    ) -> Result<(String, bool), ApiError> {
        let failed = || internal("WEBAU-3M9si", "Could not validate the login credentials");
        let cred: PublicKeyCredential = serde_json::from_value(assertion.clone())
            .map_err(|_| internal("WEBAU-ADgv4", "Could not validate the login credentials"))?;
        let (handle, _) = self
            .webauthn
            .identify_discoverable_authentication(&cred)
            .map_err(|_| failed())?;
        let user = model
            .users
            .iter_mut()
            .find(|u| u.human().is_some() && user_uuid(&u.id) == handle)
            .ok_or_else(failed)?;
        let user_id = user.id.clone();
        let UserKind::Human(h) = &mut user.kind else {
            return Err(failed());
        };
        let keys: Vec<DiscoverableKey> = h
            .webauthn_credentials(WebAuthnKind::Passkey)
            .iter()
            .filter_map(|c| from_value::<Passkey>(c).ok())
            .map(|k| DiscoverableKey::from(&k))
            .collect();
        if keys.is_empty() {
            return Err(failed());
        }
        let state: DiscoverableAuthentication = from_value(state)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication(&cred, state, &keys)
            .map_err(|_| failed())?;
        let verified = Assertion {
            user_verified: result.user_verified(),
            result,
        };
        let known = h
            .webauthn
            .iter_mut()
            .filter(|t| t.kind == WebAuthnKind::Passkey)
            .filter_map(|t| t.credential.as_mut())
            .any(|c| verified.update(WebAuthnKind::Passkey, c));
        if !known {
            return Err(failed());
        }
        Ok((user_id, verified.user_verified))
    }
}

/// A verified assertion.
pub(crate) struct Assertion {
    /// Whether the authenticator verified the user (PIN, biometrics).
    pub(crate) user_verified: bool,
    result: webauthn_rs::prelude::AuthenticationResult,
}

impl Assertion {
    /// Whether the assertion was made with this stored credential; if so,
    /// updates its counter.
    pub(crate) fn update(&self, kind: WebAuthnKind, credential: &mut Value) -> bool {
        if credential_id(kind, credential).as_ref() != Some(self.result.cred_id()) {
            return false;
        }
        let updated = match kind {
            WebAuthnKind::U2f => from_value::<SecurityKey>(credential).ok().map(|mut k| {
                k.update_credential(&self.result);
                to_value(&k)
            }),
            WebAuthnKind::Passkey => from_value::<Passkey>(credential).ok().map(|mut k| {
                k.update_credential(&self.result);
                to_value(&k)
            }),
        };
        if let Some(Ok(v)) = updated {
            *credential = v;
        }
        true
    }
}

/// The credential id of a stored credential.
fn credential_id(kind: WebAuthnKind, credential: &Value) -> Option<CredentialID> {
    match kind {
        WebAuthnKind::U2f => from_value::<SecurityKey>(credential)
            .ok()
            .map(|k| k.cred_id().clone()),
        WebAuthnKind::Passkey => from_value::<Passkey>(credential)
            .ok()
            .map(|k| k.cred_id().clone()),
    }
}

/// The WebAuthn user handle of a user: a UUID derived from the user id.
fn user_uuid(user_id: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(user_id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|_| internal("WEBAU-2M0s9", "WebAuthn marshal error"))
}

fn from_value<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, ApiError> {
    serde_json::from_value(v.clone()).map_err(|_| internal("WEBAU-2M0s9", "WebAuthn marshal error"))
}

/// Starts a WebAuthn login on a session with the user's credentials of
/// `kind`; returns the request options (`{"publicKey": …}`).
pub(crate) fn begin_login(
    model: &Model,
    session: &mut Session,
    issuer: &str,
    domain: &str,
    kind: WebAuthnKind,
) -> Result<Value, ApiError> {
    let rp = RelyingParty::new(issuer, domain)?;
    let user = model.user(&session.user_id).ok_or_else(|| {
        ApiError::new(
            GrpcCode::InvalidArgument,
            "EMU-SESS04",
            "A user check is required",
        )
    })?;
    let creds = user
        .human()
        .map(|h| h.webauthn_credentials(kind))
        .unwrap_or_default();
    if creds.is_empty() {
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "COMMAND-dsaf3",
            "No WebAuthN tokens set up",
        ));
    }
    let (options, state) = rp.start_authentication(kind, &creds)?;
    session.webauthn.challenge = Some((kind, state));
    Ok(options)
}

/// Checks an assertion against the session's challenge and records the
/// factor. Failures do not count towards the lockout (ZITADEL's lockout
/// policy has no WebAuthn limit).
pub(crate) fn finish_login(
    model: &mut Model,
    session: &mut Session,
    issuer: &str,
    assertion: &Value,
) -> Result<(), ApiError> {
    let Some((kind, state)) = session.webauthn.challenge.clone() else {
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "COMMAND-Sfgj2",
            "WebAuthN challenge not requested",
        ));
    };
    let rp = RelyingParty::new(issuer, "")?;
    let verified = rp.finish_authentication(kind, &state, assertion)?;
    let known = model
        .users
        .iter_mut()
        .find(|u| u.id == session.user_id)
        .and_then(|u| match &mut u.kind {
            UserKind::Human(h) => Some(h),
            UserKind::Machine(_) => None,
        })
        .is_some_and(|h| {
            h.webauthn
                .iter_mut()
                .filter(|t| t.kind == kind)
                .filter_map(|t| t.credential.as_mut())
                .any(|c| verified.update(kind, c))
        });
    if !known {
        return Err(internal(
            "WEBAU-3M9si",
            "Could not validate the login credentials",
        ));
    }
    let t = crate::util::now();
    session.webauthn.challenge = None;
    session.webauthn.verified_at = Some(t);
    session.webauthn.user_verified = verified.user_verified;
    session.webauthn.passkey = kind == WebAuthnKind::Passkey;
    session.changed = t;
    Ok(())
}
