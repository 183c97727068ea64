//! `/oauth/v2/authorize`: validates the request, stores an auth request
//! `V2_<id>` and sends the browser to the hosted login.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::{ApiError, GrpcCode};
use crate::model::{AppType, AuthCode, AuthRequest, Prompt, State as Model};
use crate::oidc::{error_page, redirect_matches, scoped_org, session_satisfies};
use crate::server::AppState;
use crate::util::{encode_query, form_get, html_escape, now, parse_form, random_token, sha256_hex};

/// Lifetime of an authorization code in seconds.
const CODE_LIFETIME: i64 = 300;

pub(crate) async fn authorize_get(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let form = parse_form(query.unwrap_or_default().as_bytes());
    authorize(&shared, &headers, &form)
}

pub(crate) async fn authorize_post(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    authorize(&shared, &headers, &form)
}

/// Where and how to send an authorization response.
pub(crate) struct Redirect<'a> {
    pub(crate) uri: &'a str,
    pub(crate) mode: Option<&'a str>,
}

impl Redirect<'_> {
    /// Sends the parameters to the client's redirect URI.
    pub(crate) fn send(&self, params: &[(&str, &str)]) -> Response {
        if self.mode == Some("form_post") {
            let inputs: String = params
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                        html_escape(k),
                        html_escape(v)
                    )
                })
                .collect();
            return Html(format!(
                "<!doctype html><html><body onload=\"document.forms[0].submit()\">\
                 <form method=\"post\" action=\"{}\">{inputs}<noscript><button>Continue</button></noscript></form></body></html>",
                html_escape(self.uri)
            ))
            .into_response();
        }
        let sep = if self.mode == Some("fragment") {
            '#'
        } else if self.uri.contains('?') {
            '&'
        } else {
            '?'
        };
        found(&format!("{}{sep}{}", self.uri, encode_query(params)))
    }
}

/// A 302 redirect.
pub(crate) fn found(location: &str) -> Response {
    match axum::http::HeaderValue::from_str(location) {
        Ok(v) => {
            let mut resp = StatusCode::FOUND.into_response();
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "invalid redirect",
        ),
    }
}

fn authorize(shared: &AppState, headers: &HeaderMap, form: &[(String, String)]) -> Response {
    let issuer = shared.issuer.clone();
    let mut model = shared.lock();
    let Some(client_id) = form_get(form, "client_id") else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id missing",
        );
    };
    let Some(app) = model.app_by_client_id(client_id).cloned() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "client not found",
        );
    };
    let Some(redirect_uri) = form_get(form, "redirect_uri") else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri missing",
        );
    };
    if !redirect_matches(&app, &app.redirect_uris, redirect_uri) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The requested redirect_uri is missing in the client configuration.",
        );
    }
    let state = form_get(form, "state").map(str::to_owned);
    let response_mode = form_get(form, "response_mode").map(str::to_owned);
    let redirect = Redirect {
        uri: redirect_uri,
        mode: response_mode.as_deref(),
    };
    let fail = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(s) = state.as_deref() {
            params.push(("state", s));
        }
        params.push(("iss", issuer.as_str()));
        redirect.send(&params)
    };
    if !matches!(
        response_mode.as_deref(),
        None | Some("query" | "fragment" | "form_post")
    ) {
        return fail("invalid_request", "unsupported response_mode");
    }
    if form_get(form, "response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "The requested response type is not supported (only code).",
        );
    }
    if app.app_type == AppType::Api {
        return fail(
            "unauthorized_client",
            "API applications cannot use the authorization endpoint",
        );
    }
    let scopes: Vec<String> = form_get(form, "scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return fail(
            "invalid_scope",
            "The scope openid is missing in your request. Please ensure the scope openid is added to the request.",
        );
    }
    let code_challenge = form_get(form, "code_challenge").map(str::to_owned);
    match (
        code_challenge.as_deref(),
        form_get(form, "code_challenge_method"),
    ) {
        (None, _) if app.app_type == AppType::Native => {
            return fail("invalid_request", "code_challenge required (PKCE S256)");
        }
        (Some(_), Some("S256")) | (None, _) => {}
        (Some(_), _) => {
            return fail("invalid_request", "code_challenge_method must be S256");
        }
    }
    let mut prompt = Vec::new();
    for p in form_get(form, "prompt")
        .unwrap_or_default()
        .split_whitespace()
    {
        prompt.push(match p {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" => Prompt::Consent,
            "select_account" => Prompt::SelectAccount,
            "create" => Prompt::Create,
            _ => return fail("invalid_request", "invalid prompt value"),
        });
    }
    if prompt.contains(&Prompt::None) && prompt.len() > 1 {
        return fail(
            "invalid_request",
            "prompt none must not be combined with other values",
        );
    }
    let max_age = match form_get(form, "max_age") {
        None | Some("") => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return fail("invalid_request", "invalid max_age"),
        },
    };
    let org_id = match scoped_org(&model, &scopes) {
        Ok(o) => o,
        Err(scope) => {
            return fail(
                "invalid_scope",
                &format!("organization of scope {scope} not found"),
            );
        }
    };
    let id = format!("V2_{}", model.ids.next());
    let request = AuthRequest {
        id: id.clone(),
        created: now(),
        client_id: app.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: state.clone(),
        nonce: form_get(form, "nonce").map(str::to_owned),
        code_challenge,
        response_mode: response_mode.clone(),
        prompt: prompt.clone(),
        ui_locales: form_get(form, "ui_locales")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        login_hint: form_get(form, "login_hint").map(str::to_owned),
        max_age,
        org_id: org_id.clone(),
        handled: false,
    };
    model.auth_requests.insert(id.clone(), request);
    if prompt.contains(&Prompt::None) {
        // Silent authentication: reuse a browser session or fail.
        let agent = crate::login::user_agent_id(headers);
        let t = now();
        let session_id = agent.and_then(|a| {
            model
                .sessions_of_agent(&a)
                .into_iter()
                .find(|s| {
                    model.user(&s.user_id).is_some_and(|u| {
                        session_satisfies(&model, s, u, org_id.as_deref(), max_age, t)
                    })
                })
                .map(|s| s.id.clone())
        });
        return match session_id {
            Some(sid) => match finish_auth_request(&mut model, &issuer, &id, &sid) {
                Ok(resp) => resp,
                Err(_) => fail("server_error", "could not finish the auth request"),
            },
            None => fail("login_required", "no active session"),
        };
    }
    drop(model);
    found(&format!(
        "{issuer}/ui/v2/login/login?{}",
        encode_query(&[("authRequest", &id)])
    ))
}

/// Finishes an auth request with a session: issues a code and answers with
/// the redirect to the client. Works once per auth request.
pub(crate) fn finish_auth_request(
    model: &mut Model,
    issuer: &str,
    auth_request_id: &str,
    session_id: &str,
) -> Result<Response, ApiError> {
    let (ar, user_id, auth_time, amr) = {
        let ar = model.auth_requests.get(auth_request_id).ok_or_else(|| {
            ApiError::new(
                GrpcCode::NotFound,
                "COMMAND-jae5P",
                "Auth request does not exist",
            )
        })?;
        if ar.handled {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-Sx208nt",
                "Auth request has already been handled",
            ));
        }
        let session = model
            .sessions
            .get(session_id)
            .filter(|s| s.is_active(now()))
            .ok_or_else(|| ApiError::new(GrpcCode::NotFound, "EMU-OIDC07", "Session not found"))?;
        let auth_time = session.auth_time().ok_or_else(|| {
            ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-OIDC06",
                "Session is not authenticated",
            )
        })?;
        (
            ar.clone(),
            session.user_id.clone(),
            auth_time,
            session.amr(),
        )
    };
    if let Some(ar) = model.auth_requests.get_mut(auth_request_id) {
        ar.handled = true;
    }
    let code = random_token(32);
    model.codes.insert(
        sha256_hex(&code),
        AuthCode {
            auth_request: ar.clone(),
            user_id,
            session_id: session_id.to_owned(),
            auth_time,
            amr,
            expires: now() + CODE_LIFETIME,
            used: false,
            issued_access: None,
            issued_refresh: None,
        },
    );
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = ar.state.as_deref() {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    Ok(Redirect {
        uri: &ar.redirect_uri,
        mode: ar.response_mode.as_deref(),
    }
    .send(&params))
}
