//! Management v1: user grants (project roles of users) and org members.
//! The org is `x-zitadel-orgid` or the caller's own org.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{authenticate, parse_body, require};
use crate::error::{ApiError, GrpcCode};
use crate::model::{MemberResource, Membership, State as Model, User, UserGrant, UserKind};
use crate::server::AppState;
use crate::util::{now, rfc3339};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/management/v1/users/{user_id}/grants", post(add_grant))
        .route("/management/v1/users/grants/_search", post(search_grants))
        .route(
            "/management/v1/users/{user_id}/grants/{grant_id}",
            put(update_grant).delete(remove_grant).get(get_grant),
        )
        .route("/management/v1/orgs/me/members", post(add_member))
        .route(
            "/management/v1/orgs/me/members/_search",
            post(search_members),
        )
        .route(
            "/management/v1/orgs/me/members/{user_id}",
            put(update_member).delete(remove_member),
        )
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn org_of_call(model: &Model, headers: &HeaderMap, permission: &str) -> Result<String, ApiError> {
    let caller = authenticate(model, headers)?;
    let org = headers
        .get("x-zitadel-orgid")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| caller.org_id.clone(), str::to_owned);
    if model.org(&org).is_none() {
        return Err(ApiError::new(
            GrpcCode::NotFound,
            "EMU-POL01",
            "Organisation not found",
        ));
    }
    require(model, &caller, permission, Some(&org))?;
    Ok(org)
}

fn object_details(model: &mut Model, org: &str) -> Value {
    let seq = model.next_sequence();
    json!({"sequence": seq.to_string(), "changeDate": rfc3339(now()), "resourceOwner": org})
}

fn user_not_found() -> ApiError {
    ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
}

/// Inserts a string unless it is empty (protojson omits zero values).
fn put_str(v: &mut Value, key: &str, s: &str) {
    if !s.is_empty() {
        v[key] = json!(s);
    }
}

fn user_fields(model: &Model, u: &User, v: &mut Value) {
    put_str(v, "preferredLoginName", &model.login_name(u));
    match &u.kind {
        UserKind::Human(h) => {
            put_str(v, "email", &h.email);
            put_str(v, "firstName", &h.given_name);
            put_str(v, "lastName", &h.family_name);
            put_str(v, "displayName", &h.display_name);
            v["userType"] = json!("TYPE_HUMAN");
        }
        UserKind::Machine(m) => {
            put_str(v, "displayName", &m.name);
            v["userType"] = json!("TYPE_MACHINE");
        }
    }
}

fn grant_json(model: &Model, g: &UserGrant) -> Value {
    let mut v = json!({
        "id": g.id,
        "details": {"sequence": "1", "changeDate": rfc3339(now())},
        "state": "USER_GRANT_STATE_ACTIVE",
        "userId": g.user_id,
        "projectId": g.project_id,
    });
    if !g.roles.is_empty() {
        v["roleKeys"] = json!(g.roles);
    }
    if let Some(u) = model.user(&g.user_id) {
        put_str(&mut v, "userName", &u.username);
        user_fields(model, u, &mut v);
        if let Some(o) = model.org(&u.org_id) {
            v["orgId"] = json!(o.id);
            v["orgName"] = json!(o.name);
            v["orgDomain"] = json!(o.primary_domain);
            v["details"]["resourceOwner"] = json!(o.id);
        }
    }
    if let Some(p) = model.project(&g.project_id) {
        v["projectName"] = json!(p.name);
    }
    v
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GrantRequest {
    project_id: String,
    role_keys: Vec<String>,
}

fn check_roles(model: &Model, project_id: &str, roles: &[String]) -> Result<(), ApiError> {
    let project = model
        .project(project_id)
        .ok_or_else(|| ApiError::new(GrpcCode::NotFound, "EMU-GRANT01", "Project not found"))?;
    if roles.iter().any(|r| !project.roles.contains(r)) {
        // ZITADEL has no translation for this key and returns it as is.
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "COMMAND-mm9F4",
            "Errors.Project.Role.NotFound",
        ));
    }
    Ok(())
}

async fn add_grant(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "user.grant.write")?;
        let req: GrantRequest = parse_body(&body, "AddUserGrantRequest")?;
        model.user(&user_id).ok_or_else(user_not_found)?;
        check_roles(&model, &req.project_id, &req.role_keys)?;
        if model
            .grants
            .iter()
            .any(|g| g.user_id == user_id && g.project_id == req.project_id)
        {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "V3-DKcYh",
                "User grant already exists",
            ));
        }
        let id = model.ids.next();
        model.grants.push(UserGrant {
            id: id.clone(),
            user_id,
            project_id: req.project_id,
            roles: req.role_keys,
        });
        Ok(json!({"userGrantId": id, "details": object_details(&mut model, &org)}))
    })())
}

async fn update_grant(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((user_id, grant_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "user.grant.write")?;
        let req: GrantRequest = parse_body(&body, "UpdateUserGrantRequest")?;
        let project = model
            .grants
            .iter()
            .find(|g| g.id == grant_id && g.user_id == user_id)
            .map(|g| g.project_id.clone())
            .ok_or_else(|| {
                ApiError::new(GrpcCode::NotFound, "COMMAND-3M9sd", "User grant not found")
            })?;
        check_roles(&model, &project, &req.role_keys)?;
        if let Some(g) = model.grants.iter_mut().find(|g| g.id == grant_id) {
            g.roles = req.role_keys;
        }
        Ok(json!({"details": object_details(&mut model, &org)}))
    })())
}

async fn remove_grant(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((user_id, grant_id)): Path<(String, String)>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "user.grant.delete")?;
        let before = model.grants.len();
        model
            .grants
            .retain(|g| !(g.id == grant_id && g.user_id == user_id));
        if model.grants.len() == before {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "EMU-GRANT04",
                "User grant not found",
            ));
        }
        Ok(json!({"details": object_details(&mut model, &org)}))
    })())
}

async fn get_grant(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((user_id, grant_id)): Path<(String, String)>,
) -> Response {
    let model = shared.lock();
    respond((|| {
        org_of_call(&model, &headers, "user.grant.read")?;
        let g = model
            .grants
            .iter()
            .find(|g| g.id == grant_id && g.user_id == user_id)
            .ok_or_else(|| {
                ApiError::new(GrpcCode::NotFound, "QUERY-wIPkA", "User grant not found")
            })?;
        Ok(json!({"userGrant": grant_json(&model, g)}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IdQuery {
    user_id: Option<String>,
    project_id: Option<String>,
    role_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct GrantQuery {
    user_id_query: Option<IdQuery>,
    project_id_query: Option<IdQuery>,
    role_key_query: Option<IdQuery>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SearchRequest {
    queries: Vec<GrantQuery>,
}

fn list_details(total: usize) -> Value {
    let mut d = json!({"viewTimestamp": rfc3339(now())});
    if total > 0 {
        d["totalResult"] = json!(total.to_string());
    }
    d
}

async fn search_grants(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "user.grant.read")?;
        let req: SearchRequest = parse_body(&body, "ListUserGrantRequest")?;
        let result: Vec<Value> = model
            .grants
            .iter()
            .filter(|g| model.user(&g.user_id).is_some_and(|u| u.org_id == org))
            .filter(|g| {
                req.queries.iter().all(|q| {
                    q.user_id_query
                        .as_ref()
                        .is_none_or(|u| u.user_id.as_deref() == Some(g.user_id.as_str()))
                        && q.project_id_query
                            .as_ref()
                            .is_none_or(|p| p.project_id.as_deref() == Some(g.project_id.as_str()))
                        && q.role_key_query.as_ref().is_none_or(|r| {
                            r.role_key.as_ref().is_some_and(|k| g.roles.contains(k))
                        })
                })
            })
            .map(|g| grant_json(&model, g))
            .collect();
        let mut v = json!({"details": list_details(result.len())});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct MemberRequest {
    user_id: String,
    roles: Vec<String>,
}

/// ZITADEL's checks of member roles: `(id if empty, id if not ORG_*)`; the
/// message keys have no translation in ZITADEL.
fn check_member_roles(roles: &[String], ids: (&'static str, &'static str)) -> Result<(), ApiError> {
    if roles.is_empty() {
        let message = if ids.0 == "ORG-4Mlfs" {
            "Errors.Invalid.Argument"
        } else {
            "Errors.Org.MemberInvalid"
        };
        return Err(ApiError::new(GrpcCode::InvalidArgument, ids.0, message));
    }
    if roles.iter().any(|r| !r.starts_with("ORG_")) {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            ids.1,
            "Errors.Org.MemberInvalid",
        ));
    }
    Ok(())
}

async fn add_member(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "org.member.write")?;
        let req: MemberRequest = parse_body(&body, "AddOrgMemberRequest")?;
        check_member_roles(&req.roles, ("ORG-4Mlfs", "Org-4N8es"))?;
        model.user(&req.user_id).ok_or_else(|| {
            ApiError::new(
                GrpcCode::FailedPrecondition,
                "ORG-GoXOn",
                "User could not be found",
            )
        })?;
        let resource = MemberResource::Org(org.clone());
        if model
            .memberships
            .iter()
            .any(|m| m.user_id == req.user_id && m.resource == resource)
        {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "ORG-poWwe",
                "Errors.Org.Member.AlreadyExists",
            ));
        }
        model.memberships.push(Membership {
            user_id: req.user_id,
            resource,
            roles: req.roles,
        });
        Ok(json!({"details": object_details(&mut model, &org)}))
    })())
}

async fn update_member(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "org.member.write")?;
        let req: MemberRequest = parse_body(&body, "UpdateOrgMemberRequest")?;
        check_member_roles(&req.roles, ("Org-LiaZi", "IAM-m9fG8"))?;
        let resource = MemberResource::Org(org.clone());
        let m = model
            .memberships
            .iter_mut()
            .find(|m| m.user_id == user_id && m.resource == resource)
            .ok_or_else(|| ApiError::new(GrpcCode::NotFound, "Org-D8JxR", "Errors.NotFound"))?;
        m.roles = req.roles;
        Ok(json!({"details": object_details(&mut model, &org)}))
    })())
}

async fn remove_member(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "org.member.delete")?;
        let resource = MemberResource::Org(org.clone());
        // As in ZITADEL, removing a member who is none succeeds.
        model
            .memberships
            .retain(|m| !(m.user_id == user_id && m.resource == resource));
        Ok(json!({"details": object_details(&mut model, &org)}))
    })())
}

async fn search_members(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_of_call(&model, &headers, "org.member.read")?;
        let resource = MemberResource::Org(org.clone());
        let result: Vec<Value> = model
            .memberships
            .iter()
            .filter(|m| m.resource == resource)
            .filter_map(|m| {
                let u = model.user(&m.user_id)?;
                let mut v = json!({
                    "userId": u.id,
                    "details": {"sequence": "1", "changeDate": rfc3339(now()), "resourceOwner": org},
                    "roles": m.roles,
                    "userResourceOwner": u.org_id,
                });
                user_fields(&model, u, &mut v);
                Some(v)
            })
            .collect();
        let mut v = json!({"details": list_details(result.len())});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}
