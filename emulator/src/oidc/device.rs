//! `/oauth/v2/device_authorization` (RFC 8628).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::OAuthError;
use crate::model::{DeviceRequest, DeviceState};
use crate::oidc::{authenticate_client, client_auth, json_no_store};
use crate::server::AppState;
use crate::util::{encode_query, form_get, now, parse_form, random_from, random_token, sha256_hex};

/// Lifetime of a device request in seconds (ZITADEL default 5 min).
const DEVICE_LIFETIME: i64 = 300;
/// Polling interval in seconds.
const INTERVAL: i64 = 5;
/// ZITADEL's user code alphabet.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

pub(crate) async fn device_authorization(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let app = match authenticate_client(&model, client_auth(&headers, &form).as_ref()) {
        Ok(app) => app,
        Err(e) => return e.into_response(),
    };
    if !app.device_code_grant {
        return OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "device code grant not enabled for this client",
        )
        .into_response();
    }
    let scopes: Vec<String> = form_get(&form, "scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if let Err(scope) = crate::oidc::scoped_org(&model, &scopes) {
        return OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("unknown org in {scope}"),
        )
        .into_response();
    }
    let device_code = random_token(32);
    let raw = random_from(USER_CODE_ALPHABET, 8);
    let user_code = format!("{}-{}", &raw[..4], &raw[4..]);
    let id = model.ids.next();
    model.device_requests.push(DeviceRequest {
        id,
        device_code_hash: sha256_hex(&device_code),
        user_code: user_code.clone(),
        client_id: app.client_id.clone(),
        scopes,
        expires: now() + DEVICE_LIFETIME,
        interval: INTERVAL,
        last_poll: None,
        state: DeviceState::Pending,
        ui_locales: Vec::new(),
    });
    let verification_uri = shared.url("/device");
    let complete = format!(
        "{verification_uri}?{}",
        encode_query(&[("user_code", &user_code)])
    );
    json_no_store(
        StatusCode::OK,
        json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": complete,
            "expires_in": DEVICE_LIFETIME,
            "interval": INTERVAL,
        }),
    )
}
