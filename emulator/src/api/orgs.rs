//! Organization service v2: AddOrganization (201) and ListOrganizations.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::user_write::add_human_from_value;
use crate::api::{authenticate, details, has_permission, parse_body, require};
use crate::error::{ApiError, GrpcCode};
use crate::model::{MemberResource, Membership, Org};
use crate::server::AppState;
use crate::util::{now, rfc3339};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/organizations", post(add_org))
        .route("/v2/organizations/_search", post(list_orgs))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Admin {
    user_id: Option<String>,
    human: Option<Value>,
    roles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AddOrganizationRequest {
    name: String,
    admins: Vec<Admin>,
    org_id: Option<String>,
}

/// A domain label from an org name: lower case letters, digits and dashes.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

async fn add_org(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        require(&model, &caller, "org.create", None)?;
        let req: AddOrganizationRequest = parse_body(&body, "AddOrganizationRequest")?;
        let name = req.name.trim().to_owned();
        if name.is_empty() || name.len() > 200 {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid AddOrganizationRequest.Name: value length must be between 1 and 200 runes, inclusive",
            ));
        }
        let domain = format!("{}.localhost", slug(&name));
        if model
            .orgs
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&name) || o.primary_domain == domain)
        {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "EMU-ORG01",
                "Organisation already exists",
            ));
        }
        let id = match req.org_id {
            Some(id) if model.org(&id).is_some() => {
                return Err(ApiError::new(
                    GrpcCode::AlreadyExists,
                    "EMU-ORG01",
                    "Organisation already exists",
                ));
            }
            Some(id) => id,
            None => model.ids.next(),
        };
        model.orgs.push(Org {
            id: id.clone(),
            name,
            primary_domain: domain,
            primary_color: "#5469d4".to_owned(),
        });
        let mut created = Vec::new();
        for admin in req.admins {
            let roles = if admin.roles.is_empty() {
                vec!["ORG_OWNER".to_owned()]
            } else {
                admin.roles
            };
            let (user_id, code) = match (admin.user_id, admin.human) {
                (Some(uid), None) => {
                    if model.user(&uid).is_none() {
                        return Err(ApiError::new(
                            GrpcCode::NotFound,
                            "QUERY-Dfbg2",
                            "User could not be found",
                        ));
                    }
                    (uid, None)
                }
                (None, Some(human)) => add_human_from_value(&mut model, &id, human)?,
                _ => {
                    return Err(ApiError::new(
                        GrpcCode::InvalidArgument,
                        "",
                        "invalid AddOrganizationRequest_Admin: userId or human is required",
                    ));
                }
            };
            model.memberships.push(Membership {
                user_id: user_id.clone(),
                resource: MemberResource::Org(id.clone()),
                roles,
            });
            let mut c = json!({"userId": user_id});
            if let Some(code) = code {
                c["emailCode"] = json!(code);
            }
            created.push(c);
        }
        let seq = model.next_sequence();
        let mut v = json!({"details": details(seq, now(), &id), "organizationId": id});
        if !created.is_empty() {
            v["createdAdmins"] = json!(created);
        }
        Ok(v)
    })();
    match result {
        Ok(v) => (StatusCode::CREATED, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TextQuery {
    name: Option<String>,
    domain: Option<String>,
    id: Option<String>,
    method: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OrgQuery {
    name_query: Option<TextQuery>,
    domain_query: Option<TextQuery>,
    id_query: Option<TextQuery>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListQuery {
    limit: Option<u32>,
    asc: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListOrganizationsRequest {
    query: Option<ListQuery>,
    queries: Vec<OrgQuery>,
}

/// ZITADEL's `TEXT_QUERY_METHOD_*` comparison.
pub(crate) fn text_matches(value: &str, wanted: &str, method: Option<&str>) -> bool {
    let method = method.unwrap_or("TEXT_QUERY_METHOD_EQUALS");
    let (v, w) = if method.ends_with("_IGNORE_CASE") {
        (value.to_lowercase(), wanted.to_lowercase())
    } else {
        (value.to_owned(), wanted.to_owned())
    };
    match method.trim_end_matches("_IGNORE_CASE") {
        "TEXT_QUERY_METHOD_STARTS_WITH" => v.starts_with(&w),
        "TEXT_QUERY_METHOD_CONTAINS" => v.contains(&w),
        "TEXT_QUERY_METHOD_ENDS_WITH" => v.ends_with(&w),
        _ => v == w,
    }
}

async fn list_orgs(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: ListOrganizationsRequest = parse_body(&body, "ListOrganizationsRequest")?;
        let query = req.query.unwrap_or_default();
        let limit = usize::try_from(query.limit.unwrap_or(100)).unwrap_or(100);
        let mut found: Vec<&Org> = model
            .orgs
            .iter()
            .filter(|o| has_permission(&model, &caller, "org.read", Some(&o.id)))
            .filter(|o| {
                req.queries.iter().all(|q| {
                    q.name_query.as_ref().is_none_or(|t| {
                        text_matches(
                            &o.name,
                            t.name.as_deref().unwrap_or_default(),
                            t.method.as_deref(),
                        )
                    }) && q.domain_query.as_ref().is_none_or(|t| {
                        text_matches(
                            &o.primary_domain,
                            t.domain.as_deref().unwrap_or_default(),
                            t.method.as_deref(),
                        )
                    }) && q
                        .id_query
                        .as_ref()
                        .is_none_or(|t| t.id.as_deref() == Some(o.id.as_str()))
                })
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        if !query.asc {
            found.reverse();
        }
        let total = found.len();
        let result: Vec<Value> = found
            .into_iter()
            .take(limit)
            .map(|o| {
                json!({
                    "id": o.id,
                    "details": {"sequence": "1", "changeDate": rfc3339(now()), "resourceOwner": o.id},
                    "state": "ORGANIZATION_STATE_ACTIVE",
                    "name": o.name,
                    "primaryDomain": o.primary_domain,
                })
            })
            .collect();
        let mut v = json!({"details": {"timestamp": rfc3339(now())}});
        if total > 0 {
            v["details"]["totalResult"] = json!(total.to_string());
        }
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
