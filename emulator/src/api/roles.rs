//! Management v1: the roles of a project (`project.role.*`). Removing a
//! role also removes it from the user grants that hold it, as in ZITADEL.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::idp_mgmt::{list_details, text_matches};
use crate::api::parse_body;
use crate::api::policies::{org_context, respond, v1_object_details};
use crate::error::{ApiError, GrpcCode};
use crate::model::{RoleInfo, State as Model};
use crate::server::AppState;
use crate::util::{now, rfc3339};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/management/v1/projects/{project_id}/roles", post(add_role))
        .route(
            "/management/v1/projects/{project_id}/roles/_bulk",
            post(bulk_add_roles),
        )
        .route(
            "/management/v1/projects/{project_id}/roles/_search",
            post(list_roles),
        )
        .route(
            "/management/v1/projects/{project_id}/roles/{role_key}",
            put(update_role).delete(remove_role),
        )
}

/// ZITADEL checks the project before writing roles: FAILED_PRECONDITION.
fn project_not_found() -> ApiError {
    ApiError::new(
        GrpcCode::FailedPrecondition,
        "COMMAND-EbFMN",
        "Project not found",
    )
}

/// `id`: `COMMAND-vv8M9` for a change, `COMMAND-m9vMf` for a removal.
fn role_not_found(id: &'static str) -> ApiError {
    ApiError::new(GrpcCode::NotFound, id, "Role doesn't exist")
}

/// The index of the project `id` owned by the org of the call.
fn project_index(model: &Model, id: &str, org: &str) -> Result<usize, ApiError> {
    model
        .projects
        .iter()
        .position(|p| p.id == id && p.org_id == org)
        .ok_or_else(project_not_found)
}

fn check_len(message: &str, field: &str, value: &str, min: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min || n > 200 {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            format!(
                "invalid {message}.{field}: value length must be between {min} and 200 runes, inclusive"
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RoleRequest {
    role_key: String,
    display_name: String,
    group: String,
}

/// Adds roles after checking all of them (all or nothing).
fn add_roles(
    model: &mut Model,
    project: usize,
    roles: Vec<(String, RoleInfo)>,
    message: &str,
) -> Result<(), ApiError> {
    for (i, (key, info)) in roles.iter().enumerate() {
        check_len(message, "RoleKey", key, 1)?;
        check_len(message, "DisplayName", &info.display_name, 1)?;
        check_len(message, "Group", &info.group, 0)?;
        let duplicate = roles[..i].iter().any(|(k, _)| k == key);
        if duplicate || model.projects[project].roles.contains(key) {
            // ZITADEL's unique-constraint error.
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "V3-DKcYh",
                "Role already exists",
            ));
        }
    }
    let p = &mut model.projects[project];
    for (key, info) in roles {
        p.roles.push(key.clone());
        p.role_info.insert(key, info);
    }
    Ok(())
}

async fn add_role(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "project.role.write")?;
        let req: RoleRequest = parse_body(&body, "AddProjectRoleRequest")?;
        let p = project_index(&model, &project_id, &org)?;
        let info = RoleInfo {
            display_name: req.display_name,
            group: req.group,
        };
        add_roles(
            &mut model,
            p,
            vec![(req.role_key, info)],
            "AddProjectRoleRequest",
        )?;
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BulkRole {
    key: String,
    display_name: String,
    group: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BulkRequest {
    roles: Vec<BulkRole>,
}

async fn bulk_add_roles(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "project.role.write")?;
        let req: BulkRequest = parse_body(&body, "BulkAddProjectRolesRequest")?;
        let p = project_index(&model, &project_id, &org)?;
        let roles = req
            .roles
            .into_iter()
            .map(|r| {
                (
                    r.key,
                    RoleInfo {
                        display_name: r.display_name,
                        group: r.group,
                    },
                )
            })
            .collect();
        add_roles(&mut model, p, roles, "BulkAddProjectRolesRequest_Role")?;
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn update_role(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((project_id, role_key)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "project.role.write")?;
        let req: RoleRequest = parse_body(&body, "UpdateProjectRoleRequest")?;
        check_len(
            "UpdateProjectRoleRequest",
            "DisplayName",
            &req.display_name,
            1,
        )?;
        check_len("UpdateProjectRoleRequest", "Group", &req.group, 0)?;
        let p = project_index(&model, &project_id, &org)?;
        let project = &mut model.projects[p];
        if !project.roles.contains(&role_key) {
            return Err(role_not_found("COMMAND-vv8M9"));
        }
        let info = RoleInfo {
            display_name: req.display_name,
            group: req.group,
        };
        let old = project
            .role_info
            .get(&role_key)
            .cloned()
            .unwrap_or(RoleInfo {
                display_name: role_key.clone(),
                group: String::new(),
            });
        if old == info {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-5M0cs",
                "No changes",
            ));
        }
        project.role_info.insert(role_key, info);
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn remove_role(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((project_id, role_key)): Path<(String, String)>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "project.role.delete")?;
        let p = project_index(&model, &project_id, &org)
            .map_err(|_| role_not_found("COMMAND-m9vMf"))?;
        let project = &mut model.projects[p];
        if !project.roles.contains(&role_key) {
            return Err(role_not_found("COMMAND-m9vMf"));
        }
        project.roles.retain(|r| *r != role_key);
        project.role_info.remove(&role_key);
        for g in model
            .grants
            .iter_mut()
            .filter(|g| g.project_id == project_id)
        {
            g.roles.retain(|r| *r != role_key);
        }
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct KeyQuery {
    key: String,
    method: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DisplayNameQuery {
    display_name: String,
    method: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RoleQuery {
    key_query: Option<KeyQuery>,
    display_name_query: Option<DisplayNameQuery>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListRequest {
    queries: Vec<RoleQuery>,
}

async fn list_roles(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "project.role.read")?;
        let req: ListRequest = parse_body(&body, "ListProjectRolesRequest")?;
        let project = &model.projects[project_index(&model, &project_id, &org)?];
        let result: Vec<Value> = project
            .roles
            .iter()
            .map(|key| {
                let info = project.role_info.get(key).cloned().unwrap_or_default();
                let display = if info.display_name.is_empty() {
                    key.clone()
                } else {
                    info.display_name
                };
                (key, display, info.group)
            })
            .filter(|(key, display, _)| {
                req.queries.iter().all(|q| {
                    q.key_query
                        .as_ref()
                        .is_none_or(|k| text_matches(&k.method, key, &k.key))
                        && q
                            .display_name_query
                            .as_ref()
                            .is_none_or(|d| text_matches(&d.method, display, &d.display_name))
                })
            })
            .map(|(key, display, group)| {
                let mut v = json!({
                    "key": key,
                    "details": {"sequence": "1", "changeDate": rfc3339(now()), "resourceOwner": project.org_id},
                    "displayName": display,
                });
                if !group.is_empty() {
                    v["group"] = json!(group);
                }
                v
            })
            .collect();
        let mut v = json!({"details": list_details(result.len())});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}
