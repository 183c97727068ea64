//! U2F security keys and passkeys of users v2 (WebAuthn registration,
//! passkey registration links, listing and removal).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use webauthn_rs::prelude::AuthenticatorAttachment;

use crate::api::{Caller, authenticate, details, has_permission, human_mut, parse_body};
use crate::error::{ApiError, GrpcCode};
use crate::model::{PasskeyCode, PendingCode, State as Model, WebAuthnKind, WebAuthnToken};
use crate::server::AppState;
use crate::util::now;
use crate::webauthn::RelyingParty;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/users/{id}/u2f", post(register_u2f))
        .route(
            "/v2/users/{id}/u2f/{token}",
            post(verify_u2f).delete(remove_u2f),
        )
        .route("/v2/users/{id}/passkeys", post(register_passkey))
        .route(
            "/v2/users/{id}/passkeys/registration_link",
            post(registration_link),
        )
        .route("/v2/users/{id}/passkeys/_search", post(list_passkeys))
        .route(
            "/v2/users/{id}/passkeys/{token}",
            post(verify_passkey).delete(remove_passkey),
        )
        .route(
            "/v2/users/{id}/authentication_factors/_search",
            post(list_factors),
        )
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn user_not_found() -> ApiError {
    ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
}

/// Self or `permission` on the user's org; returns the caller and the
/// user's org.
fn check(
    model: &Model,
    headers: &HeaderMap,
    id: &str,
    permission: &str,
) -> Result<(Caller, String), ApiError> {
    let caller = authenticate(model, headers)?;
    let user = model.user(id).ok_or_else(user_not_found)?;
    if caller.user_id != user.id && !has_permission(model, &caller, permission, Some(&user.org_id))
    {
        return Err(crate::api::permission_denied());
    }
    Ok((caller, user.org_id.clone()))
}

fn token_not_found() -> ApiError {
    ApiError::new(
        GrpcCode::NotFound,
        "WEBAU-5M9so",
        "WebAuthN token not found",
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RegisterRequest {
    domain: String,
    code: Option<CodeInput>,
    authenticator: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CodeInput {
    id: String,
    code: String,
}

/// Starts a registration of `kind` for user `id`: stores a pending token
/// and returns its id and the creation options.
pub(crate) fn start(
    model: &mut Model,
    issuer: &str,
    id: &str,
    kind: WebAuthnKind,
    domain: &str,
    attachment: Option<AuthenticatorAttachment>,
    started_by: Option<String>,
) -> Result<(String, Value), ApiError> {
    let rp = RelyingParty::new(issuer, domain)?;
    let user = model.user(id).cloned().ok_or_else(user_not_found)?;
    let login = model.login_name(&user);
    let token_id = model.ids.next();
    let h = human_mut(model, id)?;
    let existing = h.webauthn_credentials(kind);
    let (options, state) =
        rp.start_registration(kind, id, &login, &h.display_name, &existing, attachment)?;
    h.webauthn.push(WebAuthnToken {
        id: token_id.clone(),
        kind,
        name: String::new(),
        registration: Some(state),
        credential: None,
        created: now(),
        started_by,
    });
    Ok((token_id, options))
}

/// Verifies the registration of the pending token `token` of user `id`.
pub(crate) fn finish(
    model: &mut Model,
    issuer: &str,
    id: &str,
    kind: WebAuthnKind,
    token: &str,
    credential: &Value,
    name: String,
) -> Result<(), ApiError> {
    let rp = RelyingParty::new(issuer, "")?;
    let h = human_mut(model, id)?;
    let t = h
        .webauthn
        .iter_mut()
        .find(|t| t.id == token && t.kind == kind)
        .ok_or_else(token_not_found)?;
    let Some(state) = t.registration.as_ref() else {
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "COMMAND-BFbsd",
            "WebAuthN token is already verified",
        ));
    };
    let cred = rp.finish_registration(kind, state, credential)?;
    t.credential = Some(cred);
    t.registration = None;
    t.name = name;
    Ok(())
}

fn remove(model: &mut Model, id: &str, kind: WebAuthnKind, token: &str) -> Result<(), ApiError> {
    let h = human_mut(model, id)?;
    let before = h.webauthn.len();
    h.webauthn.retain(|t| !(t.id == token && t.kind == kind));
    if h.webauthn.len() == before {
        return Err(token_not_found());
    }
    Ok(())
}

async fn register_u2f(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.credential.write")?;
        let req: RegisterRequest = parse_body(&body, "RegisterU2FRequest")?;
        let (token, options) = start(
            &mut model,
            &shared.issuer,
            &id,
            WebAuthnKind::U2f,
            &req.domain,
            None,
            None,
        )?;
        let seq = model.next_sequence();
        Ok(json!({
            "details": details(seq, now(), &org),
            "u2fId": token,
            "publicKeyCredentialCreationOptions": options,
        }))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyRequest {
    public_key_credential: Value,
    token_name: String,
    passkey_name: String,
}

async fn verify_u2f(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, token)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.credential.write")?;
        let req: VerifyRequest = parse_body(&body, "VerifyU2FRegistrationRequest")?;
        finish(
            &mut model,
            &shared.issuer,
            &id,
            WebAuthnKind::U2f,
            &token,
            &req.public_key_credential,
            req.token_name,
        )?;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn remove_u2f(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, token)): Path<(String, String)>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.credential.write")?;
        remove(&mut model, &id, WebAuthnKind::U2f, &token)?;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

/// Consumes a passkey registration code of user `id`.
fn use_code(model: &mut Model, id: &str, code: &CodeInput) -> Result<(), ApiError> {
    let h = human_mut(model, id)?;
    let pos = h
        .passkey_codes
        .iter()
        .position(|c| c.id == code.id && c.code.matches(&code.code))
        .ok_or_else(|| {
            ApiError::new(
                GrpcCode::InvalidArgument,
                "COMMAND-2k9fs",
                "The passkey registration code is invalid",
            )
        })?;
    h.passkey_codes.remove(pos);
    Ok(())
}

async fn register_passkey(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let req: RegisterRequest = parse_body(&body, "RegisterPasskeyRequest")?;
        // A wrong domain must not spend the code.
        RelyingParty::new(&shared.issuer, &req.domain)?;
        let (org, started_by) = match &req.code {
            // A registration code replaces the permission check.
            Some(code) => {
                let caller = authenticate(&model, &headers)?;
                let org = model.user(&id).ok_or_else(user_not_found)?.org_id.clone();
                use_code(&mut model, &id, code)?;
                (org, Some(caller.user_id))
            }
            None => (
                check(&model, &headers, &id, "user.credential.write")?.1,
                None,
            ),
        };
        let attachment = match req.authenticator.as_deref() {
            None | Some("PASSKEY_AUTHENTICATOR_UNSPECIFIED") => None,
            Some("PASSKEY_AUTHENTICATOR_PLATFORM") => Some(AuthenticatorAttachment::Platform),
            Some("PASSKEY_AUTHENTICATOR_CROSS_PLATFORM") => {
                Some(AuthenticatorAttachment::CrossPlatform)
            }
            Some(_) => {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    "invalid RegisterPasskeyRequest.Authenticator",
                ));
            }
        };
        let (token, options) = start(
            &mut model,
            &shared.issuer,
            &id,
            WebAuthnKind::Passkey,
            &req.domain,
            attachment,
            started_by,
        )?;
        let seq = model.next_sequence();
        Ok(json!({
            "details": details(seq, now(), &org),
            "passkeyId": token,
            "publicKeyCredentialCreationOptions": options,
        }))
    })())
}

async fn verify_passkey(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, token)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = match check(&model, &headers, &id, "user.credential.write") {
            Ok((_, org)) => org,
            // A registration started with a code may be finished by the
            // caller who started it.
            Err(e) => {
                let caller = authenticate(&model, &headers)?;
                let started = model.user(&id).and_then(|u| u.human()).is_some_and(|h| {
                    h.webauthn.iter().any(|t| {
                        t.id == token
                            && t.registration.is_some()
                            && t.started_by.as_deref() == Some(caller.user_id.as_str())
                    })
                });
                if !started {
                    return Err(e);
                }
                model
                    .user(&id)
                    .map(|u| u.org_id.clone())
                    .unwrap_or_default()
            }
        };
        let req: VerifyRequest = parse_body(&body, "VerifyPasskeyRegistrationRequest")?;
        finish(
            &mut model,
            &shared.issuer,
            &id,
            WebAuthnKind::Passkey,
            &token,
            &req.public_key_credential,
            req.passkey_name,
        )?;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn remove_passkey(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, token)): Path<(String, String)>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.credential.write")?;
        remove(&mut model, &id, WebAuthnKind::Passkey, &token)?;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LinkRequest {
    send_link: Option<SendLink>,
    return_code: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SendLink {
    url_template: Option<String>,
}

async fn registration_link(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.passkey.write")?;
        let req: LinkRequest = parse_body(&body, "CreatePasskeyRegistrationLinkRequest")?;
        let code_id = model.ids.next();
        let (pending, code) = PendingCode::generate(12, 3600);
        let h = human_mut(&mut model, &id)?;
        h.passkey_codes.push(PasskeyCode {
            id: code_id.clone(),
            code: pending,
        });
        let email = h.email.clone();
        let seq = model.next_sequence();
        let mut body = json!({"details": details(seq, now(), &org)});
        if req.return_code.is_some() {
            body["code"] = json!({"id": code_id, "code": code});
        } else {
            let template = req
                .send_link
                .and_then(|s| s.url_template)
                .unwrap_or_else(|| {
                    format!(
                        "{}/ui/v2/login/passkey/set?userId={{{{.UserID}}}}&orgId={{{{.OrgID}}}}&codeId={{{{.CodeID}}}}&code={{{{.Code}}}}",
                        shared.issuer
                    )
                });
            let url = template
                .replace("{{.UserID}}", &id)
                .replace("{{.OrgID}}", &org)
                .replace("{{.CodeID}}", &code_id)
                .replace("{{.Code}}", &code);
            model.push_outbox(
                "email",
                &email,
                "Register a passkey",
                &format!("Register your passkey: {url}"),
                Some(&code),
            );
        }
        Ok(body)
    })())
}

fn factor_state(t: &WebAuthnToken) -> &'static str {
    if t.credential.is_some() {
        "AUTH_FACTOR_STATE_READY"
    } else {
        "AUTH_FACTOR_STATE_NOT_READY"
    }
}

async fn list_passkeys(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let user = model.user(&id).ok_or_else(user_not_found)?;
        if caller.user_id != user.id
            && !has_permission(&model, &caller, "user.read", Some(&user.org_id))
        {
            return Err(crate::api::permission_denied());
        }
        let result: Vec<Value> = user
            .human()
            .map(|h| {
                h.webauthn
                    .iter()
                    .filter(|t| t.kind == WebAuthnKind::Passkey)
                    .map(|t| {
                        let mut v = json!({"id": t.id, "state": factor_state(t)});
                        if !t.name.is_empty() {
                            v["name"] = json!(t.name);
                        }
                        v
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut d = json!({"timestamp": crate::util::rfc3339(now())});
        if !result.is_empty() {
            d["totalResult"] = json!(result.len().to_string());
        }
        let mut v = json!({"details": d});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct FactorsRequest {
    auth_factors: Vec<String>,
    states: Vec<String>,
}

async fn list_factors(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let user = model.user(&id).ok_or_else(user_not_found)?;
        if caller.user_id != user.id
            && !has_permission(&model, &caller, "user.read", Some(&user.org_id))
        {
            return Err(crate::api::permission_denied());
        }
        // The HTTP rule has no body: ZITADEL reads the filters from the
        // query (`authFactors=U2F&states=…`); a JSON body is accepted too.
        let mut req: FactorsRequest = parse_body(&body, "ListAuthenticationFactorsRequest")?;
        for (k, v) in crate::util::parse_form(q.unwrap_or_default().as_bytes()) {
            match k.as_str() {
                "authFactors" | "auth_factors" => req.auth_factors.push(v),
                "states" => req.states.push(v),
                _ => {}
            }
        }
        let wants =
            |f: &str| req.auth_factors.is_empty() || req.auth_factors.iter().any(|a| a == f);
        let states: Vec<&str> = if req.states.is_empty() {
            vec!["AUTH_FACTOR_STATE_READY"]
        } else {
            req.states.iter().map(String::as_str).collect()
        };
        let mut result = Vec::new();
        if let Some(h) = user.human() {
            let ready = "AUTH_FACTOR_STATE_READY";
            if let Some(t) = &h.totp
                && wants("OTP")
            {
                let s = if t.ready {
                    ready
                } else {
                    "AUTH_FACTOR_STATE_NOT_READY"
                };
                result.push((s, json!({"otp": {}})));
            }
            if h.otp_sms && wants("OTP_SMS") {
                result.push((ready, json!({"otpSms": {}})));
            }
            if h.otp_email && wants("OTP_EMAIL") {
                result.push((ready, json!({"otpEmail": {}})));
            }
            if wants("U2F") {
                for t in h.webauthn.iter().filter(|t| t.kind == WebAuthnKind::U2f) {
                    let mut u2f = json!({"id": t.id});
                    if !t.name.is_empty() {
                        u2f["name"] = json!(t.name);
                    }
                    result.push((factor_state(t), json!({"u2f": u2f})));
                }
            }
        }
        let result: Vec<Value> = result
            .into_iter()
            .filter(|(s, _)| states.contains(s))
            .map(|(s, mut v)| {
                v["state"] = json!(s);
                v
            })
            .collect();
        let mut v = json!({});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}
