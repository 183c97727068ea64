//! IdP intents v2 with a built-in test IdP, user IdP links, and the active
//! IdPs of the login settings.
//!
//! The test IdP is a small OAuth-style login inside the emulator: its
//! authorize page (`/_emulator/test-idp/authorize`) lets you type the external
//! user, then redirects to `/idps/callback` as a real IdP would, and the
//! emulator sends the browser on to the intent's success URL.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authenticate, details, has_permission, parse_body, permission_denied, require};
use crate::error::{ApiError, GrpcCode};
use crate::model::{ExternalUser, IdpIntent, IdpLink, IntentState, State as Model};
use crate::server::AppState;
use crate::util::{
    ct_eq, encode_query, form_get, html_escape, now, parse_form, random_token, rfc3339, sha256_hex,
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/idp_intents", post(start_intent))
        .route("/v2/idp_intents/{id}", post(retrieve_intent))
        .route(
            "/_emulator/test-idp/authorize",
            get(test_idp_page).post(test_idp_submit),
        )
        .route("/idps/callback", get(idp_callback))
        .route("/v2/users/{id}/links", post(add_link))
        .route("/v2/users/{id}/links/_search", post(list_links))
        .route(
            "/v2/users/{id}/links/{idp_id}/{linked_user_id}",
            delete(remove_link),
        )
        .route("/v2/settings/login/idps", get(active_idps))
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn found(location: &str) -> Response {
    match axum::http::HeaderValue::from_str(location) {
        Ok(v) => {
            let mut resp = StatusCode::SEE_OTHER.into_response();
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", encode_query(pairs))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Urls {
    success_url: String,
    failure_url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct StartRequest {
    idp_id: String,
    urls: Option<Urls>,
}

async fn start_intent(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let issuer = shared.issuer.clone();
    let mut model = shared.lock();
    respond((|| {
        authenticate(&model, &headers)?;
        let req: StartRequest = parse_body(&body, "StartIdentityProviderIntentRequest")?;
        let idp = model
            .idps
            .iter()
            .find(|i| i.id == req.idp_id)
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    GrpcCode::FailedPrecondition,
                    "COMMAND-39n221fs",
                    "Identity Provider Configuration doesn't exist",
                )
            })?;
        let urls = req.urls.ok_or_else(|| ApiError::new(GrpcCode::InvalidArgument, "", "invalid StartIdentityProviderIntentRequest: urls are required (LDAP is not supported)"))?;
        for u in [&urls.success_url, &urls.failure_url] {
            if url::Url::parse(u).is_err() {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    "invalid RedirectURLs: value must be a valid URI",
                ));
            }
        }
        let id = model.ids.next();
        let auth_url = crate::api::idp_mgmt::authorize_url(&issuer, &idp, &id)?;
        model.idp_intents.insert(
            id.clone(),
            IdpIntent {
                id: id.clone(),
                idp_id: req.idp_id,
                success_url: urls.success_url,
                failure_url: urls.failure_url,
                created: now(),
                state: IntentState::Started,
                callback_code: None,
            },
        );
        let seq = model.next_sequence();
        Ok(json!({
            "details": details(seq, now(), &model.instance_id),
            "authUrl": auth_url,
        }))
    })())
}

/// The ZITADEL user linked to an external user, if any.
fn linked_user(model: &Model, idp_id: &str, external_id: &str) -> Option<String> {
    model
        .idp_links
        .iter()
        .find(|l| l.idp_id == idp_id && l.external_user_id == external_id)
        .map(|l| l.user_id.clone())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RetrieveRequest {
    idp_intent_token: String,
}

/// Checks an intent id and token; returns the external user.
///
/// ZITADEL checks the token first (it encrypts the intent id, so a wrong
/// token or an unknown intent is PERMISSION_DENIED), then the state;
/// `not_succeeded` is the id for that (`IDP-nme4gszsvx` when retrieving,
/// `COMMAND-Df4bw` in a session check).
pub(crate) fn succeeded_intent(
    model: &Model,
    id: &str,
    token: &str,
    not_succeeded: &'static str,
) -> Result<(String, ExternalUser), ApiError> {
    let invalid = |id| ApiError::new(GrpcCode::PermissionDenied, id, "Intent Token is invalid");
    if token.is_empty() {
        return Err(invalid("CRYPTO-Sfefs"));
    }
    let intent = model
        .idp_intents
        .get(id)
        .ok_or_else(|| invalid("CRYPTO-Sf4gt"))?;
    match &intent.state {
        IntentState::Succeeded { user, token_hash } if ct_eq(token_hash, &sha256_hex(token)) => {
            Ok((intent.idp_id.clone(), user.clone()))
        }
        IntentState::Succeeded { .. } => Err(invalid("CRYPTO-Sf4gt")),
        _ => Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            not_succeeded,
            "Intent has not succeeded",
        )),
    }
}

async fn retrieve_intent(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let model = shared.lock();
    respond((|| {
        authenticate(&model, &headers)?;
        let req: RetrieveRequest = parse_body(&body, "RetrieveIdentityProviderIntentRequest")?;
        let (idp_id, user) =
            succeeded_intent(&model, &id, &req.idp_intent_token, "IDP-nme4gszsvx")?;
        let raw = json!({
            "sub": user.id, "email": user.email, "email_verified": true,
            "given_name": user.given_name, "family_name": user.family_name,
            "preferred_username": user.username,
        });
        let mut v = json!({
            "details": details(1, now(), &model.instance_id),
            "idpInformation": {
                "oauth": {"accessToken": random_token(24)},
                "idpId": idp_id,
                "userId": user.id,
                "userName": user.username,
                "rawInformation": raw,
            },
        });
        match linked_user(&model, &idp_id, &user.id) {
            Some(uid) => v["userId"] = json!(uid),
            None => {
                v["addHumanUser"] = json!({
                    "username": user.username,
                    "profile": {"givenName": user.given_name, "familyName": user.family_name},
                    "email": {"email": user.email, "isVerified": true},
                    "idpLinks": [{"idpId": idp_id, "userId": user.id, "userName": user.username}],
                });
            }
        }
        Ok(v)
    })())
}

fn intent_for_page(model: &Model, state: &str) -> Option<IdpIntent> {
    model
        .idp_intents
        .get(state)
        .filter(|i| matches!(i.state, IntentState::Started) && i.created > now() - 3600)
        .cloned()
}

async fn test_idp_page(State(shared): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let q = parse_form(q.unwrap_or_default().as_bytes());
    let state = form_get(&q, "state").unwrap_or_default().to_owned();
    let model = shared.lock();
    if intent_for_page(&model, &state).is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Html("<!doctype html><p>Unknown or expired intent.</p>".to_owned()),
        )
            .into_response();
    }
    let field = |name: &str, label: &str, value: &str| {
        format!(
            "<label for=\"{name}\">{label}</label><input type=\"text\" id=\"{name}\" name=\"{name}\" value=\"{}\" required>",
            html_escape(value)
        )
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Test IdP</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:420px;margin:48px auto}}label{{display:block;margin-top:12px}}input{{width:100%;box-sizing:border-box;padding:6px}}button{{margin-top:16px}}</style></head>\
         <body><h1>Test IdP</h1><p>Sign in as an external user.</p>\
         <form method=\"post\" action=\"/_emulator/test-idp/authorize\">\
         <input type=\"hidden\" name=\"state\" value=\"{state}\">{sub}{username}{email}{given}{family}\
         <button type=\"submit\" name=\"action\" value=\"login\">Sign in</button> \
         <button type=\"submit\" name=\"action\" value=\"cancel\" formnovalidate>Cancel</button></form></body></html>",
        state = html_escape(&state),
        sub = field("sub", "Subject (external user id)", "test-user-1"),
        username = field("username", "Username", "test.user"),
        email = field("email", "Email", "test.user@idp.example"),
        given = field("givenName", "Given name", "Test"),
        family = field("familyName", "Family name", "User"),
    );
    let mut resp = Html(body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// The test IdP's form: redirects to ZITADEL's `/idps/callback` like a real IdP.
/// (No CSRF token: it stands for a third-party site; the `state` is the guard.)
async fn test_idp_submit(State(shared): State<AppState>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let state = form_get(&form, "state").unwrap_or_default().to_owned();
    let mut model = shared.lock();
    let Some(intent) = intent_for_page(&model, &state) else {
        return (
            StatusCode::BAD_REQUEST,
            Html("<!doctype html><p>Unknown or expired intent.</p>".to_owned()),
        )
            .into_response();
    };
    if form_get(&form, "action") == Some("cancel") {
        if let Some(i) = model.idp_intents.get_mut(&intent.id) {
            i.state = IntentState::Failed;
        }
        return found(&with_query(
            &intent.failure_url,
            &[
                ("id", &intent.id),
                ("error", "access_denied"),
                ("error_description", "the user cancelled the login"),
            ],
        ));
    }
    let get = |k: &str| form_get(&form, k).unwrap_or_default().trim().to_owned();
    let user = ExternalUser {
        id: get("sub"),
        username: get("username"),
        email: get("email"),
        given_name: get("givenName"),
        family_name: get("familyName"),
    };
    if user.id.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Html("<!doctype html><p>The subject is required.</p>".to_owned()),
        )
            .into_response();
    }
    let code = random_token(16);
    if let Some(i) = model.idp_intents.get_mut(&intent.id) {
        i.callback_code = Some(format!(
            "{code}|{}",
            serde_json::to_string(&user).unwrap_or_default()
        ));
    }
    found(&format!(
        "/idps/callback?{}",
        encode_query(&[("code", &code), ("state", &intent.id)])
    ))
}

/// ZITADEL's IdP callback: finishes the intent and sends the browser to the
/// success URL with `id`, `token` and, for a linked user, `user`.
async fn idp_callback(State(shared): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let q = parse_form(q.unwrap_or_default().as_bytes());
    let state = form_get(&q, "state").unwrap_or_default().to_owned();
    let code = form_get(&q, "code").unwrap_or_default();
    let mut model = shared.lock();
    let Some(intent) = model.idp_intents.get(&state).cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            Html("<!doctype html><p>Unknown intent.</p>".to_owned()),
        )
            .into_response();
    };
    let user = intent
        .callback_code
        .as_deref()
        .and_then(|c| c.split_once('|'))
        .filter(|(c, _)| ct_eq(c, code))
        .and_then(|(_, u)| serde_json::from_str::<ExternalUser>(u).ok());
    let Some(user) = user else {
        if let Some(i) = model.idp_intents.get_mut(&state) {
            i.state = IntentState::Failed;
        }
        return found(&with_query(
            &intent.failure_url,
            &[("id", &intent.id), ("error", "invalid_code")],
        ));
    };
    let token = random_token(32);
    let linked = linked_user(&model, &intent.idp_id, &user.id);
    if let Some(i) = model.idp_intents.get_mut(&state) {
        i.callback_code = None;
        i.state = IntentState::Succeeded {
            user,
            token_hash: sha256_hex(&token),
        };
    }
    let mut params = vec![("id", intent.id.as_str()), ("token", token.as_str())];
    if let Some(uid) = linked.as_deref() {
        params.push(("user", uid));
    }
    found(&with_query(&intent.success_url, &params))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct LinkInput {
    pub(crate) idp_id: String,
    pub(crate) user_id: String,
    pub(crate) user_name: String,
}

/// Adds an IdP link (self or `user.write`).
pub(crate) fn add_link_to(
    model: &mut Model,
    user_id: &str,
    link: LinkInput,
) -> Result<(), ApiError> {
    if !model.idps.iter().any(|i| i.id == link.idp_id) {
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "COMMAND-39nfs",
            "Identity Provider Configuration doesn't exist",
        ));
    }
    if link.user_id.is_empty() {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            "invalid IDPLink.UserId: value length must be between 1 and 200 runes, inclusive",
        ));
    }
    if linked_user(model, &link.idp_id, &link.user_id).is_some() {
        return Err(ApiError::new(
            GrpcCode::AlreadyExists,
            "EMU-IDP05",
            "IdP link already exists",
        ));
    }
    model.idp_links.push(IdpLink {
        idp_id: link.idp_id,
        user_id: user_id.to_owned(),
        external_user_id: link.user_id,
        external_user_name: link.user_name,
    });
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AddLinkRequest {
    idp_link: Option<LinkInput>,
}

fn self_or(
    model: &Model,
    headers: &HeaderMap,
    id: &str,
    permission: &str,
) -> Result<String, ApiError> {
    let caller = authenticate(model, headers)?;
    let user = model.user(id).ok_or_else(|| {
        ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
    })?;
    if caller.user_id != user.id && !has_permission(model, &caller, permission, Some(&user.org_id))
    {
        return Err(permission_denied());
    }
    Ok(user.org_id.clone())
}

async fn add_link(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = self_or(&model, &headers, &id, "user.write")?;
        let req: AddLinkRequest = parse_body(&body, "AddIDPLinkRequest")?;
        let link = req.idp_link.ok_or_else(|| {
            ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid AddIDPLinkRequest.IdpLink: value is required",
            )
        })?;
        add_link_to(&mut model, &id, link)?;
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

async fn list_links(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let model = shared.lock();
    respond((|| {
        self_or(&model, &headers, &id, "user.read")?;
        let result: Vec<Value> = model
            .idp_links
            .iter()
            .filter(|l| l.user_id == id)
            .map(|l| {
                let mut v = json!({"idpId": l.idp_id, "userId": l.external_user_id});
                if !l.external_user_name.is_empty() {
                    v["userName"] = json!(l.external_user_name);
                }
                v
            })
            .collect();
        let mut v = json!({"details": {"timestamp": rfc3339(now())}});
        if !result.is_empty() {
            v["details"]["totalResult"] = json!(result.len().to_string());
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}

async fn remove_link(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, idp_id, linked)): Path<(String, String, String)>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = self_or(&model, &headers, &id, "user.write")?;
        let before = model.idp_links.len();
        model
            .idp_links
            .retain(|l| !(l.user_id == id && l.idp_id == idp_id && l.external_user_id == linked));
        if model.idp_links.len() == before {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "EMU-IDP06",
                "IdP link not found",
            ));
        }
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

/// The IdPs active in the login policy of `ctx.orgId` (else the instance's).
async fn active_idps(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = parse_form(q.unwrap_or_default().as_bytes());
    let model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let org = form_get(&q, "ctx.orgId").or_else(|| form_get(&q, "ctx.org_id"));
        if let Some(org) = org
            && model.org(org).is_none()
        {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "EMU-SET01",
                "Organisation not found",
            ));
        }
        require(&model, &caller, "policy.read", org)?;
        let active = match org {
            Some(org) => model.active_idps(org),
            None => model.idps.iter().filter(|i| i.org_id.is_none()).collect(),
        };
        let idps: Vec<Value> = active
            .into_iter()
            .map(|i| {
                let mut options = json!({});
                for (on, key) in [
                    (i.linking_allowed, "isLinkingAllowed"),
                    (i.creation_allowed, "isCreationAllowed"),
                    (i.auto_creation, "isAutoCreation"),
                    (i.auto_update, "isAutoUpdate"),
                ] {
                    if on {
                        options[key] = json!(true);
                    }
                }
                json!({"id": i.id, "name": i.name, "type": crate::api::idp_mgmt::settings_type(i), "options": options})
            })
            .collect();
        let mut v = json!({"details": {"timestamp": rfc3339(now())}});
        if !idps.is_empty() {
            v["details"]["totalResult"] = json!(idps.len().to_string());
            v["identityProviders"] = json!(idps);
        }
        Ok(v)
    })())
}
