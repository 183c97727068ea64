//! OIDC service v2: auth requests (GetAuthRequest, CreateCallback) and device
//! authorizations (get, authorize or deny).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::api::{authenticate, details, parse_body, require};
use crate::error::{ApiError, GrpcCode};
use crate::model::{DeviceState, Prompt};
use crate::server::AppState;
use crate::util::{ct_eq, encode_query, now, rfc3339, sha256_hex};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/oidc/auth_requests/{id}",
            get(get_auth_request).post(create_callback),
        )
        .route(
            "/v2/oidc/device_authorization/{code}",
            get(get_device).post(authorize_device),
        )
}

/// ZITADEL's ids: `QUERY-Thee9` when reading, `COMMAND-jae5P` when linking.
fn auth_request_not_found(id: &'static str) -> ApiError {
    ApiError::new(GrpcCode::NotFound, id, "Auth Request does not exist")
}

async fn get_auth_request(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        require(&model, &caller, "session.read", None)?;
        let ar = model
            .auth_requests
            .get(&id)
            .ok_or_else(|| auth_request_not_found("QUERY-Thee9"))?;
        let prompt: Vec<&str> = ar
            .prompt
            .iter()
            .map(|p| match p {
                Prompt::None => "PROMPT_NONE",
                Prompt::Login => "PROMPT_LOGIN",
                Prompt::Consent => "PROMPT_CONSENT",
                Prompt::SelectAccount => "PROMPT_SELECT_ACCOUNT",
                Prompt::Create => "PROMPT_CREATE",
            })
            .collect();
        let mut v = json!({
            "id": ar.id,
            "creationDate": rfc3339(ar.created),
            "clientId": ar.client_id,
            "scope": ar.scopes,
            "redirectUri": ar.redirect_uri,
        });
        if !prompt.is_empty() {
            v["prompt"] = json!(prompt);
        }
        if !ar.ui_locales.is_empty() {
            v["uiLocales"] = json!(ar.ui_locales);
        }
        if let Some(h) = &ar.login_hint {
            v["loginHint"] = json!(h);
            if let Some(u) = model.find_user_by_login_name(h, ar.org_id.as_deref()) {
                v["hintUserId"] = json!(u.id);
            }
        }
        if let Some(m) = ar.max_age {
            v["maxAge"] = json!(format!("{m}s"));
        }
        Ok(json!({ "authRequest": v }))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SessionRef {
    session_id: String,
    session_token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AuthorizationError {
    error: String,
    error_description: Option<String>,
    error_uri: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CreateCallbackRequest {
    session: Option<SessionRef>,
    error: Option<AuthorizationError>,
}

/// Maps `ERROR_REASON_*` to the OAuth error code.
fn oauth_error(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "ERROR_REASON_UNSPECIFIED" => "server_error",
        "ERROR_REASON_INVALID_REQUEST" => "invalid_request",
        "ERROR_REASON_UNAUTHORIZED_CLIENT" => "unauthorized_client",
        "ERROR_REASON_ACCESS_DENIED" => "access_denied",
        "ERROR_REASON_UNSUPPORTED_RESPONSE_TYPE" => "unsupported_response_type",
        "ERROR_REASON_INVALID_SCOPE" => "invalid_scope",
        "ERROR_REASON_SERVER_ERROR" => "server_error",
        "ERROR_REASON_TEMPORARY_UNAVAILABLE" => "temporarily_unavailable",
        "ERROR_REASON_INTERACTION_REQUIRED" => "interaction_required",
        "ERROR_REASON_LOGIN_REQUIRED" => "login_required",
        "ERROR_REASON_ACCOUNT_SELECTION_REQUIRED" => "account_selection_required",
        "ERROR_REASON_CONSENT_REQUIRED" => "consent_required",
        "ERROR_REASON_INVALID_REQUEST_URI" => "invalid_request_uri",
        "ERROR_REASON_INVALID_REQUEST_OBJECT" => "invalid_request_object",
        "ERROR_REASON_REQUEST_NOT_SUPPORTED" => "request_not_supported",
        "ERROR_REASON_REQUEST_URI_NOT_SUPPORTED" => "request_uri_not_supported",
        "ERROR_REASON_REGISTRATION_NOT_SUPPORTED" => "registration_not_supported",
        _ => return None,
    })
}

fn check_session_token(model: &crate::model::State, r: &SessionRef) -> Result<(), ApiError> {
    let ok = model
        .sessions
        .get(&r.session_id)
        .filter(|s| s.is_active(now()))
        .is_some_and(|s| ct_eq(&s.token_hash, &sha256_hex(&r.session_token)));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            GrpcCode::PermissionDenied,
            "EMU-OIDC02",
            "Session token is invalid",
        ))
    }
}

async fn create_callback(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let issuer = shared.issuer.clone();
    let mut model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        require(&model, &caller, "session.link", None)?;
        let req: CreateCallbackRequest = parse_body(&body, "CreateCallbackRequest")?;
        let ar = model
            .auth_requests
            .get(&id)
            .ok_or_else(|| auth_request_not_found("COMMAND-jae5P"))?;
        if ar.handled {
            // ZITADEL raises this with different ids on its two paths.
            let err_id = if req.error.is_some() {
                "COMMAND-Sx202nt"
            } else {
                "COMMAND-Sx208nt"
            };
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                err_id,
                "Auth request has already been handled",
            ));
        }
        let callback = match (req.session, req.error) {
            (Some(s), None) => {
                check_session_token(&model, &s)?;
                let resp =
                    crate::oidc::finish_auth_request(&mut model, &issuer, &id, &s.session_id)?;
                resp.headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        ApiError::new(
                            GrpcCode::Unimplemented,
                            "EMU-OIDC03",
                            "response_mode form_post is not supported through CreateCallback",
                        )
                    })?
            }
            (None, Some(e)) => {
                let code = oauth_error(&e.error).ok_or_else(|| {
                    ApiError::new(
                        GrpcCode::InvalidArgument,
                        "",
                        "invalid CreateCallbackRequest.Error.Error",
                    )
                })?;
                let ar = model
                    .auth_requests
                    .get_mut(&id)
                    .ok_or_else(|| auth_request_not_found("COMMAND-jae5P"))?;
                ar.handled = true;
                let mut params = vec![("error", code.to_owned())];
                if let Some(d) = e.error_description {
                    params.push(("error_description", d));
                }
                if let Some(u) = e.error_uri {
                    params.push(("error_uri", u));
                }
                if let Some(s) = &ar.state {
                    params.push(("state", s.clone()));
                }
                let pairs: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let sep = if ar.redirect_uri.contains('?') {
                    '&'
                } else {
                    '?'
                };
                format!("{}{sep}{}", ar.redirect_uri, encode_query(&pairs))
            }
            _ => {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    "invalid CreateCallbackRequest: exactly one of session or error is required",
                ));
            }
        };
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &model.instance_id), "callbackUrl": callback}))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// An unknown device authorization: ZITADEL's `QUERY-Sah9a` when reading,
/// `COMMAND-Hief9` when authorizing or denying (the emulator's own for a
/// missing session).
fn device_not_found(id: &'static str) -> ApiError {
    ApiError::new(
        GrpcCode::NotFound,
        id,
        "Device Authorization Request does not exist",
    )
}

async fn get_device(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        require(&model, &caller, "session.read", None)?;
        let d = model
            .device_requests
            .iter()
            .find(|d| d.user_code == code && d.state == DeviceState::Pending && d.expires > now())
            .ok_or_else(|| device_not_found("QUERY-Sah9a"))?;
        let app = model.app_by_client_id(&d.client_id);
        let project = app.and_then(|a| model.project(&a.project_id));
        Ok(json!({"deviceAuthorizationRequest": {
            "id": d.id,
            "clientId": d.client_id,
            "scope": d.scopes,
            "appName": app.map(|a| a.name.clone()).unwrap_or_default(),
            "projectName": project.map(|p| p.name.clone()).unwrap_or_default(),
        }}))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AuthorizeOrDenyRequest {
    session: Option<SessionRef>,
    deny: Option<serde_json::Value>,
}

async fn authorize_device(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller = authenticate(&model, &headers)?;
        require(&model, &caller, "session.link", None)?;
        let req: AuthorizeOrDenyRequest =
            parse_body(&body, "AuthorizeOrDenyDeviceAuthorizationRequest")?;
        let new_state = match (req.session, req.deny) {
            (Some(s), None) => {
                check_session_token(&model, &s)?;
                let session = model
                    .sessions
                    .get(&s.session_id)
                    .ok_or_else(|| device_not_found("EMU-OIDC04"))?;
                let auth_time = session.auth_time().ok_or_else(|| {
                    ApiError::new(
                        GrpcCode::FailedPrecondition,
                        "EMU-OIDC05",
                        "Session is not authenticated",
                    )
                })?;
                DeviceState::Approved {
                    user_id: session.user_id.clone(),
                    session_id: session.id.clone(),
                    auth_time,
                    amr: session.amr(),
                }
            }
            (None, Some(_)) => DeviceState::Denied,
            _ => {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    "invalid AuthorizeOrDenyDeviceAuthorizationRequest: exactly one of session or deny is required",
                ));
            }
        };
        let d = model
            .device_requests
            .iter_mut()
            .find(|d| d.id == id && d.expires > now())
            .ok_or_else(|| device_not_found("COMMAND-Hief9"))?;
        if d.state != DeviceState::Pending {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-GEJL3",
                "Device Authorization Request has already been handled",
            ));
        }
        d.state = new_state;
        Ok(json!({}))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
