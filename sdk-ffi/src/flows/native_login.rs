//! Browserless login through the Session API for hosts with a login-client
//! credential: [`NativeLoginClient`], from
//! [`ZitadelClient::native_login`](crate::ZitadelClient::native_login), and
//! the step-by-step [`NativeLogin`] between the first factor and the
//! sign-in.
//!
//! The passwordless passkey login (`NativeLoginClient::passkey`) and the
//! security-key check (`NativeLogin::check_u2f`) take the host's passkey
//! authenticator and live next to it, in [`super::passkeys`]; their C calls
//! use the software authenticator in the client's store (feature
//! `software-authenticator`).

use crate::c::calls::{CallFuture, args, json, object_get, object_put, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use crate::session::SessionInfo;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Mutex;
use zitadel_sdk::flows::mfa::AuthMethod;
use zitadel_sdk::flows::native_login as core;
use zitadel_sdk::flows::settings::SecondFactorType;
use zitadel_sdk::{Error, ErrorCode};

/// The result of a native login or registration.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SignedIn {
    /// The signed-in session (as after a browser login).
    pub session: SessionInfo,
    /// Set when the login policy requires a second factor the user has not
    /// set up yet: the factors the policy allows. The session may already
    /// set one up.
    pub mfa_setup_required: Option<Vec<SecondFactorType>>,
}

impl From<core::SignedIn> for SignedIn {
    fn from(s: core::SignedIn) -> Self {
        SignedIn {
            session: s.session.into(),
            mfa_setup_required: s.mfa_setup_required,
        }
    }
}

impl SignedIn {
    /// As JSON for the C calls: `{"session": <session as zid_session writes
    /// it>, "mfa_setup_required": [...] | null}`.
    pub(crate) fn to_json_value(&self) -> Value {
        let session: Value = serde_json::from_str(&self.session.to_json()).unwrap_or(Value::Null);
        serde_json::json!({"session": session, "mfa_setup_required": self.mfa_setup_required})
    }
}

/// A core flow object behind a lock; `None` once a consuming method took it.
pub(crate) type Slot<T> = Arc<Mutex<Option<T>>>;

/// The error for a flow object whose consuming method already ran.
pub(crate) fn used_up(what: &str) -> Error {
    Error::host(
        ErrorCode::FailedPrecondition,
        format!("this {what} is finished already: start a new one"),
    )
}

/// Starts native logins (login name or user id and password).
#[derive(Debug, uniffi::Object)]
pub struct NativeLoginClient {
    pub(crate) core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// Browserless login through the Session API (needs the login-client
    /// token in the configuration; for trusted first-party hosts only).
    pub fn native_login(&self) -> Arc<NativeLoginClient> {
        Arc::new(NativeLoginClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl NativeLoginClient {
    /// Checks login name and password, then reads which second factors
    /// the user has. Continue on the returned [`NativeLogin`].
    ///
    /// # Errors
    /// No login client configured; `InvalidCredentials` (with
    /// `failed_attempts`); `UserLocked`; `NotFound` for an unknown login name.
    pub async fn password(
        &self,
        login_name: String,
        password: String,
    ) -> Result<Arc<NativeLogin>, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.native_login().password(&login_name, &password).await
        })
        .await
        .map(|l| Arc::new(NativeLogin::new(l)))
    }

    /// As [`password`](Self::password) for a known user id.
    ///
    /// # Errors
    /// As [`password`](Self::password).
    pub async fn password_for_user_id(
        &self,
        user_id: String,
        password: String,
    ) -> Result<Arc<NativeLogin>, FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.native_login()
                .password_for_user_id(&user_id, &password)
                .await
        })
        .await
        .map(|l| Arc::new(NativeLogin::new(l)))
    }
}

/// A native login in progress, after the first factor: check a second
/// factor if the user has one, then [`finish`](Self::finish). Holds the
/// session token; it is never shown.
#[derive(Debug, Clone, uniffi::Object)]
pub struct NativeLogin {
    state: Slot<core::NativeLogin>,
    user_id: String,
    second_factors: Vec<AuthMethod>,
}

impl NativeLogin {
    pub(crate) fn new(l: core::NativeLogin) -> Self {
        NativeLogin {
            user_id: l.user_id().to_owned(),
            second_factors: l.second_factors(),
            state: Arc::new(Mutex::new(Some(l))),
        }
    }

    /// Runs a step on the login in progress.
    pub(crate) async fn step<T, F>(&self, f: F) -> Result<T, FfiError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut core::NativeLogin) -> Step<'a, T> + Send + 'static,
    {
        let state = self.state.clone();
        run(None, async move {
            let mut guard = state.lock().await;
            let login = guard.as_mut().ok_or_else(|| used_up("login"))?;
            f(login).await
        })
        .await
    }

    async fn finish_core(&self) -> Result<SignedIn, FfiError> {
        let state = self.state.clone();
        run(None, async move {
            let mut guard = state.lock().await;
            let login = guard.take().ok_or_else(|| used_up("login"))?;
            if login.needs_second_factor() {
                // Refused without consuming the login: the factor can still be checked.
                *guard = Some(login);
                return Err(Error::host(
                    ErrorCode::InvalidInput,
                    "this user has a second factor: check it before finishing the login",
                ));
            }
            login.finish().await
        })
        .await
        .map(SignedIn::from)
    }
}

/// A boxed step future borrowing the login.
pub(crate) type Step<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = zitadel_sdk::Result<T>> + Send + 'a>>;

#[uniffi::export]
impl NativeLogin {
    /// The user's id.
    pub fn user_id(&self) -> String {
        self.user_id.clone()
    }

    /// The second factors the user has set up (ask for one of them).
    pub fn second_factors(&self) -> Vec<AuthMethod> {
        self.second_factors.clone()
    }

    /// Whether a second factor must be checked before [`finish`](Self::finish).
    ///
    /// # Errors
    /// `FailedPrecondition` after `finish`.
    pub async fn needs_second_factor(&self) -> Result<bool, FfiError> {
        self.step(|l| Box::pin(async move { Ok(l.needs_second_factor()) }))
            .await
    }

    /// Sends a one-time password by email; with `return_code` ZITADEL
    /// returns it instead (the app delivers it).
    ///
    /// # Errors
    /// `FailedPrecondition` when OTP by email is not set up.
    pub async fn send_otp_email(&self, return_code: bool) -> Result<Option<String>, FfiError> {
        self.step(move |l| Box::pin(async move { l.send_otp_email(return_code).await }))
            .await
            .map(|c| c.map(|s| s.expose().to_owned()))
    }

    /// Sends a one-time password by SMS (or returns it with `return_code`).
    ///
    /// # Errors
    /// `FailedPrecondition` when OTP by SMS is not set up.
    pub async fn send_otp_sms(&self, return_code: bool) -> Result<Option<String>, FfiError> {
        self.step(move |l| Box::pin(async move { l.send_otp_sms(return_code).await }))
            .await
            .map(|c| c.map(|s| s.expose().to_owned()))
    }

    /// Checks a TOTP code.
    ///
    /// # Errors
    /// `WrongCode`; `UserLocked` after too many wrong codes.
    pub async fn check_totp(&self, code: String) -> Result<(), FfiError> {
        self.step(move |l| Box::pin(async move { l.check_totp(&code).await }))
            .await
    }

    /// Checks the code sent by email.
    ///
    /// # Errors
    /// `WrongCode`; `UserLocked`; `FailedPrecondition` without a sent code.
    pub async fn check_otp_email(&self, code: String) -> Result<(), FfiError> {
        self.step(move |l| Box::pin(async move { l.check_otp_email(&code).await }))
            .await
    }

    /// Checks the code sent by SMS.
    ///
    /// # Errors
    /// `WrongCode`; `UserLocked`; `FailedPrecondition` without a sent code.
    pub async fn check_otp_sms(&self, code: String) -> Result<(), FfiError> {
        self.step(move |l| Box::pin(async move { l.check_otp_sms(&code).await }))
            .await
    }

    /// Checks a recovery code (each works once).
    ///
    /// # Errors
    /// `WrongCode` for a wrong or used code.
    pub async fn check_recovery_code(&self, code: String) -> Result<(), FfiError> {
        self.step(move |l| Box::pin(async move { l.check_recovery_code(&code).await }))
            .await
    }

    /// Finishes the login: the same signed-in session as a browser login.
    /// Works once.
    ///
    /// # Errors
    /// `InvalidInput` while the user's second factor is unchecked (the
    /// login stays usable); `FailedPrecondition` when it was finished already.
    pub async fn finish(&self) -> Result<SignedIn, FfiError> {
        self.finish_core().await
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordArgs {
    login_name: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIdPasswordArgs {
    user_id: String,
    password: String,
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
struct SendArgs {
    #[allow(dead_code)] // read by object_get
    handle: u64,
    #[serde(default)]
    return_code: bool,
}

/// The JSON of a stored login: `{"handle","user_id","second_factors"}`.
fn stored(login: NativeLogin) -> Result<Value, FfiError> {
    let (user_id, factors) = (login.user_id.clone(), login.second_factors.clone());
    let handle = object_put(login)?;
    json(serde_json::json!({"handle": handle, "user_id": user_id, "second_factors": factors}))
}

/// The C calls `native_login.*`:
/// - `password` `{"login_name","password"}` and `password_for_user_id`
///   `{"user_id","password"}` → `{"handle","user_id","second_factors":[...]}`
///   (free the handle with `zid_object_free`);
/// - `needs_second_factor` `{"handle"}` → bool;
/// - `send_otp_email`, `send_otp_sms` `{"handle","return_code"?}` → the
///   returned code or `null`;
/// - `check_totp`, `check_otp_email`, `check_otp_sms`, `check_recovery_code`
///   `{"handle","code"}`;
/// - `finish` `{"handle"}` → `{"session","mfa_setup_required"}`;
/// - `passkey` `{"login_name"}` → as `finish`, and `check_u2f` `{"handle"}`:
///   with the software authenticator in the client's store (feature
///   `software-authenticator`, else `ZID_ERR_MISCONFIGURED`).
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: Value,
) -> Result<CallFuture, FfiError> {
    let n = core.native_login();
    Ok(match name {
        "password" => {
            let p: PasswordArgs = args(a)?;
            Box::pin(async move {
                let l = n.password(&p.login_name, &p.password).await?;
                stored(NativeLogin::new(l))
            })
        }
        "password_for_user_id" => {
            let p: UserIdPasswordArgs = args(a)?;
            Box::pin(async move {
                let l = n.password_for_user_id(&p.user_id, &p.password).await?;
                stored(NativeLogin::new(l))
            })
        }
        "needs_second_factor" => {
            let l: NativeLogin = object_get(&a)?;
            let _: HandleArgs = args(a)?;
            Box::pin(async move { json(l.needs_second_factor().await?) })
        }
        "send_otp_email" | "send_otp_sms" => {
            let l: NativeLogin = object_get(&a)?;
            let s: SendArgs = args(a)?;
            let sms = name == "send_otp_sms";
            Box::pin(async move {
                let code = if sms {
                    l.send_otp_sms(s.return_code).await?
                } else {
                    l.send_otp_email(s.return_code).await?
                };
                json(code)
            })
        }
        "check_totp" | "check_otp_email" | "check_otp_sms" | "check_recovery_code" => {
            let l: NativeLogin = object_get(&a)?;
            let c: CodeArgs = args(a)?;
            let which = name.to_owned();
            Box::pin(async move {
                match which.as_str() {
                    "check_totp" => l.check_totp(c.code).await?,
                    "check_otp_email" => l.check_otp_email(c.code).await?,
                    "check_otp_sms" => l.check_otp_sms(c.code).await?,
                    _ => l.check_recovery_code(c.code).await?,
                }
                Ok(Value::Null)
            })
        }
        "finish" => {
            let l: NativeLogin = object_get(&a)?;
            let _: HandleArgs = args(a)?;
            Box::pin(async move { Ok(l.finish().await?.to_json_value()) })
        }
        "passkey" | "check_u2f" => return super::passkeys::c_call_native_login(core, name, a),
        _ => return Err(unknown_method("native_login", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finished() -> NativeLogin {
        NativeLogin {
            state: Arc::new(Mutex::new(None)),
            user_id: "u1".into(),
            second_factors: vec![AuthMethod::Totp],
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
    fn a_finished_login_refuses_every_further_step_clearly() {
        let l = finished();
        for e in [
            block(l.finish()).err(),
            block(l.check_totp("123456".into())).err(),
            block(l.send_otp_email(true)).map(drop).err(),
            block(l.needs_second_factor()).map(drop).err(),
        ] {
            assert!(
                matches!(&e, Some(FfiError::FailedPrecondition { detail, .. }) if detail.contains("finished")),
                "{e:?}"
            );
        }
        assert_eq!(l.second_factors(), vec![AuthMethod::Totp]);
    }

    #[test]
    fn native_login_c_calls_check_arguments_and_refuse_a_freed_handle() {
        let bad = |name: &str, a| c_call(client(), name, a).err().map(|e| e.code());
        assert_eq!(bad("password", json!({"login_name": "a"})), Some(3));
        assert_eq!(
            bad(
                "password",
                json!({"login_name": "a", "password": "p", "x": 1})
            ),
            Some(3)
        );
        assert_eq!(
            bad("password", json!({"login_name": "a", "password": "p"})),
            None
        );
        assert_eq!(bad("passkey", json!({})), Some(3));

        let h = object_put(finished()).unwrap_or_default();
        assert_eq!(bad("check_totp", json!({"handle": h, "code": "1"})), None);
        assert_eq!(bad("check_totp", json!({"handle": h, "code": 1})), Some(3));
        assert_eq!(bad("send_otp_sms", json!({"handle": h})), None);
        let e = c_call(client(), "finish", json!({"handle": h}))
            .map(block)
            .ok()
            .and_then(Result::err);
        assert!(
            matches!(e, Some(FfiError::FailedPrecondition { .. })),
            "{e:?}"
        );
        assert_eq!(crate::c::calls::zid_object_free(h), 0);
        assert_eq!(
            bad("check_totp", json!({"handle": h, "code": "1"})),
            Some(3)
        );
        // A registration's handle is not a login.
        assert_eq!(bad("finish", json!({"handle": u64::MAX})), Some(3));
    }
}
