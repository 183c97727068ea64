//! Reading users: `GET /v2/users/{id}` and `GET /auth/v1/users/me`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::api::{Caller, authenticate, has_permission, permission_denied};
use crate::error::{ApiError, GrpcCode};
use crate::model::{State as Model, User, UserKind, UserState};
use crate::server::AppState;
use crate::util::rfc3339;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/users/{id}", get(get_user))
        .route("/auth/v1/users/me", get(get_me))
        .route("/v2/users", axum::routing::post(list_users))
}

fn state_name(s: UserState) -> &'static str {
    match s {
        UserState::Active => "USER_STATE_ACTIVE",
        UserState::Inactive => "USER_STATE_INACTIVE",
        UserState::Locked => "USER_STATE_LOCKED",
    }
}

/// Inserts a value unless it is a protobuf zero value (empty string, false).
fn put(map: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    let zero = matches!(&value, Value::String(s) if s.is_empty()) || value == Value::Bool(false);
    if !zero {
        map.insert(key.to_owned(), value);
    }
}

fn v2_user(model: &Model, u: &User) -> Value {
    let mut user = serde_json::Map::new();
    user.insert("userId".into(), json!(u.id));
    user.insert(
        "details".into(),
        json!({"sequence": "1", "changeDate": rfc3339(u.changed), "resourceOwner": u.org_id}),
    );
    user.insert("state".into(), json!(state_name(u.state)));
    user.insert("username".into(), json!(u.username));
    let login = model.login_name(u);
    user.insert("loginNames".into(), json!([login]));
    user.insert("preferredLoginName".into(), json!(login));
    match &u.kind {
        UserKind::Human(h) => {
            let mut profile = serde_json::Map::new();
            put(&mut profile, "givenName", json!(h.given_name));
            put(&mut profile, "familyName", json!(h.family_name));
            put(&mut profile, "nickName", json!(h.nick_name));
            put(&mut profile, "displayName", json!(h.display_name));
            put(
                &mut profile,
                "preferredLanguage",
                json!(h.preferred_language),
            );
            let mut email = serde_json::Map::new();
            put(&mut email, "email", json!(h.email));
            put(&mut email, "isVerified", json!(h.email_verified));
            let mut phone = serde_json::Map::new();
            put(&mut phone, "phone", json!(h.phone));
            put(&mut phone, "isVerified", json!(h.phone_verified));
            user.insert(
                "human".into(),
                json!({"profile": profile, "email": email, "phone": phone}),
            );
        }
        UserKind::Machine(m) => {
            let mut machine = serde_json::Map::new();
            put(&mut machine, "name", json!(m.name));
            put(&mut machine, "description", json!(m.description));
            put(&mut machine, "hasSecret", json!(m.secret_hash.is_some()));
            user.insert("machine".into(), Value::Object(machine));
        }
    }
    Value::Object(user)
}

fn v1_user(model: &Model, u: &User) -> Value {
    let login = model.login_name(u);
    let mut user = json!({
        "id": u.id,
        "details": {"sequence": "1", "changeDate": rfc3339(u.changed), "resourceOwner": u.org_id},
        "state": state_name(u.state),
        "userName": u.username,
        "loginNames": [login],
        "preferredLoginName": login,
    });
    match &u.kind {
        UserKind::Human(h) => {
            let mut profile = serde_json::Map::new();
            put(&mut profile, "firstName", json!(h.given_name));
            put(&mut profile, "lastName", json!(h.family_name));
            put(&mut profile, "nickName", json!(h.nick_name));
            put(&mut profile, "displayName", json!(h.display_name));
            put(
                &mut profile,
                "preferredLanguage",
                json!(h.preferred_language),
            );
            let mut email = serde_json::Map::new();
            put(&mut email, "email", json!(h.email));
            put(&mut email, "isEmailVerified", json!(h.email_verified));
            let mut phone = serde_json::Map::new();
            put(&mut phone, "phone", json!(h.phone));
            put(&mut phone, "isPhoneVerified", json!(h.phone_verified));
            user["human"] = json!({"profile": profile, "email": email, "phone": phone});
        }
        UserKind::Machine(m) => {
            let mut machine = serde_json::Map::new();
            put(&mut machine, "name", json!(m.name));
            put(&mut machine, "description", json!(m.description));
            user["machine"] = Value::Object(machine);
        }
    }
    user
}

async fn get_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let model = shared.lock();
    let result = (|| -> Result<_, ApiError> {
        let caller: Caller = authenticate(&model, &headers)?;
        let user = model.user(&id).ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
        })?;
        if caller.user_id != user.id
            && !has_permission(&model, &caller, "user.read", Some(&user.org_id))
        {
            return Err(permission_denied());
        }
        Ok(json!({
            "details": {"sequence": "1", "changeDate": rfc3339(user.changed), "resourceOwner": user.org_id},
            "user": v2_user(&model, user),
        }))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn get_me(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let model = shared.lock();
    let result = authenticate(&model, &headers).and_then(|caller| {
        model
            .user(&caller.user_id)
            .map(|u| json!({"user": v1_user(&model, u)}))
            .ok_or_else(|| {
                ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
            })
    });
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TextQuery {
    user_name: Option<String>,
    display_name: Option<String>,
    email_address: Option<String>,
    login_name: Option<String>,
    method: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IdsQuery {
    user_ids: Vec<String>,
    organization_id: Option<String>,
    #[serde(rename = "type")]
    user_type: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UserQuery {
    user_name_query: Option<TextQuery>,
    display_name_query: Option<TextQuery>,
    email_query: Option<TextQuery>,
    login_name_query: Option<TextQuery>,
    in_user_ids_query: Option<IdsQuery>,
    organization_id_query: Option<IdsQuery>,
    type_query: Option<IdsQuery>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListQuery {
    limit: Option<u32>,
    asc: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListUsersRequest {
    query: Option<ListQuery>,
    queries: Vec<UserQuery>,
}

fn matches(model: &Model, u: &User, q: &UserQuery) -> bool {
    use crate::api::orgs::text_matches;
    let display = match &u.kind {
        UserKind::Human(h) => h.display_name.clone(),
        UserKind::Machine(m) => m.name.clone(),
    };
    let email = u.human().map(|h| h.email.clone()).unwrap_or_default();
    q.user_name_query.as_ref().is_none_or(|t| {
        text_matches(
            &u.username,
            t.user_name.as_deref().unwrap_or_default(),
            t.method.as_deref(),
        )
    }) && q.display_name_query.as_ref().is_none_or(|t| {
        text_matches(
            &display,
            t.display_name.as_deref().unwrap_or_default(),
            t.method.as_deref(),
        )
    }) && q.email_query.as_ref().is_none_or(|t| {
        text_matches(
            &email,
            t.email_address.as_deref().unwrap_or_default(),
            t.method.as_deref(),
        )
    }) && q.login_name_query.as_ref().is_none_or(|t| {
        text_matches(
            &model.login_name(u),
            t.login_name.as_deref().unwrap_or_default(),
            t.method.as_deref(),
        )
    }) && q
        .in_user_ids_query
        .as_ref()
        .is_none_or(|i| i.user_ids.contains(&u.id))
        && q.organization_id_query
            .as_ref()
            .is_none_or(|o| o.organization_id.as_deref() == Some(u.org_id.as_str()))
        && q.type_query
            .as_ref()
            .is_none_or(|t| match t.user_type.as_deref() {
                Some("TYPE_HUMAN") => u.human().is_some(),
                Some("TYPE_MACHINE") => u.human().is_none(),
                _ => true,
            })
}

pub(super) async fn list_users(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: ListUsersRequest = crate::api::parse_body(&body, "ListUsersRequest")?;
        let query = req.query.unwrap_or_default();
        let limit = query.limit.unwrap_or(100);
        if limit > 1000 {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "QUERY-4M0fs",
                "Limit is too big",
            ));
        }
        let mut found: Vec<&User> = model
            .users
            .iter()
            .filter(|u| {
                u.id == caller.user_id
                    || has_permission(&model, &caller, "user.read", Some(&u.org_id))
            })
            .filter(|u| req.queries.iter().all(|q| matches(&model, u, q)))
            .collect();
        found.sort_by(|a, b| a.username.cmp(&b.username));
        if !query.asc {
            found.reverse();
        }
        let total = found.len();
        let users: Vec<Value> = found
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(100))
            .map(|u| v2_user(&model, u))
            .collect();
        let mut v = json!({"details": {"timestamp": rfc3339(crate::util::now())}});
        if total > 0 {
            v["details"]["totalResult"] = json!(total.to_string());
            v["result"] = json!(users);
        }
        Ok(v)
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
