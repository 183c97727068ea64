//! Userinfo, introspection and revocation.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::OAuthError;
use crate::model::{AccessToken, AppType, State as Model};
use crate::oidc::{authenticate_client, client_auth, json_no_store, user_claims};
use crate::server::AppState;
use crate::util::{form_get, now, parse_form, sha256_hex};

/// Looks up a valid access token.
pub(crate) fn valid_access_token<'a>(model: &'a Model, token: &str) -> Option<&'a AccessToken> {
    let t = now();
    let at = model
        .access_tokens
        .get(&sha256_hex(token))
        .filter(|a| a.expires > t)?;
    // Tokens derived from a session end with it.
    if let Some(sid) = &at.grant.session_id
        && model.sessions.get(sid).is_none_or(|s| !s.is_active(t))
    {
        return None;
    }
    // Tokens of users who are no longer active stop working.
    if model
        .user(&at.grant.user_id)
        .is_none_or(|u| u.state != crate::model::UserState::Active)
    {
        return None;
    }
    Some(at)
}

fn bearer(headers: &HeaderMap, form: &[(String, String)]) -> Option<String> {
    crate::api::bearer(headers)
        .or_else(|| form_get(form, "access_token"))
        .map(str::to_owned)
}

pub(crate) async fn userinfo(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let model = shared.lock();
    let Some(at) = bearer(&headers, &form).and_then(|t| valid_access_token(&model, &t)) else {
        let mut resp = OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "access token invalid",
        )
        .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        return resp;
    };
    let app = model.app_by_client_id(&at.grant.client_id);
    let claims = user_claims(&model, &at.grant.user_id, app, &at.grant.scopes);
    json_no_store(StatusCode::OK, Value::Object(claims))
}

pub(crate) async fn introspect(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let model = shared.lock();
    let auth = client_auth(&headers, &form);
    // Public clients cannot introspect (ZITADEL: API apps or confidential clients only).
    let app = match authenticate_client(&model, auth.as_ref()) {
        Ok(app) if app.app_type != AppType::Native => app,
        Ok(_) => return OAuthError::invalid_client("client must authenticate").into_response(),
        Err(e) => return e.into_response(),
    };
    let Some(token) = form_get(&form, "token") else {
        return OAuthError::invalid_request("token missing").into_response();
    };
    let active = valid_access_token(&model, token).filter(|at| {
        at.grant.audience.contains(&app.project_id) || at.grant.audience.contains(&app.client_id)
    });
    let Some(at) = active else {
        return json_no_store(StatusCode::OK, json!({"active": false}));
    };
    let token_app = model.app_by_client_id(&at.grant.client_id);
    let mut claims = user_claims(&model, &at.grant.user_id, token_app, &at.grant.scopes);
    claims.insert("active".into(), json!(true));
    claims.insert("scope".into(), json!(at.grant.scopes.join(" ")));
    claims.insert("client_id".into(), json!(at.grant.client_id));
    claims.insert("token_type".into(), json!("Bearer"));
    claims.insert("exp".into(), json!(at.expires));
    claims.insert("iat".into(), json!(at.issued));
    claims.insert("nbf".into(), json!(at.issued));
    claims.insert("aud".into(), json!(at.grant.audience));
    claims.insert("iss".into(), json!(shared.issuer));
    claims.insert("jti".into(), json!(at.id));
    if let Some(user) = model.user(&at.grant.user_id) {
        claims.insert("username".into(), json!(model.login_name(user)));
    }
    json_no_store(StatusCode::OK, Value::Object(claims))
}

pub(crate) async fn revoke(
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
    let Some(token) = form_get(&form, "token") else {
        return OAuthError::invalid_request("token missing").into_response();
    };
    let hash = sha256_hex(token);
    // RFC 7009: unknown tokens and tokens of other clients are answered with 200.
    if model
        .refresh_tokens
        .get(&hash)
        .is_some_and(|r| r.grant.client_id == app.client_id)
    {
        model.refresh_tokens.remove(&hash);
        model
            .access_tokens
            .retain(|_, a| a.refresh_hash.as_deref() != Some(hash.as_str()));
    } else if model
        .access_tokens
        .get(&hash)
        .is_some_and(|a| a.grant.client_id == app.client_id)
    {
        model.access_tokens.remove(&hash);
    }
    StatusCode::OK.into_response()
}
