//! Second factors of users v2: TOTP, OTP email; authentication methods.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authenticate, details, has_permission, parse_body, permission_denied};
use crate::error::{ApiError, GrpcCode};
use crate::model::{State as Model, TotpFactor, UserKind};
use crate::server::AppState;
use crate::util::{encode_query, now};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/users/{id}/totp",
            post(register_totp).delete(remove_totp),
        )
        .route("/v2/users/{id}/totp/verify", post(verify_totp))
        .route(
            "/v2/users/{id}/otp_email",
            post(add_otp_email).delete(remove_otp_email),
        )
        .route(
            "/v2/users/{id}/recovery_codes",
            post(generate_recovery_codes).delete(remove_recovery_codes),
        )
        .route(
            "/v2/users/{id}/authentication_methods",
            axum::routing::get(auth_methods),
        )
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Self or `user.credential.write`; returns the user's org.
fn check(model: &Model, headers: &HeaderMap, id: &str) -> Result<String, ApiError> {
    let caller = authenticate(model, headers)?;
    let user = model.user(id).ok_or_else(|| {
        ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
    })?;
    if caller.user_id != user.id
        && !has_permission(model, &caller, "user.credential.write", Some(&user.org_id))
    {
        return Err(permission_denied());
    }
    Ok(user.org_id.clone())
}

fn totp_mut<'a>(model: &'a mut Model, id: &str) -> Result<&'a mut Option<TotpFactor>, ApiError> {
    let user = model.users.iter_mut().find(|u| u.id == id).ok_or_else(|| {
        ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
    })?;
    user.changed = now();
    match &mut user.kind {
        UserKind::Human(h) => Ok(&mut h.totp),
        UserKind::Machine(_) => Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "EMU-USER04",
            "User is not human",
        )),
    }
}

async fn register_totp(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let issuer_host = url::Url::parse(&shared.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "zitadel".to_owned());
    let mut model = shared.lock();
    respond((|| {
        let org = check(&model, &headers, &id)?;
        let login = model
            .user(&id)
            .map(|u| model.login_name(u))
            .unwrap_or_default();
        let slot = totp_mut(&mut model, &id)?;
        if slot.as_ref().is_some_and(|t| t.ready) {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "COMMAND-do9se",
                "Multifactor OTP (OneTimePassword) is already set up",
            ));
        }
        let secret = crate::totp::new_secret();
        *slot = Some(TotpFactor {
            secret: secret.clone(),
            ready: false,
        });
        let uri = format!(
            "otpauth://totp/{}:{}?{}",
            issuer_host,
            login,
            encode_query(&[("secret", &secret), ("issuer", &issuer_host)])
        );
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org), "uri": uri, "secret": secret}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyRequest {
    code: String,
}

async fn verify_totp(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = check(&model, &headers, &id)?;
        let req: VerifyRequest = parse_body(&body, "VerifyTOTPRegistrationRequest")?;
        let slot = totp_mut(&mut model, &id)?;
        let Some(totp) = slot.as_mut() else {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "COMMAND-3Mif9s",
                "Multifactor OTP (OneTimePassword) doesn't exist",
            ));
        };
        if totp.ready {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-qx4ls",
                // ZITADEL's key has a typo ("Users") and so no translation.
                "Errors.Users.MFA.OTP.AlreadyReady",
            ));
        }
        if !crate::totp::verify(&totp.secret, &req.code, now()) {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "EVENT-8isk2",
                "Invalid code",
            ));
        }
        totp.ready = true;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn remove_totp(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = check(&model, &headers, &id)?;
        let slot = totp_mut(&mut model, &id)?;
        if slot.take().is_none() {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "COMMAND-Hd9sd",
                "Multifactor OTP (OneTimePassword) doesn't exist",
            ));
        }
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn add_otp_email(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = check(&model, &headers, &id)?;
        let user = model.users.iter_mut().find(|u| u.id == id).ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
        })?;
        let UserKind::Human(h) = &mut user.kind else {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-USER04",
                "User is not human",
            ));
        };
        if h.otp_email {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "COMMAND-MKL2s",
                "Multifactor OTP (OneTimePassword) is already set up",
            ));
        }
        if !h.email_verified {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-KLJ2d",
                "Multifactor OTP (OneTimePassword) isn't ready",
            ));
        }
        h.otp_email = true;
        user.changed = now();
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn remove_otp_email(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = check(&model, &headers, &id)?;
        let user = model.users.iter_mut().find(|u| u.id == id).ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
        })?;
        let UserKind::Human(h) = &mut user.kind else {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-USER04",
                "User is not human",
            ));
        };
        if !h.otp_email {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "COMMAND-b312D",
                "Multifactor OTP (OneTimePassword) doesn't exist",
            ));
        }
        h.otp_email = false;
        user.changed = now();
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn auth_methods(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let user = model.user(&id).ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
        })?;
        if caller.user_id != user.id
            && !has_permission(&model, &caller, "user.read", Some(&user.org_id))
        {
            return Err(permission_denied());
        }
        let mut methods = Vec::new();
        if let Some(h) = user.human() {
            if h.password_hash.is_some() {
                methods.push("AUTHENTICATION_METHOD_TYPE_PASSWORD");
            }
            if h.has_webauthn(crate::model::WebAuthnKind::Passkey) {
                methods.push("AUTHENTICATION_METHOD_TYPE_PASSKEY");
            }
            if h.totp.as_ref().is_some_and(|t| t.ready) {
                methods.push("AUTHENTICATION_METHOD_TYPE_TOTP");
            }
            if h.has_webauthn(crate::model::WebAuthnKind::U2f) {
                methods.push("AUTHENTICATION_METHOD_TYPE_U2F");
            }
            if h.otp_sms {
                methods.push("AUTHENTICATION_METHOD_TYPE_OTP_SMS");
            }
            if h.otp_email {
                methods.push("AUTHENTICATION_METHOD_TYPE_OTP_EMAIL");
            }
            if !h.recovery_codes.is_empty() {
                methods.push("AUTHENTICATION_METHOD_TYPE_RECOVERY_CODE");
            }
        }
        let mut v = json!({"details": {"timestamp": crate::util::rfc3339(now())}});
        if !methods.is_empty() {
            v["details"]["totalResult"] = json!(methods.len().to_string());
        }
        if !methods.is_empty() {
            v["authMethodTypes"] = json!(methods);
        }
        Ok(v)
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RecoveryRequest {
    count: i32,
}

async fn generate_recovery_codes(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = check(&model, &headers, &id)?;
        let req: RecoveryRequest = parse_body(&body, "GenerateRecoveryCodesRequest")?;
        if !(1..=50).contains(&req.count) {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid GenerateRecoveryCodesRequest.Count: value must be inside range [1, 50]",
            ));
        }
        let codes: Vec<String> = (0..req.count)
            .map(|_| {
                let raw = crate::util::random_from(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 10);
                format!("{}-{}", &raw[..5], &raw[5..])
            })
            .collect();
        let user = model.users.iter_mut().find(|u| u.id == id).ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
        })?;
        let UserKind::Human(h) = &mut user.kind else {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-USER04",
                "User is not human",
            ));
        };
        if !h.recovery_codes.is_empty() {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "EMU-MFA12",
                "Recovery codes already exist",
            ));
        }
        h.recovery_codes = codes.iter().map(|c| crate::util::sha256_hex(c)).collect();
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org), "recoveryCodes": codes}))
    })())
}

async fn remove_recovery_codes(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = check(&model, &headers, &id)?;
        let user = model.users.iter_mut().find(|u| u.id == id).ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
        })?;
        let UserKind::Human(h) = &mut user.kind else {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-USER04",
                "User is not human",
            ));
        };
        if h.recovery_codes.is_empty() {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "EMU-MFA13",
                "No recovery codes",
            ));
        }
        h.recovery_codes.clear();
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}
