//! `/oauth/v2/token`: authorization_code, refresh_token and device_code grants.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::error::OAuthError;
use crate::model::{AccessToken, App, DeviceState, Grant, RefreshToken, State as Model};
use crate::oidc::{audience, authenticate_client, client_auth, json_no_store};
use crate::server::AppState;
use crate::util::{ct_eq, form_get, now, parse_form, random_token, s256, sha256_hex};

/// Access and ID token lifetime (ZITADEL default 12h).
pub(crate) const ACCESS_TOKEN_LIFETIME: i64 = 12 * 3600;
/// Refresh token idle lifetime (30 days).
const REFRESH_IDLE: i64 = 30 * 86_400;
/// Refresh token absolute lifetime (90 days).
const REFRESH_ABSOLUTE: i64 = 90 * 86_400;
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub(crate) async fn token(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let result = match form_get(&form, "grant_type") {
        Some("authorization_code") => code_grant(&mut model, &shared.issuer, &headers, &form),
        Some("refresh_token") => refresh_grant(&mut model, &shared.issuer, &headers, &form),
        Some(DEVICE_GRANT) => device_grant(&mut model, &shared.issuer, &headers, &form),
        Some("client_credentials") => client_credentials_grant(&mut model, &headers, &form),
        Some(JWT_BEARER_GRANT) => jwt_bearer_grant(&mut model, &shared.issuer, &form),
        Some(other) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("{other} not supported"),
        )),
        None => Err(OAuthError::invalid_request("grant_type missing")),
    };
    match result {
        Ok(body) => json_no_store(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

fn code_grant(
    model: &mut Model,
    issuer: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, OAuthError> {
    let app = authenticate_client(model, client_auth(headers, form).as_ref())?;
    let code = form_get(form, "code").ok_or_else(|| OAuthError::invalid_request("code missing"))?;
    let hash = sha256_hex(code);
    let entry = model
        .codes
        .get(&hash)
        .cloned()
        .ok_or_else(|| OAuthError::invalid_grant("invalid code"))?;
    if entry.used {
        // Replay: the code and everything issued with it is revoked.
        if let Some(a) = &entry.issued_access {
            model.access_tokens.remove(a);
        }
        if let Some(r) = &entry.issued_refresh {
            model.refresh_tokens.remove(r);
        }
        model.codes.remove(&hash);
        return Err(OAuthError::invalid_grant("code has already been used"));
    }
    if entry.expires < now() {
        model.codes.remove(&hash);
        return Err(OAuthError::invalid_grant("code has expired"));
    }
    let ar = &entry.auth_request;
    if ar.client_id != app.client_id {
        return Err(OAuthError::invalid_grant(
            "code was issued to another client",
        ));
    }
    if form_get(form, "redirect_uri") != Some(ar.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match"));
    }
    if let Some(challenge) = &ar.code_challenge {
        let verifier = form_get(form, "code_verifier")
            .ok_or_else(|| OAuthError::invalid_grant("code_verifier required"))?;
        if !ct_eq(&s256(verifier), challenge) {
            return Err(OAuthError::invalid_grant("invalid code challenge"));
        }
    }
    if model
        .sessions
        .get(&entry.session_id)
        .is_none_or(|s| !s.is_active(now()))
    {
        return Err(OAuthError::invalid_grant("session has been terminated"));
    }
    let grant = Grant {
        client_id: app.client_id.clone(),
        user_id: entry.user_id.clone(),
        session_id: Some(entry.session_id.clone()),
        scopes: ar.scopes.clone(),
        audience: audience(model, &app, &ar.scopes),
        auth_time: entry.auth_time,
        amr: entry.amr.clone(),
    };
    let (body, access_hash, refresh_hash) = issue(model, issuer, &app, grant, ar.nonce.as_deref())?;
    if let Some(c) = model.codes.get_mut(&hash) {
        c.used = true;
        c.issued_access = Some(access_hash);
        c.issued_refresh = refresh_hash;
    }
    Ok(body)
}

fn refresh_grant(
    model: &mut Model,
    issuer: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, OAuthError> {
    let app = authenticate_client(model, client_auth(headers, form).as_ref())?;
    if !app.refresh_token_grant {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "refresh_token grant not enabled for this client",
        ));
    }
    let token = form_get(form, "refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token missing"))?;
    let hash = sha256_hex(token);
    let t = now();
    let stored = model
        .refresh_tokens
        .get(&hash)
        .filter(|r| r.idle_expires > t && r.absolute_expires > t)
        .cloned()
        .ok_or_else(|| OAuthError::invalid_grant("invalid refresh token"))?;
    if stored.grant.client_id != app.client_id {
        return Err(OAuthError::invalid_grant("invalid refresh token"));
    }
    let mut grant = stored.grant.clone();
    if let Some(scope) = form_get(form, "scope") {
        let requested: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
        if requested.iter().any(|s| !grant.scopes.contains(s)) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "scope exceeds the original grant",
            ));
        }
        grant.scopes = requested;
        grant.audience = audience(model, &app, &grant.scopes);
    }
    // Rotation: the used refresh token is invalid from now on.
    model.refresh_tokens.remove(&hash);
    let (body, _, _) = issue_with_refresh_expiry(
        model,
        issuer,
        &app,
        grant,
        None,
        Some(stored.absolute_expires),
    )?;
    Ok(body)
}

fn device_grant(
    model: &mut Model,
    issuer: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, OAuthError> {
    let app = authenticate_client(model, client_auth(headers, form).as_ref())?;
    let code = form_get(form, "device_code")
        .ok_or_else(|| OAuthError::invalid_request("device_code missing"))?;
    let hash = sha256_hex(code);
    let t = now();
    let idx = model
        .device_requests
        .iter()
        .position(|d| ct_eq(&d.device_code_hash, &hash) && d.client_id == app.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("invalid device code"))?;
    let req = &mut model.device_requests[idx];
    if req.expires < t {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "expired_token",
            "device code expired",
        ));
    }
    let too_fast = req.last_poll.is_some_and(|p| t - p < req.interval);
    req.last_poll = Some(t);
    match req.state.clone() {
        DeviceState::Pending if too_fast => {
            // RFC 8628 §3.5: the interval grows by 5 s for all later polls.
            req.interval += 5;
            Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "slow_down",
                "polling too fast",
            ))
        }
        DeviceState::Pending => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            "the user has not yet approved the request",
        )),
        DeviceState::Denied => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "access_denied",
            "the user denied the request",
        )),
        DeviceState::Done => Err(OAuthError::invalid_grant("device code already used")),
        DeviceState::Approved {
            user_id,
            session_id,
            auth_time,
            amr,
        } => {
            let scopes = req.scopes.clone();
            req.state = DeviceState::Done;
            let grant = Grant {
                client_id: app.client_id.clone(),
                user_id,
                session_id: Some(session_id),
                audience: audience(model, &app, &scopes),
                scopes,
                auth_time,
                amr,
            };
            Ok(issue(model, issuer, &app, grant, None)?.0)
        }
    }
}

/// `client_credentials`: a service user's username and client secret.
fn client_credentials_grant(
    model: &mut Model,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Result<Value, OAuthError> {
    let auth = client_auth(headers, form)
        .ok_or_else(|| OAuthError::invalid_client("client_id missing"))?;
    let secret = auth.secret.unwrap_or_default();
    let hash = sha256_hex(&secret);
    let user = model
        .users
        .iter()
        .filter(|u| u.username == auth.client_id && u.state == crate::model::UserState::Active)
        .find(|u| match &u.kind {
            crate::model::UserKind::Machine(m) => {
                m.secret_hash.as_deref().is_some_and(|h| ct_eq(h, &hash))
            }
            crate::model::UserKind::Human(_) => false,
        })
        .cloned()
        .ok_or_else(|| OAuthError::invalid_client("invalid client credentials"))?;
    Ok(issue_machine(model, &user.id, &user.username, form))
}

#[derive(serde::Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    iat: i64,
}

/// `jwt-bearer`: a JWT signed with a service user's key (`kid` = key id,
/// `iss` = `sub` = user id, `aud` = issuer).
fn jwt_bearer_grant(
    model: &mut Model,
    issuer: &str,
    form: &[(String, String)],
) -> Result<Value, OAuthError> {
    let assertion = form_get(form, "assertion")
        .ok_or_else(|| OAuthError::invalid_request("assertion missing"))?;
    let kid = jsonwebtoken::decode_header(assertion)
        .ok()
        .and_then(|h| h.kid)
        .ok_or_else(|| OAuthError::invalid_grant("assertion has no key id"))?;
    let t = now();
    let key = model
        .machine_keys
        .iter()
        .find(|k| k.id == kid && k.expires > t)
        .cloned()
        .ok_or_else(|| OAuthError::invalid_grant("key not found or expired"))?;
    let decoding = crate::keys::decoding_key_from_pem(&key.public_pem)
        .ok_or_else(|| OAuthError::invalid_grant("key unusable"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[issuer, &format!("{issuer}/oauth/v2/token")]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let claims = jsonwebtoken::decode::<AssertionClaims>(assertion, &decoding, &validation)
        .map_err(|e| OAuthError::invalid_grant(format!("invalid assertion: {e}")))?
        .claims;
    if claims.iss != key.user_id || claims.sub != key.user_id {
        return Err(OAuthError::invalid_grant(
            "iss and sub must be the key's user id",
        ));
    }
    if claims.iat < t - 3600 || claims.iat > t + 60 {
        return Err(OAuthError::invalid_grant("iat is out of range"));
    }
    let user = model
        .user(&key.user_id)
        .filter(|u| u.state == crate::model::UserState::Active)
        .cloned()
        .ok_or_else(|| OAuthError::invalid_grant("user not active"))?;
    Ok(issue_machine(model, &user.id, &user.username, form))
}

/// An access token for a service user (no ID token, no refresh token).
fn issue_machine(
    model: &mut Model,
    user_id: &str,
    username: &str,
    form: &[(String, String)],
) -> Value {
    let scopes: Vec<String> = form_get(form, "scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut audience = Vec::new();
    for s in &scopes {
        if s == crate::oidc::SCOPE_ZITADEL_AUD {
            audience.push(model.zitadel_project_id.clone());
        } else if let Some(pid) = s
            .strip_prefix("urn:zitadel:iam:org:project:id:")
            .and_then(|r| r.strip_suffix(":aud"))
            .filter(|pid| model.project(pid).is_some())
        {
            audience.push(pid.to_owned());
        }
    }
    let t = now();
    let access = random_token(32);
    let id = model.ids.next();
    model.access_tokens.insert(
        sha256_hex(&access),
        AccessToken {
            id,
            grant: Grant {
                client_id: username.to_owned(),
                user_id: user_id.to_owned(),
                session_id: None,
                scopes: scopes.clone(),
                audience,
                auth_time: t,
                amr: Vec::new(),
            },
            issued: t,
            expires: t + ACCESS_TOKEN_LIFETIME,
            refresh_hash: None,
        },
    );
    json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME - 1,
        "scope": scopes.join(" "),
    })
}

/// Issues an access token, an ID token (scope `openid`) and a refresh token
/// (scope `offline_access` with the grant enabled). Returns the response body
/// and the hashes of the access and refresh tokens.
pub(crate) fn issue(
    model: &mut Model,
    issuer: &str,
    app: &App,
    grant: Grant,
    nonce: Option<&str>,
) -> Result<(Value, String, Option<String>), OAuthError> {
    issue_with_refresh_expiry(model, issuer, app, grant, nonce, None)
}

fn issue_with_refresh_expiry(
    model: &mut Model,
    issuer: &str,
    app: &App,
    grant: Grant,
    nonce: Option<&str>,
    absolute: Option<i64>,
) -> Result<(Value, String, Option<String>), OAuthError> {
    let t = now();
    let access = random_token(32);
    let access_hash = sha256_hex(&access);
    let wants_refresh =
        app.refresh_token_grant && grant.scopes.iter().any(|s| s == "offline_access");
    let refresh = wants_refresh.then(|| random_token(32));
    let refresh_hash = refresh.as_deref().map(sha256_hex);
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME - 1,
        "scope": grant.scopes.join(" "),
    });
    if grant.scopes.iter().any(|s| s == "openid") {
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), json!(issuer));
        claims.insert("sub".into(), json!(grant.user_id));
        claims.insert("aud".into(), json!(grant.audience));
        claims.insert("exp".into(), json!(t + ACCESS_TOKEN_LIFETIME));
        claims.insert("iat".into(), json!(t));
        claims.insert("auth_time".into(), json!(grant.auth_time));
        claims.insert("amr".into(), json!(grant.amr));
        claims.insert("azp".into(), json!(app.client_id));
        claims.insert("client_id".into(), json!(app.client_id));
        claims.insert("at_hash".into(), json!(at_hash(&access)));
        if let Some(sid) = &grant.session_id {
            claims.insert("sid".into(), json!(sid));
        }
        if let Some(n) = nonce {
            claims.insert("nonce".into(), json!(n));
        }
        let id_token = model.keys.sign(&Value::Object(claims)).map_err(|_| {
            OAuthError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signing failed",
            )
        })?;
        body["id_token"] = json!(id_token);
    }
    if let (Some(r), Some(h)) = (&refresh, &refresh_hash) {
        body["refresh_token"] = json!(r);
        model.refresh_tokens.insert(
            h.clone(),
            RefreshToken {
                grant: grant.clone(),
                created: t,
                idle_expires: t + REFRESH_IDLE,
                absolute_expires: absolute.unwrap_or(t + REFRESH_ABSOLUTE),
            },
        );
    }
    let id = model.ids.next();
    model.access_tokens.insert(
        access_hash.clone(),
        AccessToken {
            id,
            grant,
            issued: t,
            expires: t + ACCESS_TOKEN_LIFETIME,
            refresh_hash: refresh_hash.clone(),
        },
    );
    Ok((body, access_hash, refresh_hash))
}

/// `at_hash`: base64url of the left half of SHA-256 of the access token.
fn at_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}
