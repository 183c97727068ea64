//! Browserless login through ZITADEL's Session API, for hosts that hold a
//! login-client credential: login name and password, then whichever second
//! factor the user has (a code, or a security key), step by step for the
//! app's own UI, or passwordless with a passkey; the OIDC auth
//! request is then finished with CreateCallback and the PKCE code exchange,
//! so the result is the same signed-in session as a browser login.
//!
//! # Security
//! Only for trusted hosts (see [`crate::ClientBuilder::login_client_token`]).

use super::mfa::{AuthMethod, methods_of};
use super::passkeys::{self, WebAuthnKind};
use super::settings::SecondFactorType;
use super::{opt, s};
use crate::Client;
use crate::api::{Auth, seg};
use crate::error::{Error, ErrorCode, ErrorKind, Result};
use crate::oidc::LoginOptions;
use crate::platform::PasskeyAuthenticator;
use crate::secret::Secret;
use crate::session::SessionInfo;
use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

/// The result of a native login or registration.
#[derive(Clone, Debug, Serialize)]
pub struct SignedIn {
    /// The signed-in session (as after a browser login).
    pub session: SessionInfo,
    /// `Some` when the login policy requires a second factor the user has
    /// not set up yet: the factors the policy allows. Set one up with
    /// [`Client::mfa`] (the session's token may already call it).
    pub mfa_setup_required: Option<Vec<SecondFactorType>>,
}

/// Starts native logins. From [`Client::native_login`].
#[derive(Clone, Debug)]
pub struct NativeLoginClient(pub(crate) Client);

impl NativeLoginClient {
    /// Checks login name and password in one request, then reads which
    /// second factors the user has.
    ///
    /// # Errors
    /// No login client configured; `InvalidCredentials` (with
    /// [`Error::failed_attempts`]); `UserLocked`; `NotFound` for an unknown
    /// login name (unless the policy hides unknown names).
    pub async fn password(&self, login_name: &str, password: &str) -> Result<NativeLogin> {
        let login_name = login_name.trim();
        if login_name.is_empty() || password.is_empty() {
            return Err(Error::input("the login name and the password are required"));
        }
        let (id, token) = match create_session(
            &self.0,
            json!({"user": {"loginName": login_name}, "password": {"password": password}}),
        )
        .await
        {
            Ok(created) => created,
            Err(e) => return Err(explain_inactive(&self.0, e, None, Some(login_name)).await),
        };
        NativeLogin::after_first_factor(&self.0, id, token, None).await
    }

    /// As [`password`](Self::password) for a known user id (one request
    /// fewer: the user need not be looked up).
    ///
    /// # Errors
    /// As [`password`](Self::password).
    pub async fn password_for_user_id(&self, user_id: &str, password: &str) -> Result<NativeLogin> {
        seg(user_id)?;
        if password.is_empty() {
            return Err(Error::input("the password is required"));
        }
        let (id, token) = match create_session(
            &self.0,
            json!({"user": {"userId": user_id}, "password": {"password": password}}),
        )
        .await
        {
            Ok(created) => created,
            Err(e) => return Err(explain_inactive(&self.0, e, Some(user_id), None).await),
        };
        NativeLogin::after_first_factor(&self.0, id, token, Some(user_id.to_owned())).await
    }

    /// Passwordless login with a passkey: the login name, a passkey
    /// challenge (user verification required) signed by `authenticator`,
    /// then the login is finished as by [`NativeLogin::finish`]. A passkey
    /// is multi-factor on its own: no second factor is asked for.
    ///
    /// # Errors
    /// `FailedPrecondition` when the login policy does not allow passkeys,
    /// or the user has none; `NotFound` for an unknown login name; the
    /// authenticator's errors (`Cancelled`, `NotFound` when it holds none
    /// of the user's passkeys); `InvalidCredentials` when ZITADEL does not
    /// accept the assertion.
    pub async fn passkey(
        &self,
        login_name: &str,
        authenticator: &dyn PasskeyAuthenticator,
    ) -> Result<SignedIn> {
        let login_name = login_name.trim();
        if login_name.is_empty() {
            return Err(Error::input("the login name is required"));
        }
        let org = super::registration::org_id(&self.0);
        if !self
            .0
            .settings()
            .login(org.as_deref())
            .await?
            .passkeys_allowed
        {
            return Err(Error::host(
                ErrorCode::FailedPrecondition,
                "the login policy does not allow passwordless login with passkeys",
            ));
        }
        let (session_id, _, started) = create_session_with(
            &self.0,
            json!({"checks": {"user": {"loginName": login_name}},
                   "challenges": passkeys::challenge(&self.0, WebAuthnKind::Passkey)?}),
        )
        .await?;
        let check = passkeys::check(&self.0, authenticator, &started).await?;
        let v: Value = self
            .0
            .api(
                Auth::LoginClient,
                Method::PATCH,
                &format!("/v2/sessions/{}", seg(&session_id)?),
                Some(json!({ "checks": check })),
            )
            .await?;
        let token = s(&v, "sessionToken");
        if token.is_empty() {
            return Err(Error::internal(
                "SetSession answered without a session token",
            ));
        }
        let session = finish_with_session(&self.0, &session_id, &Secret::new(token)).await?;
        Ok(SignedIn {
            session,
            mfa_setup_required: None,
        })
    }
}

/// CreateSession with `checks`; returns the session id and token.
pub(crate) async fn create_session(client: &Client, checks: Value) -> Result<(String, Secret)> {
    let (id, token, _) = create_session_with(client, json!({ "checks": checks })).await?;
    Ok((id, token))
}

/// ZITADEL refuses every user that is not active in the session's user
/// check (`SESSION-Gj4ko`) without saying why. A locked user must be told
/// apart (the app shows "locked", not "try again"), so on this error path
/// only, the user is read through the login client: `UserLocked` for a
/// locked user, `FailedPrecondition` naming a deactivated one, else the
/// error as it was.
async fn explain_inactive(
    client: &Client,
    e: Error,
    user_id: Option<&str>,
    login_name: Option<&str>,
) -> Error {
    if e.api_error_id() != Some("SESSION-Gj4ko") {
        return e;
    }
    // By login name, ListUsers carries the state already; by id, one read.
    let state = match (user_id, login_name) {
        (Some(id), _) => match super::profile::get_user(client, Auth::LoginClient, id).await {
            Ok(u) => u.state,
            Err(_) => return e,
        },
        (None, Some(name)) => match super::password::find_user(client, name).await {
            Ok(found) => found.state,
            Err(_) => return e,
        },
        (None, None) => return e,
    };
    match state.as_str() {
        "USER_STATE_LOCKED" => Error::host(
            ErrorCode::UserLocked,
            "the user is locked (too many failed attempts, or by a manager); an administrator can unlock it",
        ),
        "USER_STATE_INACTIVE" => Error::host(
            ErrorCode::FailedPrecondition,
            "the user is deactivated; an administrator can reactivate it",
        ),
        _ => e,
    }
}

/// CreateSession with `body`; returns the session id, its token and the answer.
async fn create_session_with(client: &Client, body: Value) -> Result<(String, Secret, Value)> {
    let v: Value = client
        .api(Auth::LoginClient, Method::POST, "/v2/sessions", Some(body))
        .await?;
    let id = s(&v, "sessionId");
    let token = s(&v, "sessionToken");
    if id.is_empty() || token.is_empty() {
        return Err(Error::internal("CreateSession answered without a session"));
    }
    Ok((id, Secret::new(token), v))
}

/// A native login in progress: the Session API session after the first
/// factor. `Debug` shows no token.
pub struct NativeLogin {
    client: Client,
    session_id: String,
    session_token: Secret,
    user_id: String,
    org_id: Option<String>,
    methods: Vec<AuthMethod>,
    second_factor_checked: bool,
}

impl std::fmt::Debug for NativeLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeLogin")
            .field("user_id", &self.user_id)
            .field("methods", &self.methods)
            .field("second_factor_checked", &self.second_factor_checked)
            .finish_non_exhaustive()
    }
}

impl NativeLogin {
    async fn after_first_factor(
        client: &Client,
        session_id: String,
        session_token: Secret,
        user_id: Option<String>,
    ) -> Result<NativeLogin> {
        let (user_id, org_id) = match user_id {
            Some(u) => (u, None),
            None => {
                let v: Value = client
                    .api(
                        Auth::LoginClient,
                        Method::GET,
                        &format!("/v2/sessions/{}", seg(&session_id)?),
                        None,
                    )
                    .await?;
                let user = v
                    .pointer("/session/factors/user")
                    .cloned()
                    .unwrap_or(Value::Null);
                (s(&user, "id"), opt(&user, "organizationId"))
            }
        };
        let methods = methods_of(client, Auth::LoginClient, &seg(&user_id)?).await?;
        Ok(NativeLogin {
            client: client.clone(),
            session_id,
            session_token,
            user_id,
            org_id,
            methods,
            second_factor_checked: false,
        })
    }

    /// The signed-in user's id.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The second factors the user has set up (ask for one of them).
    pub fn second_factors(&self) -> Vec<AuthMethod> {
        self.methods
            .iter()
            .copied()
            .filter(|m| m.is_second_factor())
            .collect()
    }

    /// Whether a second factor must be checked before [`finish`](Self::finish).
    pub fn needs_second_factor(&self) -> bool {
        !self.second_factor_checked && !self.second_factors().is_empty()
    }

    /// Sends a one-time password by email (or returns it when `return_code`).
    ///
    /// # Errors
    /// `FailedPrecondition` when OTP by email is not set up.
    pub async fn send_otp_email(&mut self, return_code: bool) -> Result<Option<Secret>> {
        let challenge = if return_code {
            json!({"otpEmail": {"returnCode": {}}})
        } else {
            json!({"otpEmail": {"sendCode": {}}})
        };
        let v = self.set_session(json!({"challenges": challenge})).await?;
        Ok(code_of(&v, "otpEmail"))
    }

    /// Sends a one-time password by SMS (or returns it when `return_code`).
    ///
    /// # Errors
    /// `FailedPrecondition` when OTP by SMS is not set up.
    pub async fn send_otp_sms(&mut self, return_code: bool) -> Result<Option<Secret>> {
        let v = self
            .set_session(json!({"challenges": {"otpSms": {"returnCode": return_code}}}))
            .await?;
        Ok(code_of(&v, "otpSms"))
    }

    /// Checks a TOTP code.
    ///
    /// # Errors
    /// `WrongCode`; `UserLocked` after too many wrong codes.
    pub async fn check_totp(&mut self, code: &str) -> Result<()> {
        self.check("totp", code).await
    }

    /// Checks the code sent by email.
    ///
    /// # Errors
    /// `WrongCode`; `UserLocked`; `FailedPrecondition` without a sent code.
    pub async fn check_otp_email(&mut self, code: &str) -> Result<()> {
        self.check("otpEmail", code).await
    }

    /// Checks the code sent by SMS.
    ///
    /// # Errors
    /// `WrongCode`; `UserLocked`; `FailedPrecondition` without a sent code.
    pub async fn check_otp_sms(&mut self, code: &str) -> Result<()> {
        self.check("otpSms", code).await
    }

    /// Checks a recovery code (each works once).
    ///
    /// # Errors
    /// `WrongCode` for a wrong or used code.
    pub async fn check_recovery_code(&mut self, code: &str) -> Result<()> {
        self.check("recoveryCode", code).await
    }

    /// Checks a security key (U2F): a challenge (user verification
    /// discouraged) signed by `authenticator`.
    ///
    /// # Errors
    /// `FailedPrecondition` when the user has no security key; the
    /// authenticator's errors (`Cancelled`, `NotFound` when it holds none of
    /// the user's keys); `InvalidCredentials` when ZITADEL does not accept
    /// the assertion.
    pub async fn check_u2f(&mut self, authenticator: &dyn PasskeyAuthenticator) -> Result<()> {
        let challenge = passkeys::challenge(&self.client, WebAuthnKind::U2f)?;
        let v = self.set_session(json!({ "challenges": challenge })).await?;
        let check = passkeys::check(&self.client, authenticator, &v).await?;
        self.set_session(json!({ "checks": check })).await?;
        self.second_factor_checked = true;
        Ok(())
    }

    async fn check(&mut self, factor: &str, code: &str) -> Result<()> {
        let code = code.trim();
        if code.is_empty() || code.len() > 64 {
            return Err(Error::input("the code is empty or too long"));
        }
        self.set_session(json!({"checks": { factor: {"code": code} }}))
            .await?;
        self.second_factor_checked = true;
        Ok(())
    }

    /// SetSession; keeps the rotated session token.
    async fn set_session(&mut self, body: Value) -> Result<Value> {
        let v: Value = self
            .client
            .api(
                Auth::LoginClient,
                Method::PATCH,
                &format!("/v2/sessions/{}", seg(&self.session_id)?),
                Some(body),
            )
            .await?;
        let token = s(&v, "sessionToken");
        if !token.is_empty() {
            self.session_token = Secret::new(token);
        }
        Ok(v)
    }

    /// Finishes the login: the OIDC auth request is created, linked to the
    /// session (CreateCallback) and its code exchanged, ending in the same
    /// signed-in session as a browser login. When the login policy forces
    /// MFA and the user has none, the result says so.
    ///
    /// # Errors
    /// `InvalidInput` when the user's second factor was not checked yet.
    pub async fn finish(self) -> Result<SignedIn> {
        if self.needs_second_factor() {
            return Err(Error::input(
                "this user has a second factor: check it before finishing the login",
            ));
        }
        let mfa_setup_required = if self.second_factors().is_empty() {
            mfa_setup_needed(&self.client, self.org_id.as_deref()).await?
        } else {
            None
        };
        let session =
            finish_with_session(&self.client, &self.session_id, &self.session_token).await?;
        Ok(SignedIn {
            session,
            mfa_setup_required,
        })
    }
}

fn code_of(v: &Value, challenge: &str) -> Option<Secret> {
    v.pointer(&format!("/challenges/{challenge}"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(Secret::new)
}

/// `Some(allowed factors)` when the login policy forces MFA for a user without one.
pub(crate) async fn mfa_setup_needed(
    client: &Client,
    org_id: Option<&str>,
) -> Result<Option<Vec<SecondFactorType>>> {
    let settings = client.settings().login(org_id).await?;
    Ok(settings
        .mfa_required_for_local_login()
        .then_some(settings.second_factors))
}

/// Finishes an OIDC login with a Session API session: authorize (with the
/// login client's header), CreateCallback, and the code exchange.
pub(crate) async fn finish_with_session(
    client: &Client,
    session_id: &str,
    session_token: &Secret,
) -> Result<SessionInfo> {
    let redirect = match &client.inner.redirect_uri {
        Some(u) => u.clone(),
        None => Url::parse("http://127.0.0.1/callback")
            .map_err(|_| Error::internal("default redirect URI"))?,
    };
    let (url, _state) = client
        .start_login_with_redirect(&redirect, &LoginOptions::default())
        .await?;
    let headers = match login_client_user_id(client).await {
        Some(id) => vec![("x-zitadel-login-client", id)],
        None => Vec::new(),
    };
    let (status, location) = client.inner.http.get_location(&url, &headers).await?;
    let location = location
        .filter(|_| (300..400).contains(&status))
        .and_then(|l| url.join(&l).ok())
        .ok_or_else(|| Error::malformed(&url, "the authorization endpoint did not redirect"))?;
    let auth_request = location
        .query_pairs()
        .find(|(k, _)| k == "authRequest")
        .map(|(_, v)| v.into_owned());
    let Some(auth_request) = auth_request else {
        // Not a login page: the server answered the client directly (an
        // OAuth error such as invalid_scope); let the callback parser type it.
        return client.complete_login(location.as_str()).await;
    };
    let v: Value = client
        .api(
            Auth::LoginClient,
            Method::POST,
            &format!("/v2/oidc/auth_requests/{}", seg(&auth_request)?),
            Some(json!({"session": {"sessionId": session_id,
                                    "sessionToken": session_token.expose()}})),
        )
        .await?;
    let callback = s(&v, "callbackUrl");
    if callback.is_empty() {
        return Err(
            ErrorKind::Internal("CreateCallback answered without a callback URL".into()).into(),
        );
    }
    client.complete_login(&callback).await
}

/// The login client's user id for the `x-zitadel-login-client` header,
/// read once from `/auth/v1/users/me` and cached; `None` when it cannot be
/// read (the header is then left out, as for a server with login v2 on).
async fn login_client_user_id(client: &Client) -> Option<String> {
    let v = client
        .cached_settings("/auth/v1/users/me", &[])
        .await
        .ok()?;
    v.pointer("/user/id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
