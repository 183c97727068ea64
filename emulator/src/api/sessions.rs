//! Session service v2: create, set, get, delete with user and password checks.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{
    Caller, authenticate, details, has_permission, parse_body, parse_duration, require,
};
use crate::error::{ApiError, GrpcCode};
use crate::factors::{Check, Failure, OtpChannel, new_otp_challenge};
use crate::model::{Session, SessionUserAgent, State as Model, UserKind, UserState, WebAuthnKind};
use crate::server::AppState;
use crate::util::{ct_eq, form_get, now, parse_form, random_token, rfc3339, sha256_hex};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/sessions", post(create))
        .route("/v2/sessions/search", post(search))
        .route(
            "/v2/sessions/{id}",
            axum::routing::get(get).patch(set).delete(delete),
        )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Checks {
    user: Option<CheckUser>,
    password: Option<CheckPassword>,
    totp: Option<CheckTotp>,
    otp_email: Option<CheckTotp>,
    otp_sms: Option<CheckTotp>,
    idp_intent: Option<CheckIntent>,
    recovery_code: Option<CheckTotp>,
    #[serde(rename = "webAuthN", alias = "web_auth_n")]
    web_auth_n: Option<CheckWebAuthN>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CheckWebAuthN {
    credential_assertion_data: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WebAuthNChallenge {
    domain: String,
    user_verification_requirement: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CheckIntent {
    idp_intent_id: String,
    idp_intent_token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CheckTotp {
    code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CheckUser {
    login_name: Option<String>,
    user_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CheckPassword {
    password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CreateSessionRequest {
    checks: Option<Checks>,
    lifetime: Option<String>,
    challenges: Option<RequestChallenges>,
    metadata: std::collections::BTreeMap<String, String>,
    user_agent: Option<SessionUserAgent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RequestChallenges {
    #[serde(rename = "webAuthN", alias = "web_auth_n")]
    web_auth_n: Option<WebAuthNChallenge>,
    otp_email: Option<OtpEmailChallenge>,
    otp_sms: Option<OtpSmsChallenge>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OtpSmsChallenge {
    return_code: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OtpEmailChallenge {
    send_code: Option<crate::api::user_write::SendCode>,
    return_code: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SetSessionRequest {
    checks: Option<Checks>,
    lifetime: Option<String>,
    challenges: Option<RequestChallenges>,
    metadata: std::collections::BTreeMap<String, String>,
}

/// Sets metadata (base64 values); an empty value removes the key, as in
/// ZITADEL's SetSession.
fn apply_metadata(
    session: &mut Session,
    metadata: std::collections::BTreeMap<String, String>,
) -> Result<(), ApiError> {
    use base64::Engine as _;
    for (key, value) in metadata {
        if value.is_empty() {
            session.info.metadata.remove(&key);
            continue;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_bytes())
            .map_err(|_| {
                ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    format!("invalid value for bytes field \"metadata\" of key {key}"),
                )
            })?;
        session
            .info
            .metadata
            .insert(key, base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DeleteSessionRequest {
    session_token: Option<String>,
}

fn user_not_found() -> ApiError {
    ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
}

fn session_not_found() -> ApiError {
    ApiError::new(GrpcCode::NotFound, "EMU-SESS01", "Session does not exist")
}

/// Applies checks to a session (new or existing). Returns an error response
/// (a wrong password carries `CredentialsCheckError` with `failedAttempts`).
fn apply_checks(
    model: &mut Model,
    session: &mut Session,
    issuer: &str,
    checks: Checks,
) -> Result<(), ApiError> {
    let t = now();
    if let Some(cu) = checks.user {
        let user = match (cu.user_id, cu.login_name) {
            (Some(id), _) => model.user(&id).cloned(),
            (None, Some(name)) => model.find_user_by_login_name(&name, None).cloned(),
            (None, None) => {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    "invalid CheckUser: userId or loginName required",
                ));
            }
        }
        .ok_or_else(user_not_found)?;
        if !session.user_id.is_empty() && session.user_id != user.id {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "EMU-SESS02",
                "The user of a session cannot be changed",
            ));
        }
        // ZITADEL's session service refuses every user that is not enabled
        // (also a locked one) in the user check; the key has no translation.
        if user.state != UserState::Active {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "SESSION-Gj4ko",
                "Errors.User.NotActive",
            ));
        }
        session.user_id = user.id;
        session.user_verified_at = t;
    }
    if let Some(ci) = checks.idp_intent {
        let (idp_id, external) = crate::api::idp::succeeded_intent(
            model,
            &ci.idp_intent_id,
            &ci.idp_intent_token,
            "COMMAND-Df4bw",
        )?;
        let linked = model
            .idp_links
            .iter()
            .find(|l| l.idp_id == idp_id && l.external_user_id == external.id)
            .map(|l| l.user_id.clone())
            .ok_or_else(|| {
                ApiError::new(
                    GrpcCode::FailedPrecondition,
                    "EMU-SESS13",
                    "The IdP user is not linked to a user",
                )
            })?;
        if session.user_id.is_empty() {
            session.user_id = linked;
            session.user_verified_at = t;
        } else if session.user_id != linked {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "EMU-SESS14",
                "The IdP user is linked to another user",
            ));
        }
        session.intent_verified_at = Some(t);
    }
    if let Some(c) = checks.password {
        check_factor(model, session, Check::Password(&c.password), t)?;
    }
    if let Some(c) = checks.totp {
        check_factor(model, session, Check::Totp(&c.code), t)?;
    }
    if let Some(c) = checks.otp_email {
        check_factor(model, session, Check::Otp(OtpChannel::Email, &c.code), t)?;
    }
    if let Some(c) = checks.recovery_code {
        check_factor(model, session, Check::RecoveryCode(&c.code), t)?;
    }
    if let Some(cw) = checks.web_auth_n {
        crate::webauthn::finish_login(model, session, issuer, &cw.credential_assertion_data)?;
    }
    if let Some(c) = checks.otp_sms {
        check_factor(model, session, Check::Otp(OtpChannel::Sms, &c.code), t)?;
    }
    Ok(())
}

/// Creates the requested challenges; returns the `challenges` response object.
fn apply_challenges(
    model: &mut Model,
    session: &mut Session,
    issuer: &str,
    req: Option<RequestChallenges>,
) -> Result<Option<Value>, ApiError> {
    let Some(req) = req else { return Ok(None) };
    let mut out = serde_json::Map::new();
    if let Some(c) = req.web_auth_n {
        let options = webauthn_challenge(model, session, issuer, &c)?;
        out.insert(
            "webAuthN".into(),
            json!({"publicKeyCredentialRequestOptions": options}),
        );
    }
    if let Some(c) = req.otp_email {
        let user = model.user(&session.user_id).cloned().ok_or_else(|| {
            ApiError::new(
                GrpcCode::InvalidArgument,
                "EMU-SESS04",
                "A user check is required",
            )
        })?;
        let h = user.human().filter(|h| h.otp_email).ok_or_else(|| {
            ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-SESS10",
                "OTP email is not set up",
            )
        })?;
        let code = new_otp_challenge(session, OtpChannel::Email);
        if c.return_code.is_some() {
            out.insert("otpEmail".into(), json!(code));
        } else {
            let template = c.send_code.and_then(|s| s.url_template);
            let text = match template {
                Some(t) => {
                    let url = t
                        .replace("{{.Code}}", &code)
                        .replace("{{.UserID}}", &user.id)
                        .replace("{{.LoginName}}", &model.login_name(&user))
                        .replace("{{.DisplayName}}", &h.display_name)
                        .replace("{{.PreferredLanguage}}", &h.preferred_language)
                        .replace("{{.SessionID}}", &session.id);
                    format!("Your one-time code is {code}. {url}")
                }
                None => format!("Your one-time code is {code}."),
            };
            model.push_outbox("email", &h.email, "One-time code", &text, Some(&code));
        }
    }
    if let Some(c) = req.otp_sms {
        let user = model.user(&session.user_id).cloned().ok_or_else(|| {
            ApiError::new(
                GrpcCode::InvalidArgument,
                "EMU-SESS04",
                "A user check is required",
            )
        })?;
        let phone = user
            .human()
            .filter(|h| h.otp_sms)
            .map(|h| h.phone.clone())
            .ok_or_else(|| {
                ApiError::new(
                    GrpcCode::FailedPrecondition,
                    "EMU-SESS12",
                    "OTP SMS is not set up",
                )
            })?;
        let code = new_otp_challenge(session, OtpChannel::Sms);
        if c.return_code {
            out.insert("otpSms".into(), json!(code));
        } else {
            model.push_outbox(
                "sms",
                &phone,
                "",
                &format!("Your one-time code is {code}."),
                Some(&code),
            );
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// Creates a WebAuthn challenge: passkeys when user verification is
/// required, U2F security keys otherwise (as ZITADEL). Returns the request
/// options.
fn webauthn_challenge(
    model: &Model,
    session: &mut Session,
    issuer: &str,
    req: &WebAuthNChallenge,
) -> Result<Value, ApiError> {
    let kind = match req.user_verification_requirement.as_deref() {
        Some("USER_VERIFICATION_REQUIREMENT_REQUIRED") => WebAuthnKind::Passkey,
        None
        | Some(
            "USER_VERIFICATION_REQUIREMENT_UNSPECIFIED"
            | "USER_VERIFICATION_REQUIREMENT_PREFERRED"
            | "USER_VERIFICATION_REQUIREMENT_DISCOURAGED",
        ) => WebAuthnKind::U2f,
        Some(_) => {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid RequestChallenges_WebAuthN.UserVerificationRequirement",
            ));
        }
    };
    crate::webauthn::begin_login(model, session, issuer, &req.domain, kind)
}

/// Checks a password or code through the emulator's one factor check (the
/// hosted login's too) and turns a failure into ZITADEL's error.
fn check_factor(
    model: &mut Model,
    session: &mut Session,
    check: Check<'_>,
    t: i64,
) -> Result<(), ApiError> {
    if session.user_id.is_empty() {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "EMU-SESS04",
            "A user check is required",
        ));
    }
    model
        .verify_factor(session, check, t)
        .map_err(|failure| check_error(check, failure))
}

/// The session API's error for a failed factor check. Wrong passwords and
/// codes, and the locked errors, carry `CredentialsCheckError`.
fn check_error(check: Check<'_>, failure: Failure) -> ApiError {
    match (failure, check) {
        (Failure::UnknownUser, _) => user_not_found(),
        (Failure::Locked { .. }, Check::RecoveryCode(_)) => {
            ApiError::new(GrpcCode::NotFound, RECOVERY_LOCKED, "User is locked")
        }
        (Failure::Locked { failed_attempts }, _)
        | (
            Failure::Wrong {
                failed_attempts,
                locked: true,
            },
            _,
        ) => locked_error(
            match check {
                Check::Password(_) => PASSWORD_LOCKED,
                Check::Totp(_) => TOTP_LOCKED,
                _ => CODE_LOCKED,
            },
            failed_attempts,
        ),
        (
            Failure::Wrong {
                failed_attempts, ..
            },
            Check::Password(_),
        ) => credentials_error(failed_attempts),
        (
            Failure::Wrong {
                failed_attempts, ..
            },
            _,
        ) => {
            // ZITADEL's crypto.VerifyCode answers a wrong email or SMS code
            // with CODE-woT0xc.
            let (id, message) = if matches!(check, Check::Totp(_)) {
                (TOTP_INVALID, "Invalid code")
            } else {
                ("CODE-woT0xc", "Code is invalid")
            };
            ApiError::credentials(GrpcCode::InvalidArgument, id, message, failed_attempts)
        }
        (_, Check::Password(_)) => ApiError::new(
            GrpcCode::FailedPrecondition,
            "EMU-SESS05",
            "Machine users have no password",
        ),
        (_, Check::RecoveryCode(_)) => ApiError::new(
            GrpcCode::InvalidArgument,
            "EMU-SESS15",
            "Invalid recovery code",
        ),
        (_, Check::Otp(channel, _)) => {
            let (id, message) = match channel {
                OtpChannel::Email => ("EMU-SESS09", "No OTP email challenge"),
                OtpChannel::Sms => ("EMU-SESS11", "No OTP SMS challenge"),
            };
            ApiError::new(GrpcCode::FailedPrecondition, id, message)
        }
        (_, Check::Totp(_)) => ApiError::new(
            GrpcCode::FailedPrecondition,
            "COMMAND-3Mif9s",
            "Multifactor OTP (OneTimePassword) isn't ready",
        ),
    }
}

/// ZITADEL's id for a password check of a locked user.
const PASSWORD_LOCKED: &str = "COMMAND-JLK35";
/// ZITADEL's id for a TOTP check of a locked user.
const TOTP_LOCKED: &str = "COMMAND-SF3fg";
/// ZITADEL's id for an OTP email or SMS check of a locked user.
const CODE_LOCKED: &str = "COMMAND-S6h4R";
/// ZITADEL's id for a recovery code check of a locked user (NOT_FOUND).
const RECOVERY_LOCKED: &str = "COMMAND-2w6oa";
/// ZITADEL's id for a wrong TOTP code.
const TOTP_INVALID: &str = "EVENT-8isk2";

/// The error for a locked user (with the emulator's `CredentialsCheckError`).
fn locked_error(id: &'static str, failed: u32) -> ApiError {
    ApiError::credentials(GrpcCode::FailedPrecondition, id, "User is locked", failed)
}

/// ZITADEL's wrong-password error with `zitadel.v1.CredentialsCheckError`.
fn credentials_error(failed: u32) -> ApiError {
    ApiError::credentials(
        GrpcCode::InvalidArgument,
        "COMMAND-3M0fs",
        "Password is invalid",
        failed,
    )
}

/// Applies metadata, checks and challenges to a session being created or
/// set, stores it with a new token and returns the response body (with the
/// `sessionId` when `created`). Checks may change the model (failed
/// attempts) even when they fail; the session is then not stored.
fn write_session(
    model: &mut Model,
    issuer: &str,
    mut session: Session,
    metadata: std::collections::BTreeMap<String, String>,
    checks: Checks,
    challenges: Option<RequestChallenges>,
    created: bool,
) -> Result<Value, ApiError> {
    apply_metadata(&mut session, metadata)?;
    apply_checks(model, &mut session, issuer, checks)?;
    let challenges = apply_challenges(model, &mut session, issuer, challenges)?;
    let token = finish_write(model, &mut session);
    let mut body = json!({
        "details": details(session.sequence, session.changed, &model.instance_id),
        "sessionToken": token,
    });
    if created {
        body["sessionId"] = json!(session.id);
    }
    if let Some(c) = challenges {
        body["challenges"] = c;
    }
    model.sessions.insert(session.id.clone(), session);
    Ok(body)
}

fn finish_write(model: &mut Model, session: &mut Session) -> String {
    let token = random_token(32);
    session.token_hash = sha256_hex(&token);
    session.changed = now();
    session.sequence = model.next_sequence();
    token
}

async fn create(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        require(&model, &caller, "session.write", None)?;
        let req: CreateSessionRequest = parse_body(&body, "CreateSessionRequest")?;
        Ok((caller, req))
    })();
    let (caller, req) = match result {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let t = now();
    let lifetime = match req.lifetime.as_deref().map(parse_duration) {
        Some(None) => {
            return ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid CreateSessionRequest.Lifetime",
            )
            .into_response();
        }
        Some(Some(l)) => Some(l),
        None => None,
    };
    let session = Session {
        id: model.ids.next(),
        user_id: String::new(),
        user_agent_id: None,
        token_hash: String::new(),
        created: t,
        changed: t,
        user_verified_at: 0,
        password_verified_at: None,
        terminated: false,
        expires: lifetime.map(|l| t + l),
        sequence: 0,
        creator_id: Some(caller.user_id.clone()),
        totp_verified_at: None,
        otp_email_challenge: None,
        otp_email_verified_at: None,
        otp_sms_challenge: None,
        otp_sms_verified_at: None,
        intent_verified_at: None,
        recovery_code_verified_at: None,
        unknown_login_name: None,
        webauthn: Default::default(),
        info: crate::model::SessionInfo {
            metadata: Default::default(),
            user_agent: req.user_agent,
        },
    };
    let checks = req.checks.unwrap_or_default();
    let body = write_session(
        &mut model,
        &shared.issuer,
        session,
        req.metadata,
        checks,
        req.challenges,
        true,
    );
    let body = match body {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn set(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        require(&model, &caller, "session.write", None)?;
        let req: SetSessionRequest = parse_body(&body, "SetSessionRequest")?;
        let session = model
            .sessions
            .get(&id)
            .filter(|s| s.is_active(now()))
            .cloned()
            .ok_or_else(session_not_found)?;
        Ok((req, session))
    })();
    let (req, mut session) = match result {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    if let Some(l) = req.lifetime.as_deref() {
        match parse_duration(l) {
            Some(l) => session.expires = Some(now() + l),
            None => {
                return ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    "invalid SetSessionRequest.Lifetime",
                )
                .into_response();
            }
        }
    }
    let checks = req.checks.unwrap_or_default();
    match write_session(
        &mut model,
        &shared.issuer,
        session,
        req.metadata,
        checks,
        req.challenges,
        false,
    ) {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Whether the caller may read or delete a session without presenting its token.
fn may_access(model: &Model, caller: &Caller, session: &Session, permission: &str) -> bool {
    session.user_id == caller.user_id
        || session.creator_id.as_deref() == Some(caller.user_id.as_str())
        || has_permission(model, caller, permission, None)
}

fn token_matches(session: &Session, token: Option<&str>) -> bool {
    token.is_some_and(|t| ct_eq(&session.token_hash, &sha256_hex(t)))
}

/// `zitadel.session.v2.Session` as JSON.
pub(crate) fn session_json(model: &Model, s: &Session) -> Value {
    let mut factors = serde_json::Map::new();
    if let Some(user) = model.user(&s.user_id) {
        let display = match &user.kind {
            UserKind::Human(h) => h.display_name.clone(),
            UserKind::Machine(m) => m.name.clone(),
        };
        factors.insert(
            "user".into(),
            json!({
                "verifiedAt": rfc3339(s.user_verified_at),
                "id": user.id,
                "loginName": model.login_name(user),
                "displayName": display,
                "organizationId": user.org_id,
            }),
        );
    }
    if let Some(p) = s.password_verified_at {
        factors.insert("password".into(), json!({"verifiedAt": rfc3339(p)}));
    }
    if let Some(p) = s.intent_verified_at {
        factors.insert("intent".into(), json!({"verifiedAt": rfc3339(p)}));
    }
    if let Some(p) = s.totp_verified_at {
        factors.insert("totp".into(), json!({"verifiedAt": rfc3339(p)}));
    }
    if let Some(p) = s.otp_email_verified_at {
        factors.insert("otpEmail".into(), json!({"verifiedAt": rfc3339(p)}));
    }
    if let Some(p) = s.otp_sms_verified_at {
        factors.insert("otpSms".into(), json!({"verifiedAt": rfc3339(p)}));
    }
    if let Some(p) = s.recovery_code_verified_at {
        factors.insert("recoveryCode".into(), json!({"verifiedAt": rfc3339(p)}));
    }
    if let Some(p) = s.webauthn.verified_at {
        let mut w = json!({"verifiedAt": rfc3339(p)});
        if s.webauthn.user_verified {
            w["userVerified"] = json!(true);
        }
        factors.insert("webAuthN".into(), w);
    }
    let mut v = json!({
        "id": s.id,
        "creationDate": rfc3339(s.created),
        "changeDate": rfc3339(s.changed),
        "sequence": s.sequence.to_string(),
        "factors": factors,
    });
    if let Some(e) = s.expires {
        v["expirationDate"] = json!(rfc3339(e));
    }
    if !s.info.metadata.is_empty() {
        v["metadata"] = json!(s.info.metadata);
    }
    if let Some(ua) = &s.info.user_agent {
        let mut u = json!({});
        for (key, value) in [
            ("fingerprintId", &ua.fingerprint_id),
            ("ip", &ua.ip),
            ("description", &ua.description),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                u[key] = json!(value);
            }
        }
        if !ua.header.is_empty() {
            u["header"] = json!(ua.header);
        }
        v["userAgent"] = u;
    }
    v
}

async fn get(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let model = shared.lock();
    let query = parse_form(q.unwrap_or_default().as_bytes());
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let session = model
            .sessions
            .get(&id)
            .filter(|s| s.is_active(now()))
            .ok_or_else(|| {
                ApiError::new(GrpcCode::NotFound, "QUERY-SFeaa", "Session does not exist")
            })?;
        if !token_matches(session, form_get(&query, "sessionToken"))
            && !may_access(&model, &caller, session, "session.read")
        {
            return Err(crate::api::permission_denied());
        }
        Ok(json!({"session": session_json(&model, session)}))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn delete(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: DeleteSessionRequest = parse_body(&body, "DeleteSessionRequest")?;
        let session = model
            .sessions
            .get(&id)
            .filter(|s| !s.terminated)
            .ok_or_else(session_not_found)?;
        if !token_matches(session, req.session_token.as_deref())
            && !may_access(&model, &caller, session, "session.delete")
        {
            return Err(crate::api::permission_denied());
        }
        Ok(())
    })();
    if let Err(e) = result {
        return e.into_response();
    }
    model.terminate_session(&id);
    let seq = model.next_sequence();
    let body = json!({"details": details(seq, now(), &model.instance_id)});
    axum::Json(body).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListQuery {
    offset: Option<Value>,
    limit: Option<u32>,
    asc: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IdsQuery {
    ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IdQuery {
    id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SearchQuery {
    ids_query: Option<IdsQuery>,
    user_id_query: Option<IdQuery>,
    creator_query: Option<IdQuery>,
    creation_date_query: Option<DateQuery>,
    expiration_date_query: Option<DateQuery>,
    user_agent_query: Option<UserAgentQuery>,
}

/// `CreationDateQuery` / `ExpirationDateQuery`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DateQuery {
    creation_date: Option<String>,
    expiration_date: Option<String>,
    method: Option<String>,
}

impl DateQuery {
    /// Whether `value` (none: a session without expiry) passes.
    fn matches(&self, value: Option<i64>) -> Result<bool, ApiError> {
        let at = self
            .creation_date
            .as_deref()
            .or(self.expiration_date.as_deref())
            .and_then(crate::util::parse_rfc3339)
            .ok_or_else(|| ApiError::new(GrpcCode::InvalidArgument, "", "invalid date query"))?;
        let Some(v) = value else { return Ok(false) };
        Ok(match self.method.as_deref().unwrap_or_default() {
            "TIMESTAMP_QUERY_METHOD_GREATER" => v > at,
            "TIMESTAMP_QUERY_METHOD_GREATER_OR_EQUALS" => v >= at,
            "TIMESTAMP_QUERY_METHOD_LESS" => v < at,
            "TIMESTAMP_QUERY_METHOD_LESS_OR_EQUALS" => v <= at,
            _ => v == at,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UserAgentQuery {
    fingerprint_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListSessionsRequest {
    query: Option<ListQuery>,
    queries: Vec<SearchQuery>,
}

async fn search(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: ListSessionsRequest = parse_body(&body, "ListSessionsRequest")?;
        let query = req.query.unwrap_or_default();
        let (offset, limit) = crate::api::list_page(query.offset.as_ref(), query.limit)?;
        // An empty fingerprint in a user agent query means the caller's own
        // (the user agent of the session whose token authenticates the call).
        let own_fingerprint = || {
            crate::api::bearer(&headers)
                .and_then(|t| crate::api::session_by_token(&model, t))
                .and_then(|s| s.info.user_agent.as_ref())
                .and_then(|u| u.fingerprint_id.clone())
                .ok_or_else(|| {
                    ApiError::new(
                        GrpcCode::InvalidArgument,
                        "EMU-SESS20",
                        "The calling token has no user agent",
                    )
                })
        };
        let mut queries = Vec::new();
        for q in &req.queries {
            for d in [&q.creation_date_query, &q.expiration_date_query]
                .into_iter()
                .flatten()
            {
                d.matches(None)?;
            }
            let fingerprint = match &q.user_agent_query {
                Some(u) => Some(match u.fingerprint_id.as_deref() {
                    Some(f) if !f.is_empty() => f.to_owned(),
                    _ => own_fingerprint()?,
                }),
                None => None,
            };
            queries.push((q, fingerprint));
        }
        let all = has_permission(&model, &caller, "session.read", None);
        let t = now();
        let mut found: Vec<&Session> = model
            .sessions
            .values()
            .filter(|s| s.is_active(t) && !s.user_id.is_empty())
            .filter(|s| {
                all || s.user_id == caller.user_id
                    || s.creator_id.as_deref() == Some(caller.user_id.as_str())
            })
            .filter(|s| {
                queries.iter().all(|(q, fingerprint)| {
                    q.ids_query.as_ref().is_none_or(|i| i.ids.contains(&s.id))
                        && fingerprint.as_ref().is_none_or(|f| {
                            s.info
                                .user_agent
                                .as_ref()
                                .and_then(|u| u.fingerprint_id.as_ref())
                                == Some(f)
                        })
                        && q.creation_date_query
                            .as_ref()
                            .is_none_or(|d| d.matches(Some(s.created)).unwrap_or(false))
                        && q.expiration_date_query
                            .as_ref()
                            .is_none_or(|d| d.matches(s.expires).unwrap_or(false))
                        && q.user_id_query
                            .as_ref()
                            .is_none_or(|u| u.id.as_deref().is_none_or(|id| id == s.user_id))
                        && q.creator_query.as_ref().is_none_or(|c| {
                            let want = c.id.as_deref().unwrap_or(caller.user_id.as_str());
                            s.creator_id.as_deref() == Some(want)
                        })
                })
            })
            .collect();
        found.sort_by_key(|s| (s.created, s.id.clone()));
        if !query.asc {
            found.reverse();
        }
        let total = found.len();
        let sessions: Vec<Value> = found
            .into_iter()
            .skip(offset)
            .take(usize::try_from(limit).unwrap_or(100))
            .map(|s| session_json(&model, s))
            .collect();
        let mut v = json!({"details": {"timestamp": rfc3339(t)}});
        if total > 0 {
            v["details"]["totalResult"] = json!(total.to_string());
        }
        if !sessions.is_empty() {
            v["sessions"] = json!(sessions);
        }
        Ok(v)
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
