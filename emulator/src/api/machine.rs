//! Service-user credentials: client secret, personal access tokens, keys.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authenticate, has_permission, parse_body, require};
use crate::error::{ApiError, GrpcCode};
use crate::model::{MachineKey, Pat, State as Model, UserKind};
use crate::server::AppState;
use crate::util::{now, parse_rfc3339, random_token, rfc3339, sha256_hex};

/// Expiry used when a request names none.
const FAR_FUTURE: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/users/{id}/secret",
            post(add_secret).delete(remove_secret),
        )
        .route("/v2/users/{id}/pats", post(add_pat))
        .route(
            "/v2/users/{id}/pats/{token_id}",
            delete(|s, h, p| remove(s, h, p, true)),
        )
        .route("/v2/users/{id}/keys", post(add_key))
        .route(
            "/v2/users/{id}/keys/{key_id}",
            delete(|s, h, p| remove(s, h, p, false)),
        )
        .route("/v2/users/pats/search", post(|s, h, b| list(s, h, b, true)))
        .route(
            "/v2/users/keys/search",
            post(|s, h, b| list(s, h, b, false)),
        )
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Checks `user.write` on the machine user's org and returns the org id.
fn machine_org(model: &Model, headers: &HeaderMap, id: &str) -> Result<String, ApiError> {
    let caller = authenticate(model, headers)?;
    let user = model.user(id).ok_or_else(|| {
        ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
    })?;
    require(model, &caller, "user.write", Some(&user.org_id))?;
    if !matches!(user.kind, UserKind::Machine(_)) {
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "EMU-MACH01",
            "User is not a machine user",
        ));
    }
    Ok(user.org_id.clone())
}

fn set_secret(model: &mut Model, id: &str, hash: Option<String>) {
    if let Some(u) = model.users.iter_mut().find(|u| u.id == id) {
        if let UserKind::Machine(m) = &mut u.kind {
            m.secret_hash = hash;
        }
        u.changed = now();
    }
}

async fn add_secret(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        machine_org(&model, &headers, &id)?;
        let secret = random_token(48);
        set_secret(&mut model, &id, Some(sha256_hex(&secret)));
        Ok(json!({"creationDate": rfc3339(now()), "clientSecret": secret}))
    })())
}

async fn remove_secret(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        machine_org(&model, &headers, &id)?;
        let has_secret = model
            .user(&id)
            .is_some_and(|u| matches!(&u.kind, UserKind::Machine(m) if m.secret_hash.is_some()));
        if !has_secret {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-coi82n",
                "Secret doesn't exist",
            ));
        }
        set_secret(&mut model, &id, None);
        Ok(json!({"deletionDate": rfc3339(now())}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ExpiringRequest {
    expiration_date: Option<String>,
    public_key: Option<String>,
}

fn expiry(req: &ExpiringRequest) -> Result<i64, ApiError> {
    match &req.expiration_date {
        None => Ok(FAR_FUTURE),
        Some(s) => {
            let t = parse_rfc3339(s).ok_or_else(|| {
                ApiError::new(GrpcCode::InvalidArgument, "", "invalid expirationDate")
            })?;
            if t <= now() {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "EMU-MACH02",
                    "Expiration date is in the past",
                ));
            }
            Ok(t)
        }
    }
}

async fn add_pat(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        machine_org(&model, &headers, &id)?;
        let req: ExpiringRequest = parse_body(&body, "AddPersonalAccessTokenRequest")?;
        let expires = expiry(&req)?;
        let token = random_token(48);
        let token_id = model.ids.next();
        model.pats.push(Pat {
            id: token_id.clone(),
            user_id: id.clone(),
            token_hash: sha256_hex(&token),
            expires,
            created: now(),
        });
        Ok(json!({"creationDate": rfc3339(now()), "tokenId": token_id, "token": token}))
    })())
}

/// RemovePersonalAccessToken (`pats`) and RemoveKey.
async fn remove(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, cred_id)): Path<(String, String)>,
    pats: bool,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        machine_org(&model, &headers, &id)?;
        let (removed, what) = if pats {
            let before = model.pats.len();
            model.pats.retain(|p| !(p.id == cred_id && p.user_id == id));
            (model.pats.len() < before, "Personal Access Token")
        } else {
            let before = model.machine_keys.len();
            model
                .machine_keys
                .retain(|k| !(k.id == cred_id && k.user_id == id));
            (model.machine_keys.len() < before, "Machine key")
        };
        if !removed {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "COMMAND-4m77G",
                format!("{what} not found"),
            ));
        }
        model.next_sequence();
        Ok(json!({"deletionDate": rfc3339(now())}))
    })())
}

async fn add_key(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (req, key_id) = {
        let model = shared.lock();
        let parsed = (|| {
            machine_org(&model, &headers, &id)?;
            let req: ExpiringRequest = parse_body(&body, "AddKeyRequest")?;
            expiry(&req)?;
            Ok::<_, ApiError>(req)
        })();
        match parsed {
            Ok(r) => (r, model.ids.next()),
            Err(e) => return e.into_response(),
        }
    };
    let expires = expiry(&req).unwrap_or(FAR_FUTURE);
    // Generate outside the lock: RSA key generation takes a moment.
    let generated = match &req.public_key {
        Some(b64) => STANDARD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|pem| crate::keys::decoding_key_from_pem(pem).is_some())
            .map(|pem| (pem, None))
            .ok_or_else(|| {
                ApiError::new(
                    GrpcCode::InvalidArgument,
                    "EMU-MACH04",
                    "Public key is invalid",
                )
            }),
        None => {
            let result = tokio::task::spawn_blocking(crate::keys::generate_pem_pair).await;
            match result {
                Ok(Ok((public, private))) => Ok((public, Some(private))),
                _ => Err(ApiError::new(
                    GrpcCode::Internal,
                    "EMU-MACH05",
                    "Key generation failed",
                )),
            }
        }
    };
    let (public_pem, private_pem) = match generated {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut model = shared.lock();
    model.machine_keys.push(MachineKey {
        id: key_id.clone(),
        user_id: id.clone(),
        public_pem,
        created: now(),
        expires,
    });
    let mut v = json!({"creationDate": rfc3339(now()), "keyId": key_id});
    if let Some(private) = private_pem {
        let file = json!({"type": "serviceaccount", "keyId": key_id, "key": private, "userId": id});
        v["keyContent"] = json!(STANDARD.encode(file.to_string()));
    }
    axum::Json(v).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Pagination {
    offset: Option<Value>,
    limit: Option<u32>,
    asc: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListCredentialsRequest {
    pagination: Option<Pagination>,
    sorting_column: Option<Value>,
    filters: Vec<Value>,
}

/// One PAT or key as listed: id, user, org, created, expires.
struct Row<'a> {
    id: &'a str,
    user_id: &'a str,
    org_id: &'a str,
    created: i64,
    expires: i64,
}

/// Whether a row passes a `PersonalAccessTokensSearchFilter` / `KeysSearchFilter`.
fn row_matches(row: &Row<'_>, filter: &Value) -> Result<bool, ApiError> {
    let id = |key: &str| {
        filter
            .get(key)
            .map(|f| f["id"].as_str().unwrap_or_default())
    };
    if let Some(want) = id("tokenIdFilter").or_else(|| id("keyIdFilter")) {
        return Ok(row.id == want);
    }
    if let Some(want) = id("userIdFilter") {
        return Ok(row.user_id == want);
    }
    if let Some(want) = id("organizationIdFilter") {
        return Ok(row.org_id == want);
    }
    for (key, value) in [
        ("createdDateFilter", row.created),
        ("expirationDateFilter", row.expires),
    ] {
        if let Some(f) = filter.get(key) {
            let at = f["timestamp"]
                .as_str()
                .and_then(parse_rfc3339)
                .ok_or_else(|| {
                    ApiError::new(
                        GrpcCode::InvalidArgument,
                        "",
                        format!("invalid {key}.timestamp"),
                    )
                })?;
            return Ok(match f["method"].as_str().unwrap_or_default() {
                "TIMESTAMP_FILTER_METHOD_AFTER" => value > at,
                "TIMESTAMP_FILTER_METHOD_AFTER_OR_EQUALS" => value >= at,
                "TIMESTAMP_FILTER_METHOD_BEFORE" => value < at,
                "TIMESTAMP_FILTER_METHOD_BEFORE_OR_EQUALS" => value <= at,
                _ => value == at,
            });
        }
    }
    Ok(true)
}

/// ListPersonalAccessTokens (`pats`) and ListKeys: the credentials of the
/// users the caller may read (`user.read`, or its own).
async fn list(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    pats: bool,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let name = if pats {
            "ListPersonalAccessTokensRequest"
        } else {
            "ListKeysRequest"
        };
        let req: ListCredentialsRequest = parse_body(&body, name)?;
        let page = req.pagination.unwrap_or_default();
        let (offset, limit) = crate::api::list_page(page.offset.as_ref(), page.limit)?;
        let org_of = |user_id: &str| model.user(user_id).map(|u| u.org_id.as_str());
        let rows: Vec<Row<'_>> = if pats {
            model
                .pats
                .iter()
                .filter_map(|p| {
                    Some(Row {
                        id: &p.id,
                        user_id: &p.user_id,
                        org_id: org_of(&p.user_id)?,
                        created: p.created,
                        expires: p.expires,
                    })
                })
                .collect()
        } else {
            model
                .machine_keys
                .iter()
                .filter_map(|k| {
                    Some(Row {
                        id: &k.id,
                        user_id: &k.user_id,
                        org_id: org_of(&k.user_id)?,
                        created: k.created,
                        expires: k.expires,
                    })
                })
                .collect()
        };
        let mut found = Vec::new();
        for row in rows {
            if row.user_id != caller.user_id
                && !has_permission(&model, &caller, "user.read", Some(row.org_id))
            {
                continue;
            }
            let mut keep = true;
            for f in &req.filters {
                keep = keep && row_matches(&row, f)?;
            }
            if keep {
                found.push(row);
            }
        }
        let column = req
            .sorting_column
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or_default();
        let column = column.rsplit("_FIELD_NAME_").next().unwrap_or_default();
        found.sort_by(|a, b| {
            let by = match column {
                "ID" => a.id.cmp(b.id),
                "USER_ID" => a.user_id.cmp(b.user_id),
                "ORGANIZATION_ID" => a.org_id.cmp(b.org_id),
                "EXPIRATION_DATE" | "KEY_EXPIRATION_DATE" => a.expires.cmp(&b.expires),
                _ => a.created.cmp(&b.created),
            };
            by.then_with(|| a.id.cmp(b.id))
        });
        if !page.asc {
            found.reverse();
        }
        let total = found.len();
        let result: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(usize::try_from(limit).unwrap_or(100))
            .map(|r| {
                json!({
                    "creationDate": rfc3339(r.created),
                    "changeDate": rfc3339(r.created),
                    "id": r.id,
                    "userId": r.user_id,
                    "organizationId": r.org_id,
                    "expirationDate": rfc3339(r.expires),
                })
            })
            .collect();
        let mut pagination = json!({"appliedLimit": limit.to_string()});
        if total > 0 {
            pagination["totalResult"] = json!(total.to_string());
        }
        let mut v = json!({"pagination": pagination});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}
