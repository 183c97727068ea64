//! Registration of new users: [`RegistrationClient`], from
//! [`ZitadelClient::registration`](crate::ZitadelClient::registration) —
//! in the system browser (the hosted form, `prompt=create`), natively for
//! login-client hosts (the rules, then [`PendingRegistration`] awaiting the
//! email code), and with an external identity provider
//! ([`IdpRegistration`]: signed in, or a [`RegistrationDraft`] to confirm).
//!
//! Mobile apps that register in a browser tab with a custom-scheme
//! redirect use [`ZitadelClient::start_login`](crate::ZitadelClient::start_login)
//! with the prompt `create` and `complete_login`, as sdk-core does.

use super::native_login::{SignedIn, used_up};
use crate::c::calls::{CallFuture, args, json, object_get, object_put, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::login::{BrowserAdapter, BrowserLauncher, CancelHandle};
use crate::runtime::run;
use crate::session::SessionInfo;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use zitadel_sdk::flows::registration as core;
use zitadel_sdk::flows::registration::{NewUser, RegistrationRules};
use zitadel_sdk::flows::settings::{LegalSettings, LoginSettings, PasswordPolicy};
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::{Error, ErrorCode};

/// What an app shows before registration: whether it is allowed, the
/// password rules and the legal links the user must accept.
#[uniffi::remote(Record)]
pub struct RegistrationRules {
    /// The login policy.
    pub login: LoginSettings,
    /// The password complexity policy.
    pub password: PasswordPolicy,
    /// Terms of service and privacy policy links (show them; the user must accept).
    pub legal: LegalSettings,
}

/// A new local account. Holds the password: do not log it.
#[uniffi::remote(Record)]
pub struct NewUser {
    /// Given name (required).
    pub given_name: String,
    /// Family name (required).
    pub family_name: String,
    /// Email address (required; it must be verified with a code).
    pub email: String,
    /// User name (default: the email address).
    #[uniffi(default = None)]
    pub username: Option<String>,
    /// Preferred language, e.g. `de`.
    #[uniffi(default = None)]
    pub preferred_language: Option<String>,
    /// The password (checked against the policy before anything is sent).
    pub password: String,
    /// The user accepted the terms of service and the privacy policy.
    /// Registration is refused without it.
    pub accepted_terms: bool,
}

/// Registration of new users.
#[derive(Debug, uniffi::Object)]
pub struct RegistrationClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// Registration of new users (browser, native, external identity provider).
    pub fn registration(&self) -> Arc<RegistrationClient> {
        Arc::new(RegistrationClient {
            core: self.core.clone(),
        })
    }
}

/// The token of an optional cancel handle, cancelled when the call is dropped.
fn cancel_token(cancel: Option<Arc<CancelHandle>>) -> zitadel_sdk::CancellationToken {
    cancel.map(|c| c.token.child_token()).unwrap_or_default()
}

#[uniffi::export]
impl RegistrationClient {
    /// Registration in the system browser with a loopback redirect: the
    /// hosted registration form (`prompt=create`) of the configured
    /// organization, ending signed in like a browser login.
    ///
    /// # Errors
    /// As [`ZitadelClient::login_with_loopback`](crate::ZitadelClient::login_with_loopback).
    pub async fn in_browser(
        &self,
        browser: Arc<dyn BrowserLauncher>,
        timeout_secs: u32,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<SessionInfo, FfiError> {
        let c = self.core.clone();
        let token = cancel_token(cancel);
        run(Some(token.clone()), async move {
            c.registration()
                .in_browser(
                    &BrowserAdapter(browser),
                    Duration::from_secs(timeout_secs.into()),
                    &token,
                )
                .await
        })
        .await
        .map(SessionInfo::from)
    }

    /// The rules of the configured organization (the instance default
    /// otherwise): whether registration is allowed, the password policy
    /// and the legal links.
    ///
    /// # Errors
    /// No login client configured; server errors.
    pub async fn rules(&self) -> Result<RegistrationRules, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.registration().rules().await }).await
    }

    /// Creates a local account and asks ZITADEL to send (or, with
    /// [`CodeDelivery::Return`], return) the email code. Continue on the
    /// returned [`PendingRegistration`].
    ///
    /// # Errors
    /// `InvalidInput` (terms not accepted, missing fields); `PasswordPolicy`
    /// with `unmet_password_rules`; `FailedPrecondition` when the policy
    /// does not allow registration; `AlreadyExists` for a taken user name.
    pub async fn register(
        &self,
        user: NewUser,
        delivery: CodeDelivery,
    ) -> Result<Arc<PendingRegistration>, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.registration().register(&user, &delivery).await
        })
        .await
        .map(|p| Arc::new(PendingRegistration::new(p)))
    }

    /// Registration with an external identity provider: opens it through
    /// `browser` (loopback redirect), then either signs in (the account is
    /// linked already) or returns a draft to show, edit and confirm with
    /// [`create_from_draft`](Self::create_from_draft).
    ///
    /// # Errors
    /// No login client; `AccessDenied` when the user cancelled at the
    /// provider; `Expired` on timeout; `Cancelled`.
    pub async fn with_idp(
        &self,
        idp_id: String,
        browser: Arc<dyn BrowserLauncher>,
        timeout_secs: u32,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<IdpRegistration, FfiError> {
        let c = self.core.clone();
        let token = cancel_token(cancel);
        run(Some(token.clone()), async move {
            c.registration()
                .with_idp(
                    &idp_id,
                    &BrowserAdapter(browser),
                    Duration::from_secs(timeout_secs.into()),
                    &token,
                )
                .await
        })
        .await
        .map(|r| match r {
            core::IdpRegistration::SignedIn(s) => IdpRegistration::Linked {
                signed_in: s.into(),
            },
            core::IdpRegistration::Draft(d) => IdpRegistration::Draft {
                draft: Arc::new(RegistrationDraft {
                    draft: std::sync::Mutex::new(d),
                }),
            },
        })
    }

    /// Creates the user from an (edited) identity-provider draft, linked
    /// to the provider account, and signs in.
    ///
    /// # Errors
    /// `InvalidInput` when the terms are not accepted or a field is missing.
    pub async fn create_from_draft(
        &self,
        draft: Arc<RegistrationDraft>,
    ) -> Result<SignedIn, FfiError> {
        let c = self.core.clone();
        let d = draft.core()?;
        run(
            None,
            async move { c.registration().create_from_draft(&d).await },
        )
        .await
        .map(SignedIn::from)
    }
}

/// What a registration through an identity provider led to.
#[derive(Debug, uniffi::Enum)]
pub enum IdpRegistration {
    /// The provider account was linked already: signed in. (Named
    /// `Linked`, not `SignedIn`, so that Kotlin's nested class does not
    /// hide the [`SignedIn`] record.)
    Linked {
        /// The sign-in.
        signed_in: SignedIn,
    },
    /// A new user: the draft to show, edit and confirm.
    Draft {
        /// The draft.
        draft: Arc<RegistrationDraft>,
    },
}

/// The editable values of a [`RegistrationDraft`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RegistrationDraftFields {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Email.
    pub email: String,
    /// User name (empty → the email).
    pub username: String,
    /// Whether the provider asserted the email as verified (read only).
    pub email_verified_by_idp: bool,
    /// Set when the user accepted the terms of service and privacy policy.
    pub accepted_terms: bool,
}

/// A registration pre-filled from an identity provider's profile; it also
/// holds the provider's intent (never shown).
#[derive(Debug, uniffi::Object)]
pub struct RegistrationDraft {
    draft: std::sync::Mutex<core::RegistrationDraft>,
}

impl RegistrationDraft {
    fn core(&self) -> Result<core::RegistrationDraft, FfiError> {
        self.draft
            .lock()
            .map(|d| d.clone())
            .map_err(|_| FfiError::internal("the draft's lock is poisoned"))
    }
}

#[uniffi::export]
impl RegistrationDraft {
    /// The identity provider's id.
    pub fn idp_id(&self) -> Result<String, FfiError> {
        self.core().map(|d| d.idp_id().to_owned())
    }

    /// The current values.
    pub fn fields(&self) -> Result<RegistrationDraftFields, FfiError> {
        let d = self.core()?;
        Ok(RegistrationDraftFields {
            given_name: d.given_name,
            family_name: d.family_name,
            email: d.email,
            username: d.username,
            email_verified_by_idp: d.email_verified_by_idp,
            accepted_terms: d.accepted_terms,
        })
    }

    /// Sets the editable values (`email_verified_by_idp` is the provider's
    /// and stays as it is).
    pub fn set_fields(&self, fields: RegistrationDraftFields) -> Result<(), FfiError> {
        let mut d = self
            .draft
            .lock()
            .map_err(|_| FfiError::internal("the draft's lock is poisoned"))?;
        d.given_name = fields.given_name;
        d.family_name = fields.family_name;
        d.email = fields.email;
        d.username = fields.username;
        d.accepted_terms = fields.accepted_terms;
        Ok(())
    }
}

/// The state of a pending registration.
#[derive(Debug)]
struct Pending {
    /// `None` once finished.
    core: Option<core::PendingRegistration>,
    /// Whether the email was verified here (finish is refused before, so
    /// that the registration is not used up by a premature finish).
    verified: bool,
}

/// A created account waiting for its email code: [`verify_email`](Self::verify_email),
/// then [`finish`](Self::finish). Holds a session token; it is never shown.
#[derive(Debug, Clone, uniffi::Object)]
pub struct PendingRegistration {
    state: Arc<Mutex<Pending>>,
    user_id: String,
}

impl PendingRegistration {
    fn new(p: core::PendingRegistration) -> Self {
        PendingRegistration {
            user_id: p.user_id().to_owned(),
            state: Arc::new(Mutex::new(Pending {
                core: Some(p),
                verified: false,
            })),
        }
    }
}

#[uniffi::export]
impl PendingRegistration {
    /// The new user's id.
    pub fn user_id(&self) -> String {
        self.user_id.clone()
    }

    /// The email code ZITADEL returned (with [`CodeDelivery::Return`]);
    /// the app delivers it to the user itself.
    ///
    /// # Errors
    /// `FailedPrecondition` after `finish`.
    pub async fn returned_email_code(&self) -> Result<Option<String>, FfiError> {
        let state = self.state.clone();
        run(None, async move {
            let g = state.lock().await;
            let p = g.core.as_ref().ok_or_else(|| used_up("registration"))?;
            Ok(p.returned_email_code().map(|s| s.expose().to_owned()))
        })
        .await
    }

    /// Verifies the email with the code the user typed.
    ///
    /// # Errors
    /// `WrongCode` (type it again); `CodeExpired` (resend).
    pub async fn verify_email(&self, code: String) -> Result<(), FfiError> {
        let state = self.state.clone();
        run(None, async move {
            let mut g = state.lock().await;
            let p = g.core.as_mut().ok_or_else(|| used_up("registration"))?;
            p.verify_email(&code).await?;
            g.verified = true;
            Ok(())
        })
        .await
    }

    /// Sends (or, with [`CodeDelivery::Return`], returns) a new email code.
    ///
    /// # Errors
    /// `FailedPrecondition` when the email is verified already.
    pub async fn resend_email_code(
        &self,
        delivery: CodeDelivery,
    ) -> Result<Option<String>, FfiError> {
        let state = self.state.clone();
        run(None, async move {
            let mut g = state.lock().await;
            let p = g.core.as_mut().ok_or_else(|| used_up("registration"))?;
            let code = p.resend_email_code(&delivery).await?;
            Ok(code.map(|s| s.expose().to_owned()))
        })
        .await
    }

    /// Signs the new user in, after the email was verified: the same
    /// signed-in session as a browser login. Works once.
    ///
    /// # Errors
    /// `FailedPrecondition` before the email is verified (the registration
    /// stays usable) and after a finish.
    pub async fn finish(&self) -> Result<SignedIn, FfiError> {
        let state = self.state.clone();
        run(None, async move {
            let mut g = state.lock().await;
            if g.core.is_some() && !g.verified {
                return Err(Error::host(
                    ErrorCode::FailedPrecondition,
                    "verify the email address before signing in",
                ));
            }
            let p = g.core.take().ok_or_else(|| used_up("registration"))?;
            p.finish().await
        })
        .await
        .map(SignedIn::from)
    }
}

/// [`CodeDelivery`] in the JSON of the C calls: `"send"` (the default),
/// `"return"` or `{"send_with_url": "<template>"}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CodeDeliveryArg {
    /// [`CodeDelivery::Send`].
    #[default]
    Send,
    /// [`CodeDelivery::SendWithUrl`].
    SendWithUrl(String),
    /// [`CodeDelivery::Return`].
    Return,
}

impl From<CodeDeliveryArg> for CodeDelivery {
    fn from(d: CodeDeliveryArg) -> Self {
        match d {
            CodeDeliveryArg::Send => CodeDelivery::Send,
            CodeDeliveryArg::SendWithUrl(t) => CodeDelivery::SendWithUrl(t),
            CodeDeliveryArg::Return => CodeDelivery::Return,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterArgs {
    user: NewUser,
    #[serde(default)]
    delivery: CodeDeliveryArg,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandleArgs {
    #[allow(dead_code)] // read by object_get
    handle: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeArgs {
    #[allow(dead_code)] // read by object_get
    handle: u64,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendArgs {
    #[allow(dead_code)] // read by object_get
    handle: u64,
    #[serde(default)]
    delivery: CodeDeliveryArg,
}

/// The edits of `registration.create_from_draft`: absent fields keep the
/// provider's values.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftArgs {
    #[allow(dead_code)] // read by object_get
    handle: u64,
    given_name: Option<String>,
    family_name: Option<String>,
    email: Option<String>,
    username: Option<String>,
    #[serde(default)]
    accepted_terms: bool,
}

/// A draft from an identity provider, as C gets it: stored as an object,
/// its fields beside the handle.
fn idp_registration_json(r: core::IdpRegistration) -> Result<Value, FfiError> {
    match r {
        core::IdpRegistration::SignedIn(s) => {
            Ok(serde_json::json!({"signed_in": SignedIn::from(s).to_json_value()}))
        }
        core::IdpRegistration::Draft(d) => {
            let mut fields = json(&d)?;
            let handle = object_put(d)?;
            if let Some(f) = fields.as_object_mut() {
                f.insert("handle".into(), handle.into());
            }
            Ok(serde_json::json!({"draft": fields}))
        }
    }
}

/// The C calls `registration.*`:
/// - `rules` → `{"login","password","legal"}`;
/// - `register` `{"user": {"given_name","family_name","email","username"?,
///   "preferred_language"?,"password","accepted_terms"}, "delivery"?:
///   "send"|"return"|{"send_with_url":"<template>"}}` →
///   `{"handle","user_id","email_code"}` (free the handle with `zid_object_free`);
/// - `verify_email` `{"handle","code"}`; `resend_email_code`
///   `{"handle","delivery"?}` → the returned code or `null`;
///   `returned_email_code` `{"handle"}` → the code or `null`;
/// - `finish` `{"handle"}` → `{"session","mfa_setup_required"}`.
///
/// - with an identity provider, in two calls (C has no browser callback):
///   `with_idp_start` `{"idp_id","timeout_secs"?}` (default 300) →
///   `{"handle","url"}` — open `url` in the system browser — then
///   `with_idp_finish` `{"handle"}` (best with `zid_call_async`: it waits
///   for the redirect) → `{"signed_in": {"session","mfa_setup_required"}}`
///   when the provider account was linked already, else `{"draft":
///   {"handle","given_name","family_name","email","username",
///   "email_verified_by_idp","accepted_terms"}}`; show the draft, then
///   `create_from_draft` `{"handle","given_name"?,"family_name"?,"email"?,
///   "username"?,"accepted_terms"}` → `{"session","mfa_setup_required"}`.
///   Free both handles with `zid_object_free`.
///
/// Registration in the browser's hosted form is `zid_login_start` with the
/// prompt `create`.
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: Value,
) -> Result<CallFuture, FfiError> {
    let r = core.registration();
    Ok(match name {
        "rules" => {
            let _: serde::de::IgnoredAny = args(a)?;
            Box::pin(async move { json(r.rules().await?) })
        }
        "register" => {
            let ra: RegisterArgs = args(a)?;
            Box::pin(async move {
                let p = r.register(&ra.user, &ra.delivery.into()).await?;
                let code = p.returned_email_code().map(|c| c.expose().to_owned());
                let pending = PendingRegistration::new(p);
                let user_id = pending.user_id.clone();
                let handle = object_put(pending)?;
                json(serde_json::json!({"handle": handle, "user_id": user_id, "email_code": code}))
            })
        }
        "returned_email_code" => {
            let p: PendingRegistration = object_get(&a)?;
            let _: HandleArgs = args(a)?;
            Box::pin(async move { json(p.returned_email_code().await?) })
        }
        "verify_email" => {
            let p: PendingRegistration = object_get(&a)?;
            let c: CodeArgs = args(a)?;
            Box::pin(async move {
                p.verify_email(c.code).await?;
                Ok(Value::Null)
            })
        }
        "resend_email_code" => {
            let p: PendingRegistration = object_get(&a)?;
            let ra: ResendArgs = args(a)?;
            Box::pin(async move { json(p.resend_email_code(ra.delivery.into()).await?) })
        }
        "finish" => {
            let p: PendingRegistration = object_get(&a)?;
            let _: HandleArgs = args(a)?;
            Box::pin(async move { Ok(p.finish().await?.to_json_value()) })
        }
        "with_idp_start" => {
            let ia: super::browser_c::IdpStartArgs = args(a)?;
            super::browser_c::start(
                "the registration with an identity provider",
                move |browser, token| async move {
                    let timeout = Duration::from_secs(ia.timeout_secs.into());
                    r.with_idp(&ia.idp_id, &browser, timeout, &token).await
                },
            )
        }
        "with_idp_finish" => {
            let _: HandleArgs = args(a.clone())?;
            super::browser_c::finish(
                &a,
                "the registration with an identity provider",
                idp_registration_json,
            )?
        }
        "create_from_draft" => {
            let mut d: core::RegistrationDraft = object_get(&a)?;
            let e: DraftArgs = args(a)?;
            let keep = |edit: Option<String>, old: &mut String| {
                if let Some(v) = edit {
                    *old = v;
                }
            };
            keep(e.given_name, &mut d.given_name);
            keep(e.family_name, &mut d.family_name);
            keep(e.email, &mut d.email);
            keep(e.username, &mut d.username);
            d.accepted_terms = e.accepted_terms;
            Box::pin(
                async move { Ok(SignedIn::from(r.create_from_draft(&d).await?).to_json_value()) },
            )
        }
        _ => return Err(unknown_method("registration", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c::calls::object_put;
    use serde_json::json;

    fn finished() -> PendingRegistration {
        PendingRegistration {
            state: Arc::new(Mutex::new(Pending {
                core: None,
                verified: true,
            })),
            user_id: "u1".into(),
        }
    }

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        match crate::runtime::runtime() {
            Ok(rt) => rt.block_on(f),
            Err(e) => panic!("runtime: {e}"),
        }
    }

    fn client() -> zitadel_sdk::Client {
        match zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() {
            Ok(c) => c,
            Err(e) => panic!("a loopback client builds: {e}"),
        }
    }

    #[test]
    fn a_finished_registration_refuses_every_further_step_clearly() {
        let p = finished();
        for e in [
            block(p.finish()).err(),
            block(p.verify_email("123".into())).err(),
            block(p.resend_email_code(CodeDelivery::Return)).err(),
            block(p.returned_email_code()).err(),
        ] {
            assert!(
                matches!(&e, Some(FfiError::FailedPrecondition { detail, .. }) if detail.contains("finished")),
                "{e:?}"
            );
        }
        assert_eq!(p.user_id(), "u1");
    }

    #[test]
    fn registration_c_calls_check_arguments_and_refuse_a_freed_handle() {
        let bad = |name: &str, a| c_call(client(), name, a).err().map(|e| e.code());
        assert_eq!(
            bad("register", json!({"user": {"given_name": "A"}})),
            Some(3)
        );
        assert_eq!(
            bad(
                "register",
                json!({"user": {"given_name": "A", "family_name": "B",
            "email": "a@b.c", "password": "x", "accepted_terms": true}, "delivery": "fax"})
            ),
            Some(3)
        );
        assert_eq!(
            bad(
                "register",
                json!({"user": {"given_name": "A", "family_name": "B",
            "email": "a@b.c", "password": "x", "accepted_terms": true},
            "delivery": {"send_with_url": "https://x/{{.Code}}"}})
            ),
            None
        );
        assert_eq!(bad("in_browser", json!({})), Some(3));

        let h = object_put(finished()).unwrap_or_default();
        assert_eq!(bad("verify_email", json!({"handle": h, "code": "1"})), None);
        assert_eq!(
            bad("verify_email", json!({"handle": h})),
            Some(3),
            "code missing"
        );
        // The stored registration is finished: running the call says so.
        let call = c_call(client(), "finish", json!({"handle": h}));
        let e = call.map(block).ok().and_then(Result::err);
        assert!(
            matches!(e, Some(FfiError::FailedPrecondition { .. })),
            "{e:?}"
        );
        assert_eq!(crate::c::calls::zid_object_free(h), 0);
        assert_eq!(
            bad("finish", json!({"handle": h})),
            Some(3),
            "a freed handle"
        );
        assert_eq!(bad("finish", json!({})), Some(3), "no handle");
    }
}
