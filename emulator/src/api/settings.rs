//! Settings v2 reads (`policy.read`) and the end-user policy reads of auth v1
//! (`authenticated`). The emulator has one policy set: ZITADEL's instance
//! defaults; orgs inherit it (`RESOURCE_OWNER_TYPE_INSTANCE`).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::api::{authenticate, details, require};
use crate::error::{ApiError, GrpcCode};
use crate::model::State as Model;
use crate::server::AppState;
use crate::util::{form_get, parse_form, rfc3339};

/// ZITADEL's default legal links.
pub(crate) const TOS_LINK: &str = "https://zitadel.com/docs/legal/terms-of-service";
/// ZITADEL's default privacy policy link.
pub(crate) const PRIVACY_LINK: &str = "https://zitadel.com/docs/legal/policies/privacy-policy";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/settings/login", get(login_settings))
        .route("/v2/settings/password/complexity", get(password_settings))
        .route("/v2/settings/legal_support", get(legal_settings))
        .route("/v2/settings/lockout", get(lockout_settings))
        .route(
            "/auth/v1/policies/passwords/complexity",
            get(my_password_policy),
        )
        .route("/auth/v1/policies/login", get(my_login_policy))
}

/// Checks the caller and the `ctx` query (`ctx.orgId` or `ctx.instance`).
fn settings_call(
    shared: &AppState,
    headers: &HeaderMap,
    query: Option<String>,
    body: impl FnOnce(&Model) -> Value,
) -> Response {
    let model = shared.lock();
    let q = parse_form(query.unwrap_or_default().as_bytes());
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, headers)?;
        let org = form_get(&q, "ctx.orgId").or_else(|| form_get(&q, "ctx.org_id"));
        if let Some(org) = org
            && model.org(org).is_none()
        {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "EMU-SET01",
                "Organisation not found",
            ));
        }
        require(&model, &caller, "policy.read", org)?;
        let mut settings = body(&model);
        settings["resourceOwnerType"] = json!("RESOURCE_OWNER_TYPE_INSTANCE");
        Ok(json!({
            "details": details(1, 0, &model.instance_id),
            "settings": settings,
        }))
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn login_json() -> Value {
    json!({
        "allowUsernamePassword": true,
        "allowRegister": true,
        "allowExternalIdp": true,
        "passkeysType": "PASSKEYS_TYPE_ALLOWED",
        "passwordCheckLifetime": "864000s",
        "externalLoginCheckLifetime": "864000s",
        "mfaInitSkipLifetime": "2592000s",
        "secondFactorCheckLifetime": "64800s",
        "multiFactorCheckLifetime": "43200s",
        "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"],
        "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
        "allowDomainDiscovery": true,
        "allowLocalAuthentication": true,
    })
}

async fn login_settings(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    settings_call(&shared, &headers, q, |_| login_json())
}

async fn password_settings(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    settings_call(&shared, &headers, q, |m| {
        let p = &m.password_complexity;
        let mut v = json!({"minLength": p.min_length.to_string()});
        for (on, key) in [
            (p.has_uppercase, "requiresUppercase"),
            (p.has_lowercase, "requiresLowercase"),
            (p.has_number, "requiresNumber"),
            (p.has_symbol, "requiresSymbol"),
        ] {
            if on {
                v[key] = json!(true);
            }
        }
        v
    })
}

async fn legal_settings(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    settings_call(
        &shared,
        &headers,
        q,
        |_| json!({"tosLink": TOS_LINK, "privacyPolicyLink": PRIVACY_LINK}),
    )
}

async fn lockout_settings(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    // maxPasswordAttempts and maxOtpAttempts are 0 (no lockout): zero values are omitted.
    settings_call(&shared, &headers, q, |_| json!({}))
}

fn v1_details(model: &Model) -> Value {
    json!({"sequence": "1", "creationDate": rfc3339(0), "changeDate": rfc3339(0), "resourceOwner": model.instance_id})
}

fn my_policy(
    shared: &AppState,
    headers: &HeaderMap,
    body: impl FnOnce(&Model) -> Value,
) -> Response {
    let model = shared.lock();
    match authenticate(&model, headers) {
        Ok(_) => {
            let mut policy = body(&model);
            policy["details"] = v1_details(&model);
            policy["isDefault"] = json!(true);
            axum::Json(json!({ "policy": policy })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn my_password_policy(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    my_policy(&shared, &headers, |m| {
        let p = &m.password_complexity;
        let mut v = json!({"minLength": p.min_length.to_string()});
        for (on, key) in [
            (p.has_uppercase, "hasUppercase"),
            (p.has_lowercase, "hasLowercase"),
            (p.has_number, "hasNumber"),
            (p.has_symbol, "hasSymbol"),
        ] {
            if on {
                v[key] = json!(true);
            }
        }
        v
    })
}

async fn my_login_policy(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    my_policy(&shared, &headers, |_| {
        json!({
            "allowUsernamePassword": true,
            "allowRegister": true,
            "allowExternalIdp": true,
            "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
            "passwordCheckLifetime": "864000s",
            "externalLoginCheckLifetime": "864000s",
            "mfaInitSkipLifetime": "2592000s",
            "secondFactorCheckLifetime": "64800s",
            "multiFactorCheckLifetime": "43200s",
            "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"],
            "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
            "allowDomainDiscovery": true,
        })
    })
}
