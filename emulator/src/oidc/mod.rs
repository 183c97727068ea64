//! The OpenID provider at ZITADEL's default paths.

mod authorize;
mod device;
mod logout;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::keys::{KeyError, SigningKey};
use crate::model::{App, AppType, Session, State as Model};
use crate::server::{AppState, Shared};
use crate::util::html_escape;

pub(crate) use authorize::finish_auth_request;
pub(crate) use userinfo::valid_access_token;

/// Scope that puts ZITADEL's own project into `aud`.
pub(crate) const SCOPE_ZITADEL_AUD: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";
const SCOPE_ORG_ID: &str = "urn:zitadel:iam:org:id:";
const SCOPE_ORG_DOMAIN: &str = "urn:zitadel:iam:org:domain:primary:";
const SCOPE_PROJECT_AUD_PREFIX: &str = "urn:zitadel:iam:org:project:id:";
const SCOPE_ROLE_PREFIX: &str = "urn:zitadel:iam:org:project:role:";
const SCOPE_ALL_ROLES: &str = "urn:zitadel:iam:org:projects:roles";
const SCOPE_RESOURCE_OWNER: &str = "urn:zitadel:iam:user:resourceowner";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth/v2/keys", get(jwks))
        .route(
            "/oauth/v2/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/oauth/v2/token", post(token::token))
        .route(
            "/oidc/v1/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/oauth/v2/introspect", post(userinfo::introspect))
        .route("/oauth/v2/revoke", post(userinfo::revoke))
        .route(
            "/oidc/v1/end_session",
            get(logout::end_session_get).post(logout::end_session_post),
        )
        .route(
            "/oauth/v2/device_authorization",
            post(device::device_authorization),
        )
}

async fn discovery(State(shared): State<AppState>) -> Response {
    let u = |p: &str| shared.url(p);
    let body = json!({
        "issuer": shared.issuer,
        "authorization_endpoint": u("/oauth/v2/authorize"),
        "token_endpoint": u("/oauth/v2/token"),
        "introspection_endpoint": u("/oauth/v2/introspect"),
        "userinfo_endpoint": u("/oidc/v1/userinfo"),
        "revocation_endpoint": u("/oauth/v2/revoke"),
        "end_session_endpoint": u("/oidc/v1/end_session"),
        "device_authorization_endpoint": u("/oauth/v2/device_authorization"),
        "jwks_uri": u("/oauth/v2/keys"),
        "scopes_supported": ["openid", "profile", "email", "phone", "address", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:device_code"
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "request_object_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": [
            "sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "at_hash",
            "azp", "client_id", "sid", "preferred_username", "name", "family_name", "given_name",
            "nickname", "locale", "updated_at", "email", "email_verified", "phone_number",
            "phone_number_verified"
        ],
        "code_challenge_methods_supported": ["S256"],
        "ui_locales_supported": ["en", "de"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true
    });
    json_no_store(StatusCode::OK, body)
}

async fn jwks(State(shared): State<AppState>) -> Response {
    let body = shared.lock().keys.jwks();
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300, must-revalidate"),
    );
    resp
}

/// Generates a new signing key and makes it current.
pub(crate) async fn rotate_key(shared: &Shared) -> Result<String, KeyError> {
    let kid = shared.lock().ids.next();
    let k = kid.clone();
    let key = tokio::task::spawn_blocking(move || SigningKey::generate(k))
        .await
        .map_err(|_| KeyError::NoKey)??;
    shared.lock().keys.rotate(key);
    Ok(kid)
}

/// A JSON response with `Cache-Control: no-store`.
pub(crate) fn json_no_store(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A plain HTML error page (used when the client cannot be redirected to).
pub(crate) fn error_page(status: StatusCode, error: &str, description: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Error</title></head>\
         <body><h1>{}</h1><p>{}</p></body></html>",
        html_escape(error),
        html_escape(description)
    );
    (status, Html(body)).into_response()
}

/// Whether a requested redirect URI matches a registered one. Native apps:
/// `http` loopback URIs match on scheme, host, path and query with any port
/// (RFC 8252 §7.3). Everything else matches exactly.
pub(crate) fn redirect_matches(app: &App, registered: &[String], requested: &str) -> bool {
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    if app.app_type != AppType::Native {
        return false;
    }
    let Ok(req) = url::Url::parse(requested) else {
        return false;
    };
    if req.scheme() != "http" || !is_loopback(&req) || req.fragment().is_some() {
        return false;
    }
    registered.iter().any(|r| {
        url::Url::parse(r).is_ok_and(|reg| {
            reg.scheme() == "http"
                && is_loopback(&reg)
                && reg.host_str() == req.host_str()
                && reg.path() == req.path()
                && reg.query() == req.query()
        })
    })
}

fn is_loopback(u: &url::Url) -> bool {
    matches!(
        u.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    )
}

/// The audience of tokens for a client and scopes.
pub(crate) fn audience(model: &Model, app: &App, scopes: &[String]) -> Vec<String> {
    let mut aud = vec![app.client_id.clone(), app.project_id.clone()];
    for s in scopes {
        if s == SCOPE_ZITADEL_AUD {
            aud.push(model.zitadel_project_id.clone());
        } else if let Some(rest) = s.strip_prefix(SCOPE_PROJECT_AUD_PREFIX)
            && let Some(pid) = rest.strip_suffix(":aud")
            && model.project(pid).is_some()
        {
            aud.push(pid.to_owned());
        }
    }
    let mut seen = std::collections::HashSet::new();
    aud.retain(|a| seen.insert(a.clone()));
    aud
}

/// The org a set of scopes restricts the login to.
/// `Err` names the invalid scope when the org does not exist.
pub(crate) fn scoped_org(model: &Model, scopes: &[String]) -> Result<Option<String>, String> {
    let mut org = None;
    for s in scopes {
        if let Some(id) = s.strip_prefix(SCOPE_ORG_ID) {
            match model.org(id) {
                Some(o) => org = Some(o.id.clone()),
                None => return Err(s.clone()),
            }
        } else if let Some(domain) = s.strip_prefix(SCOPE_ORG_DOMAIN) {
            match model.org_by_domain(domain) {
                Some(o) => org = Some(o.id.clone()),
                None => return Err(s.clone()),
            }
        }
    }
    Ok(org)
}

/// User claims (userinfo, introspection) for the given scopes.
pub(crate) fn user_claims(
    model: &Model,
    user_id: &str,
    app: Option<&App>,
    scopes: &[String],
) -> serde_json::Map<String, Value> {
    let mut c = serde_json::Map::new();
    c.insert("sub".into(), json!(user_id));
    let Some(user) = model.user(user_id) else {
        return c;
    };
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("profile") {
        if let Some(h) = user.human() {
            c.insert("name".into(), json!(h.display_name));
            c.insert("given_name".into(), json!(h.given_name));
            c.insert("family_name".into(), json!(h.family_name));
            if !h.nick_name.is_empty() {
                c.insert("nickname".into(), json!(h.nick_name));
            }
            c.insert("locale".into(), json!(h.preferred_language));
        } else if let crate::model::UserKind::Machine(m) = &user.kind {
            c.insert("name".into(), json!(m.name));
        }
        c.insert("preferred_username".into(), json!(model.login_name(user)));
        c.insert("updated_at".into(), json!(user.changed));
    }
    if has("email")
        && let Some(h) = user.human()
    {
        c.insert("email".into(), json!(h.email));
        c.insert("email_verified".into(), json!(h.email_verified));
    }
    if has("phone")
        && let Some(h) = user.human().filter(|h| !h.phone.is_empty())
    {
        c.insert("phone_number".into(), json!(h.phone));
        c.insert("phone_number_verified".into(), json!(h.phone_verified));
    }
    if has("urn:zitadel:iam:user:metadata") && !user.metadata.is_empty() {
        let md: serde_json::Map<String, Value> = user
            .metadata
            .iter()
            .map(|(k, (v, _, _))| (k.clone(), json!(v)))
            .collect();
        c.insert("urn:zitadel:iam:user:metadata".into(), Value::Object(md));
    }
    let org = model.org(&user.org_id);
    if (has(SCOPE_RESOURCE_OWNER) || scopes.iter().any(|s| s.starts_with(SCOPE_ORG_ID)))
        && let Some(org) = org
    {
        c.insert(
            "urn:zitadel:iam:user:resourceowner:id".into(),
            json!(org.id),
        );
        c.insert(
            "urn:zitadel:iam:user:resourceowner:name".into(),
            json!(org.name),
        );
        c.insert(
            "urn:zitadel:iam:user:resourceowner:primary_domain".into(),
            json!(org.primary_domain),
        );
    }
    let all_roles = has(SCOPE_ALL_ROLES);
    let wanted: Vec<&str> = scopes
        .iter()
        .filter_map(|s| s.strip_prefix(SCOPE_ROLE_PREFIX))
        .collect();
    if let (Some(app), Some(org)) = (app, org)
        && (all_roles || !wanted.is_empty())
    {
        let roles: serde_json::Map<String, Value> = model
            .user_roles(user_id, &app.project_id)
            .into_iter()
            .filter(|r| all_roles || wanted.contains(&r.as_str()))
            .map(|r| (r, json!({ org.id.clone(): org.primary_domain.clone() })))
            .collect();
        if !roles.is_empty() {
            c.insert("urn:zitadel:iam:org:project:roles".into(), json!(roles));
            c.insert(
                format!("urn:zitadel:iam:org:project:{}:roles", app.project_id),
                json!(roles),
            );
        }
    }
    c
}

/// Whether a browser session may be reused for an auth request without a new login.
pub(crate) fn session_satisfies(
    model: &crate::model::State,
    session: &Session,
    user: &crate::model::User,
    required_org: Option<&str>,
    max_age: Option<i64>,
    now: i64,
) -> bool {
    if !session.is_active(now)
        || required_org.is_some_and(|o| o != user.org_id)
        || !model.authenticates(session, user)
    {
        return false;
    }
    let Some(auth_time) = session.auth_time() else {
        return false;
    };
    max_age.is_none_or(|m| now - auth_time <= m)
}

/// Client credentials from `Authorization: Basic` or the form.
pub(crate) struct ClientAuth {
    pub(crate) client_id: String,
    pub(crate) secret: Option<String>,
}

pub(crate) fn client_auth(headers: &HeaderMap, form: &[(String, String)]) -> Option<ClientAuth> {
    use base64::Engine as _;
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(b64) = value.strip_prefix("Basic ")
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some(ClientAuth {
            client_id: dec(id),
            secret: Some(dec(secret)),
        });
    }
    let client_id = crate::util::form_get(form, "client_id")?.to_owned();
    Some(ClientAuth {
        client_id,
        secret: crate::util::form_get(form, "client_secret").map(str::to_owned),
    })
}

/// Authenticates a client at the token/revocation endpoints: public (native)
/// clients need only their id, confidential ones their secret.
pub(crate) fn authenticate_client(
    model: &Model,
    auth: Option<&ClientAuth>,
) -> Result<App, crate::error::OAuthError> {
    let auth = auth.ok_or_else(|| crate::error::OAuthError::invalid_client("client_id missing"))?;
    let app = model
        .app_by_client_id(&auth.client_id)
        .ok_or_else(|| crate::error::OAuthError::invalid_client("client not found"))?;
    if app.app_type != AppType::Native
        && !auth
            .secret
            .as_deref()
            .is_some_and(|s| app.secret_matches(s))
    {
        return Err(crate::error::OAuthError::invalid_client(
            "invalid client secret",
        ));
    }
    Ok(app.clone())
}
