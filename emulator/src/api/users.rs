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
