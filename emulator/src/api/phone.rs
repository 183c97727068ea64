//! Phone of users v2 (set, remove, verify, resend) and OTP SMS.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{
    Caller, authenticate, details, has_permission, human_mut, parse_body, permission_denied,
    require,
};
use crate::error::{ApiError, GrpcCode};
use crate::model::State as Model;
use crate::server::AppState;
use crate::util::now;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/users/{id}/phone", post(set_phone).delete(remove_phone))
        .route("/v2/users/{id}/phone/resend", post(resend_code))
        .route("/v2/users/{id}/phone/verify", post(verify_phone))
        .route(
            "/v2/users/{id}/otp_sms",
            post(add_otp_sms).delete(remove_otp_sms),
        )
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Self or `permission` on the user's org; returns the caller and the org.
fn check(
    model: &Model,
    headers: &HeaderMap,
    id: &str,
    permission: &str,
) -> Result<(Caller, String), ApiError> {
    let caller = authenticate(model, headers)?;
    let user = model.user(id).ok_or_else(|| {
        ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
    })?;
    if caller.user_id != user.id && !has_permission(model, &caller, permission, Some(&user.org_id))
    {
        return Err(permission_denied());
    }
    Ok((caller, user.org_id.clone()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct SetPhone {
    pub(crate) phone: String,
    pub(crate) send_code: Option<Value>,
    pub(crate) return_code: Option<Value>,
    pub(crate) is_verified: Option<bool>,
}

/// Sets (or, with an empty number, removes) a phone; returns the code when
/// `returnCode` was asked for.
pub(crate) fn apply_phone(
    model: &mut Model,
    caller: &Caller,
    id: &str,
    org: &str,
    req: SetPhone,
) -> Result<Option<String>, ApiError> {
    let phone = req.phone.trim().to_owned();
    if phone.is_empty() {
        let h = human_mut(model, id)?;
        h.phone.clear();
        h.phone_verified = false;
        h.phone_code = None;
        h.otp_sms = false;
        return Ok(None);
    }
    let valid = phone.starts_with('+')
        && phone.len() >= 8
        && phone[1..].chars().all(|c| c.is_ascii_digit() || c == ' ');
    if !valid {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "EMU-PHONE01",
            "Phone number is invalid (use +<country code><number>)",
        ));
    }
    let verified = req.is_verified == Some(true);
    if verified {
        require(model, caller, "user.write", Some(org))?;
    }
    let h = human_mut(model, id)?;
    h.phone = phone.replace(' ', "");
    h.phone_verified = verified;
    h.phone_code = None;
    if verified {
        return Ok(None);
    }
    let returned = req.return_code.is_some();
    let code = model.new_phone_code(id, !returned);
    Ok(if returned { code } else { None })
}

async fn set_phone(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (caller, org) = check(&model, &headers, &id, "user.write")?;
        let req: SetPhone = parse_body(&body, "SetPhoneRequest")?;
        let code = apply_phone(&mut model, &caller, &id, &org, req)?;
        let seq = model.next_sequence();
        let mut v = json!({"details": details(seq, now(), &org)});
        if let Some(c) = code {
            v["verificationCode"] = json!(c);
        }
        Ok(v)
    })())
}

async fn remove_phone(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (caller, org) = check(&model, &headers, &id, "user.write")?;
        if model
            .user(&id)
            .and_then(|u| u.human())
            .is_none_or(|h| h.phone.is_empty())
        {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "EMU-PHONE02",
                "Phone not found",
            ));
        }
        apply_phone(&mut model, &caller, &id, &org, SetPhone::default())?;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ResendRequest {
    return_code: Option<Value>,
}

async fn resend_code(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.write")?;
        let req: ResendRequest = parse_body(&body, "ResendPhoneCodeRequest")?;
        if model
            .user(&id)
            .and_then(|u| u.human())
            .is_none_or(|h| h.phone_code.is_none())
        {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "PHONE-5xrra88eq8",
                "Code is empty",
            ));
        }
        let returned = req.return_code.is_some();
        let code = model.new_phone_code(&id, !returned);
        let seq = model.next_sequence();
        let mut v = json!({"details": details(seq, now(), &org)});
        if returned {
            v["verificationCode"] = json!(code);
        }
        Ok(v)
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyRequest {
    verification_code: String,
}

async fn verify_phone(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.write")?;
        let req: VerifyRequest = parse_body(&body, "VerifyPhoneRequest")?;
        let h = human_mut(&mut model, &id)?;
        let pending = h.phone_code.as_ref().ok_or_else(|| {
            ApiError::new(GrpcCode::FailedPrecondition, "EMU-USER06", "Code is empty")
        })?;
        if pending.expired() {
            return Err(crate::api::user_write::code_expired());
        }
        if !pending.matches(&req.verification_code) {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "EMU-USER07",
                "Code is invalid",
            ));
        }
        h.phone_code = None;
        h.phone_verified = true;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn add_otp_sms(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.credential.write")?;
        let h = human_mut(&mut model, &id)?;
        // ZITADEL checks "already added" before "phone verified".
        if h.otp_sms {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "COMMAND-Ad3g2",
                "Multifactor OTP (OneTimePassword) is already set up",
            ));
        }
        if h.phone.is_empty() || !h.phone_verified {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-Q54j2",
                "Multifactor OTP (OneTimePassword) isn't ready",
            ));
        }
        h.otp_sms = true;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn remove_otp_sms(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let (_, org) = check(&model, &headers, &id, "user.credential.write")?;
        let h = human_mut(&mut model, &id)?;
        if !h.otp_sms {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "COMMAND-Sr3h3",
                "Multifactor OTP (OneTimePassword) doesn't exist",
            ));
        }
        h.otp_sms = false;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}
