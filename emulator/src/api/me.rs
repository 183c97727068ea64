//! Deleting users, user metadata, and the caller's own memberships and
//! permissions (`/auth/v1/.../me/_search`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{
    authenticate, details, has_permission, parse_body, permission_denied, role_permissions,
};
use crate::error::{ApiError, GrpcCode};
use crate::model::{MemberResource, State as Model};
use crate::server::AppState;
use crate::util::{now, parse_form, rfc3339};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/users/{id}", delete(delete_user))
        .route(
            "/v2/users/{id}/metadata",
            post(set_metadata).delete(delete_metadata),
        )
        .route("/v2/users/{id}/metadata/search", post(list_metadata))
        .route("/auth/v1/memberships/me/_search", post(my_memberships))
        .route(
            "/auth/v1/permissions/zitadel/me/_search",
            post(my_permissions),
        )
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn user_org(model: &Model, id: &str) -> Result<String, ApiError> {
    model
        .user(id)
        .map(|u| u.org_id.clone())
        .ok_or_else(|| ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found"))
}

async fn delete_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let org = user_org(&model, &id)?;
        // Deleting yourself needs user.self.delete (SELF_MANAGEMENT_GLOBAL or
        // ORG_USER_SELF_MANAGER), not granted to plain users.
        let permission = if caller.user_id == id {
            "user.self.delete"
        } else {
            "user.delete"
        };
        if !has_permission(&model, &caller, permission, Some(&org)) {
            return Err(permission_denied());
        }
        model.delete_user(&id);
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })())
}

/// Self or `permission` on the user's org.
fn self_or(
    model: &Model,
    headers: &HeaderMap,
    id: &str,
    permission: &str,
) -> Result<String, ApiError> {
    let caller = authenticate(model, headers)?;
    let org = user_org(model, id)?;
    if caller.user_id != id && !has_permission(model, &caller, permission, Some(&org)) {
        return Err(permission_denied());
    }
    Ok(org)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Entry {
    key: String,
    value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SetRequest {
    metadata: Vec<Entry>,
}

async fn set_metadata(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        self_or(&model, &headers, &id, "user.write")?;
        let req: SetRequest = parse_body(&body, "SetUserMetadataRequest")?;
        if req.metadata.is_empty() {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid SetUserMetadataRequest.Metadata: value must contain at least 1 item(s)",
            ));
        }
        for e in &req.metadata {
            let ok = !e.key.is_empty()
                && e.key.len() <= 200
                && STANDARD
                    .decode(&e.value)
                    .is_ok_and(|v| !v.is_empty() && v.len() <= 500_000);
            if !ok {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "",
                    "invalid Metadata: key 1-200 characters, value non-empty base64",
                ));
            }
        }
        let t = now();
        if let Some(u) = model.users.iter_mut().find(|u| u.id == id) {
            for e in req.metadata {
                let created = u.metadata.get(&e.key).map_or(t, |m| m.1);
                u.metadata.insert(e.key, (e.value, created, t));
            }
            u.changed = t;
        }
        model.next_sequence();
        Ok(json!({"setDate": rfc3339(t)}))
    })())
}

async fn list_metadata(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let model = shared.lock();
    respond((|| {
        self_or(&model, &headers, &id, "user.read")?;
        let items: Vec<Value> = model
            .user(&id)
            .map(|u| {
                u.metadata
                    .iter()
                    .map(|(k, (v, c, ch))| json!({"creationDate": rfc3339(*c), "changeDate": rfc3339(*ch), "key": k, "value": v}))
                    .collect()
            })
            .unwrap_or_default();
        let mut v = json!({"pagination": {"appliedLimit": "100"}});
        if !items.is_empty() {
            v["pagination"]["totalResult"] = json!(items.len().to_string());
            v["metadata"] = json!(items);
        }
        Ok(v)
    })())
}

async fn delete_metadata(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        self_or(&model, &headers, &id, "user.write")?;
        let q = parse_form(q.unwrap_or_default().as_bytes());
        let keys: Vec<String> = q
            .iter()
            .filter(|(k, _)| k == "keys")
            .map(|(_, v)| v.clone())
            .collect();
        if keys.is_empty() {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid DeleteUserMetadataRequest.Keys: value is required",
            ));
        }
        if let Some(u) = model.users.iter_mut().find(|u| u.id == id) {
            for k in &keys {
                u.metadata.remove(k);
            }
            u.changed = now();
        }
        model.next_sequence();
        Ok(json!({"deletionDate": rfc3339(now())}))
    })())
}

async fn my_memberships(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let result: Vec<Value> = model
            .memberships
            .iter()
            .filter(|m| m.user_id == caller.user_id)
            .map(|m| {
                let mut v = json!({
                    "userId": m.user_id,
                    "details": {"sequence": "1", "changeDate": rfc3339(now())},
                    "roles": m.roles,
                });
                match &m.resource {
                    MemberResource::Instance => {
                        v["iam"] = json!(true);
                        v["details"]["resourceOwner"] = json!(model.instance_id);
                    }
                    MemberResource::Org(o) => {
                        v["orgId"] = json!(o);
                        v["details"]["resourceOwner"] = json!(o);
                        if let Some(org) = model.org(o) {
                            v["displayName"] = json!(org.name);
                        }
                    }
                    MemberResource::Project(p) => {
                        v["projectId"] = json!(p);
                        if let Some(project) = model.project(p) {
                            v["displayName"] = json!(project.name);
                            v["details"]["resourceOwner"] = json!(project.org_id);
                        }
                    }
                }
                v
            })
            .collect();
        let mut v = json!({"details": {"viewTimestamp": rfc3339(now())}});
        if !result.is_empty() {
            v["details"]["totalResult"] = json!(result.len().to_string());
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}

async fn my_permissions(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let mut perms = std::collections::BTreeSet::new();
        for m in model
            .memberships
            .iter()
            .filter(|m| m.user_id == caller.user_id)
        {
            for r in &m.roles {
                for p in role_permissions(r) {
                    if *p == "*" {
                        // IAM_OWNER holds every permission; list the known ones.
                        for role in [
                            "IAM_LOGIN_CLIENT",
                            "ORG_OWNER",
                            "ORG_USER_MANAGER",
                            "ORG_SETTINGS_MANAGER",
                        ] {
                            perms.extend(role_permissions(role).iter().map(|s| (*s).to_owned()));
                        }
                        perms.extend(
                            ["org.create", "iam.write", "iam.policy.write"].map(str::to_owned),
                        );
                    } else {
                        perms.insert((*p).to_owned());
                    }
                }
            }
        }
        let mut v = json!({});
        if !perms.is_empty() {
            v["result"] = json!(perms);
        }
        Ok(v)
    })())
}
