//! `/oidc/v1/end_session`: RP-initiated logout.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::OAuthError;
use crate::model::LogoutRequest;
use crate::oidc::authorize::found;
use crate::oidc::redirect_matches;
use crate::server::AppState;
use crate::util::{encode_query, form_get, now, parse_form};

#[derive(Deserialize)]
struct HintClaims {
    sub: String,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    azp: Option<String>,
}

pub(crate) async fn end_session_get(
    State(shared): State<AppState>,
    RawQuery(q): RawQuery,
) -> Response {
    end_session(&shared, &parse_form(q.unwrap_or_default().as_bytes()))
}

pub(crate) async fn end_session_post(State(shared): State<AppState>, body: Bytes) -> Response {
    end_session(&shared, &parse_form(&body))
}

fn end_session(shared: &AppState, form: &[(String, String)]) -> Response {
    let mut model = shared.lock();
    let hint = match form_get(form, "id_token_hint") {
        Some(t) => match model.keys.verify_ignoring_expiry::<HintClaims>(t) {
            Some(c) => Some(c),
            None => return OAuthError::invalid_request("id_token_hint invalid").into_response(),
        },
        None => None,
    };
    let client_id = match (
        hint.as_ref().and_then(|h| h.azp.clone()),
        form_get(form, "client_id"),
    ) {
        (Some(a), Some(c)) if a != c => {
            return OAuthError::invalid_request("client_id does not match the id_token_hint")
                .into_response();
        }
        (Some(a), _) => Some(a),
        (None, c) => c.map(str::to_owned),
    };
    let mut redirect = None;
    if let (Some(uri), Some(cid)) = (
        form_get(form, "post_logout_redirect_uri"),
        client_id.as_deref(),
    ) {
        let Some(app) = model.app_by_client_id(cid) else {
            return OAuthError::invalid_request("client not found").into_response();
        };
        if !redirect_matches(app, &app.post_logout_redirect_uris, uri) {
            return OAuthError::invalid_request("post_logout_redirect_uri invalid").into_response();
        }
        redirect = Some(match form_get(form, "state") {
            Some(state) => {
                let sep = if uri.contains('?') { '&' } else { '?' };
                format!("{uri}{sep}{}", encode_query(&[("state", state)]))
            }
            None => uri.to_owned(),
        });
    }
    if let Some(hint) = hint {
        // A V2 login: `sid` is the session id; end that session directly.
        if let Some(sid) = hint.sid
            && model
                .sessions
                .get(&sid)
                .is_some_and(|s| s.user_id == hint.sub)
        {
            model.terminate_session(&sid);
        }
        drop(model);
        return match redirect {
            Some(r) => found(&r),
            None => found(&shared.url("/ui/v2/login/logout/done")),
        };
    }
    // No hint: let the user pick the sessions to end on the logout page.
    let id = crate::util::random_token(16);
    model.logout_requests.insert(
        id.clone(),
        LogoutRequest {
            redirect,
            created: now(),
        },
    );
    drop(model);
    let mut location = shared.url("/ui/v2/login/logout?");
    location.push_str(&encode_query(&[("logoutRequest", &id)]));
    if let Some(l) = form_get(form, "ui_locales") {
        location.push('&');
        location.push_str(&encode_query(&[("ui_locales", l)]));
    }
    let _ = StatusCode::FOUND;
    found(&location)
}
