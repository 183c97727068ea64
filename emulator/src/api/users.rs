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
            user.insert("human".into(), human_json(h, false));
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

/// Profile, email and phone of a human: `zitadel.user.v2.HumanUser`'s or
/// (`v1`) `zitadel.user.v1.Human`'s field names.
fn human_json(h: &crate::model::Human, v1: bool) -> Value {
    let (given, family, email_verified, phone_verified) = if v1 {
        (
            "firstName",
            "lastName",
            "isEmailVerified",
            "isPhoneVerified",
        )
    } else {
        ("givenName", "familyName", "isVerified", "isVerified")
    };
    let mut profile = serde_json::Map::new();
    put(&mut profile, given, json!(h.given_name));
    put(&mut profile, family, json!(h.family_name));
    put(&mut profile, "nickName", json!(h.nick_name));
    put(&mut profile, "displayName", json!(h.display_name));
    put(
        &mut profile,
        "preferredLanguage",
        json!(h.preferred_language),
    );
    put(&mut profile, "gender", json!(h.gender));
    let mut email = serde_json::Map::new();
    put(&mut email, "email", json!(h.email));
    put(&mut email, email_verified, json!(h.email_verified));
    let mut phone = serde_json::Map::new();
    put(&mut phone, "phone", json!(h.phone));
    put(&mut phone, phone_verified, json!(h.phone_verified));
    json!({"profile": profile, "email": email, "phone": phone})
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
        UserKind::Human(h) => user["human"] = human_json(h, true),
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

/// A text query of any kind: the wanted value is in whichever field the
/// query type names (`userName`, `firstName`, `emailAddress`, `number`, …).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TextQuery {
    user_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    nick_name: Option<String>,
    display_name: Option<String>,
    email_address: Option<String>,
    login_name: Option<String>,
    number: Option<String>,
    method: Option<String>,
}

impl TextQuery {
    fn matches(&self, value: &str) -> bool {
        let wanted = [
            &self.user_name,
            &self.first_name,
            &self.last_name,
            &self.nick_name,
            &self.display_name,
            &self.email_address,
            &self.login_name,
            &self.number,
        ]
        .into_iter()
        .find_map(Option::as_deref)
        .unwrap_or_default();
        crate::api::orgs::text_matches(value, wanted, self.method.as_deref())
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IdsQuery {
    user_ids: Vec<String>,
    user_emails: Vec<String>,
    organization_id: Option<String>,
    #[serde(rename = "type")]
    user_type: Option<String>,
    state: Option<Value>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct QueryList {
    queries: Vec<UserQuery>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct NotQuery {
    query: UserQuery,
}

/// `zitadel.user.v2.SearchQuery` (one member set; several are all applied).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UserQuery {
    user_name_query: Option<TextQuery>,
    first_name_query: Option<TextQuery>,
    last_name_query: Option<TextQuery>,
    nick_name_query: Option<TextQuery>,
    display_name_query: Option<TextQuery>,
    email_query: Option<TextQuery>,
    login_name_query: Option<TextQuery>,
    phone_query: Option<TextQuery>,
    state_query: Option<IdsQuery>,
    type_query: Option<IdsQuery>,
    in_user_ids_query: Option<IdsQuery>,
    in_user_emails_query: Option<IdsQuery>,
    organization_id_query: Option<IdsQuery>,
    or_query: Option<QueryList>,
    and_query: Option<QueryList>,
    not_query: Option<Box<NotQuery>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListQuery {
    offset: Option<Value>,
    limit: Option<u32>,
    asc: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListUsersRequest {
    query: Option<ListQuery>,
    sorting_column: Option<Value>,
    queries: Vec<UserQuery>,
}

/// The `UserState` enum name of a user (`state` may come as a name or number).
fn state_matches(u: &User, wanted: &Value) -> bool {
    let name = state_name(u.state);
    match wanted {
        Value::String(s) => s == name,
        Value::Number(n) => {
            let number = match u.state {
                UserState::Active => 1,
                UserState::Inactive => 2,
                UserState::Locked => 4,
            };
            n.as_u64() == Some(number)
        }
        _ => false,
    }
}

/// Sort key of a user for a `UserFieldName`.
fn sort_key(u: &User, column: &str) -> String {
    let h = u.human();
    let text = |f: fn(&crate::model::Human) -> &String| h.map(f).cloned().unwrap_or_default();
    match column {
        "USER_FIELD_NAME_USER_NAME" => u.username.to_lowercase(),
        "USER_FIELD_NAME_FIRST_NAME" => text(|h| &h.given_name),
        "USER_FIELD_NAME_LAST_NAME" => text(|h| &h.family_name),
        "USER_FIELD_NAME_NICK_NAME" => text(|h| &h.nick_name),
        "USER_FIELD_NAME_DISPLAY_NAME" => display_of(u),
        "USER_FIELD_NAME_EMAIL" => text(|h| &h.email),
        "USER_FIELD_NAME_STATE" => state_name(u.state).to_owned(),
        "USER_FIELD_NAME_TYPE" => if h.is_some() { "1" } else { "2" }.to_owned(),
        "USER_FIELD_NAME_CREATION_DATE" => format!("{:020}", u.created),
        // Unspecified: ZITADEL orders by id (numeric strings, so padded).
        _ => format!("{:>40}", u.id),
    }
}

fn display_of(u: &User) -> String {
    match &u.kind {
        UserKind::Human(h) => h.display_name.clone(),
        UserKind::Machine(m) => m.name.clone(),
    }
}

fn matches(model: &Model, u: &User, q: &UserQuery) -> bool {
    let h = u.human();
    let field = |f: fn(&crate::model::Human) -> &String| h.map(f).cloned().unwrap_or_default();
    let text = |t: &Option<TextQuery>, value: &dyn Fn() -> String| {
        t.as_ref().is_none_or(|t| t.matches(&value()))
    };
    text(&q.user_name_query, &|| u.username.clone())
        && text(&q.first_name_query, &|| field(|h| &h.given_name))
        && text(&q.last_name_query, &|| field(|h| &h.family_name))
        && text(&q.nick_name_query, &|| field(|h| &h.nick_name))
        && text(&q.display_name_query, &|| display_of(u))
        && text(&q.email_query, &|| field(|h| &h.email))
        && text(&q.login_name_query, &|| model.login_name(u))
        && text(&q.phone_query, &|| field(|h| &h.phone))
        && q.state_query
            .as_ref()
            .is_none_or(|s| s.state.as_ref().is_some_and(|w| state_matches(u, w)))
        && q.in_user_ids_query
            .as_ref()
            .is_none_or(|i| i.user_ids.contains(&u.id))
        && q.in_user_emails_query.as_ref().is_none_or(|i| {
            h.is_some_and(|h| {
                i.user_emails
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&h.email))
            })
        })
        && q.organization_id_query
            .as_ref()
            .is_none_or(|o| o.organization_id.as_deref() == Some(u.org_id.as_str()))
        && q.type_query
            .as_ref()
            .is_none_or(|t| match t.user_type.as_deref() {
                Some("TYPE_HUMAN") => h.is_some(),
                Some("TYPE_MACHINE") => h.is_none(),
                _ => true,
            })
        && q.or_query
            .as_ref()
            .is_none_or(|l| l.queries.iter().any(|q| matches(model, u, q)))
        && q.and_query
            .as_ref()
            .is_none_or(|l| l.queries.iter().all(|q| matches(model, u, q)))
        && q.not_query
            .as_ref()
            .is_none_or(|n| !matches(model, u, &n.query))
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
        let (offset, limit) = crate::api::list_page(query.offset.as_ref(), query.limit)?;
        let column = match &req.sorting_column {
            Some(Value::String(c)) => c.clone(),
            Some(Value::Number(n)) => {
                const NAMES: [&str; 10] = [
                    "USER_FIELD_NAME_UNSPECIFIED",
                    "USER_FIELD_NAME_USER_NAME",
                    "USER_FIELD_NAME_FIRST_NAME",
                    "USER_FIELD_NAME_LAST_NAME",
                    "USER_FIELD_NAME_NICK_NAME",
                    "USER_FIELD_NAME_DISPLAY_NAME",
                    "USER_FIELD_NAME_EMAIL",
                    "USER_FIELD_NAME_STATE",
                    "USER_FIELD_NAME_TYPE",
                    "USER_FIELD_NAME_CREATION_DATE",
                ];
                n.as_u64()
                    .and_then(|n| NAMES.get(usize::try_from(n).ok()?))
                    .map_or_else(String::new, |s| (*s).to_owned())
            }
            _ => String::new(),
        };
        let mut found: Vec<(String, &User)> = model
            .users
            .iter()
            .filter(|u| {
                u.id == caller.user_id
                    || has_permission(&model, &caller, "user.read", Some(&u.org_id))
            })
            .filter(|u| req.queries.iter().all(|q| matches(&model, u, q)))
            .map(|u| (sort_key(u, &column), u))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        if !query.asc {
            found.reverse();
        }
        let total = found.len();
        let users: Vec<Value> = found
            .into_iter()
            .skip(offset)
            .take(usize::try_from(limit).unwrap_or(100))
            .map(|(_, u)| v2_user(&model, u))
            .collect();
        let mut v = json!({"details": {"timestamp": rfc3339(crate::util::now())}});
        if total > 0 {
            v["details"]["totalResult"] = json!(total.to_string());
        }
        if !users.is_empty() {
            v["result"] = json!(users);
        }
        if !column.is_empty() && column != "USER_FIELD_NAME_UNSPECIFIED" {
            v["sortingColumn"] = json!(column);
        }
        Ok(v)
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
