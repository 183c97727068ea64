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

/// Reads the effective settings of an org (or the instance) and whether
/// they are the instance default.
type Reader = fn(&Model, Option<&str>) -> (Value, bool);

pub(super) fn routes() -> Router<AppState> {
    let org_settings_routes: [(&str, Reader); 6] = [
        ("/v2/settings/login", login_body),
        ("/v2/settings/password/complexity", password_body),
        ("/v2/settings/legal_support", legal_body),
        ("/v2/settings/lockout", lockout_body),
        ("/v2/settings/branding", branding_body),
        ("/v2/settings/domain", domain_body),
    ];
    let mut router = Router::new();
    for (path, read) in org_settings_routes {
        router = router.route(path, get(move |s, h, q| org_settings(s, h, q, read)));
    }
    router
        .route("/v2/settings/security", get(security_settings))
        .route(
            "/auth/v1/policies/passwords/complexity",
            get(my_password_policy),
        )
        .route("/auth/v1/policies/login", get(my_login_policy))
}

/// ZITADEL's default legal links (orgs cannot change them here).
fn legal_body(_: &Model, _: Option<&str>) -> (Value, bool) {
    (
        json!({"tosLink": TOS_LINK, "privacyPolicyLink": PRIVACY_LINK}),
        true,
    )
}

/// ZITADEL's default domain policy (orgs cannot change it here).
fn domain_body(_: &Model, _: Option<&str>) -> (Value, bool) {
    (
        json!({"requireOrgDomainVerification": true, "smtpSenderAddressMatchesInstanceDomain": true}),
        true,
    )
}

/// Checks the caller and the `ctx` query (`ctx.orgId` or `ctx.instance`).
fn settings_call(
    shared: &AppState,
    headers: &HeaderMap,
    query: Option<String>,
    body: impl FnOnce(&Model, Option<&str>) -> (Value, bool),
) -> Response {
    settings_call_with(shared, headers, query, Some("policy.read"), body)
}

/// [`settings_call`] for instance-wide settings without
/// `resourceOwnerType` (`permission = None`: `iam.policy.read`).
fn settings_call_with(
    shared: &AppState,
    headers: &HeaderMap,
    query: Option<String>,
    permission: Option<&str>,
    body: impl FnOnce(&Model, Option<&str>) -> (Value, bool),
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
        require(
            &model,
            &caller,
            permission.unwrap_or("iam.policy.read"),
            org,
        )?;
        let (mut settings, is_default) = body(&model, org);
        if permission.is_some() {
            settings["resourceOwnerType"] = json!(if is_default {
                "RESOURCE_OWNER_TYPE_INSTANCE"
            } else {
                "RESOURCE_OWNER_TYPE_ORG"
            });
        }
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

/// Inserts `key: true` when `on`.
fn flag(v: &mut Value, key: &str, on: bool) {
    if on {
        v[key] = json!(true);
    }
}

/// The fields v1 `LoginPolicy` and v2 `LoginSettings` share.
fn login_common(p: &crate::model::LoginPolicy) -> Value {
    let mut v = json!({
        "passwordCheckLifetime": "864000s",
        "externalLoginCheckLifetime": "864000s",
        "mfaInitSkipLifetime": format!("{}s", p.mfa_init_skip_lifetime),
        "secondFactorCheckLifetime": "64800s",
        "multiFactorCheckLifetime": "43200s",
    });
    if !p.second_factors.is_empty() {
        v["secondFactors"] = json!(p.second_factors);
    }
    if !p.multi_factors.is_empty() {
        v["multiFactors"] = json!(p.multi_factors);
    }
    flag(&mut v, "allowUsernamePassword", p.allow_username_password);
    flag(&mut v, "allowRegister", p.allow_register);
    flag(&mut v, "allowExternalIdp", p.allow_external_idp);
    flag(&mut v, "forceMfa", p.force_mfa);
    flag(&mut v, "forceMfaLocalOnly", p.force_mfa_local_only);
    flag(&mut v, "hidePasswordReset", p.hide_password_reset);
    flag(&mut v, "ignoreUnknownUsernames", p.ignore_unknown_usernames);
    flag(&mut v, "allowDomainDiscovery", p.allow_domain_discovery);
    flag(&mut v, "disableLoginWithEmail", p.disable_login_with_email);
    flag(&mut v, "disableLoginWithPhone", p.disable_login_with_phone);
    if !p.default_redirect_uri.is_empty() {
        v["defaultRedirectUri"] = json!(p.default_redirect_uri);
    }
    v
}

fn login_json(p: &crate::model::LoginPolicy) -> Value {
    let mut v = login_common(p);
    flag(
        &mut v,
        "allowLocalAuthentication",
        p.allow_username_password,
    );
    if p.passwordless_allowed {
        v["passkeysType"] = json!("PASSKEYS_TYPE_ALLOWED");
    }
    v
}

/// The `login` settings of `org` (or the instance) and whether they are the default.
fn login_body(m: &Model, org: Option<&str>) -> (Value, bool) {
    let (p, d) = match org {
        Some(o) => m.login_policy_of(o),
        None => (m.login_policy.clone(), true),
    };
    (login_json(&p), d)
}

/// The `password` settings of `org` (or the instance) and whether they are the default.
fn password_body(m: &Model, org: Option<&str>) -> (Value, bool) {
    let (p, d) = match org {
        Some(o) => m.password_policy(o),
        None => (m.password_complexity.clone(), true),
    };
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
    (v, d)
}

/// Settings that orgs may override: `read` gives the effective ones.
async fn org_settings(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    read: Reader,
) -> Response {
    settings_call(&shared, &headers, q, read)
}

/// The instance's security settings (`iam.policy.read`): iframes not
/// allowed, no impersonation.
async fn security_settings(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    settings_call_with(&shared, &headers, q, None, |_, _| {
        (json!({"embeddedIframe": {}}), true)
    })
}

/// The `lockout` settings of `org` (or the instance) and whether they are the default.
fn lockout_body(m: &Model, org: Option<&str>) -> (Value, bool) {
    let (p, d) = match org {
        Some(o) => m.lockout_policy_of(o),
        None => (m.lockout_policy.clone(), true),
    };
    // Zero values (no lockout) are omitted; uint64 as strings.
    let mut v = json!({});
    if p.max_password_attempts > 0 {
        v["maxPasswordAttempts"] = json!(p.max_password_attempts.to_string());
    }
    if p.max_otp_attempts > 0 {
        v["maxOtpAttempts"] = json!(p.max_otp_attempts.to_string());
    }
    (v, d)
}

/// `zitadel.v1.ObjectDetails` of a policy.
pub(crate) fn v1_details(model: &Model) -> Value {
    json!({"sequence": "1", "creationDate": rfc3339(0), "changeDate": rfc3339(0), "resourceOwner": model.instance_id})
}

/// The `branding` settings of `org` (or the instance) and whether they are the default.
fn branding_body(m: &Model, org: Option<&str>) -> (Value, bool) {
    let (p, d) = match org {
        Some(o) => m.branding_of(o),
        None => (crate::model::LabelPolicy::instance_default(), true),
    };
    (branding_json(&p), d)
}

/// `zitadel.settings.v2.BrandingSettings` (without `resourceOwnerType`).
fn branding_json(p: &crate::model::LabelPolicy) -> Value {
    let theme = |pairs: [(&str, &String); 4]| {
        let mut t = json!({});
        for (key, value) in pairs {
            if !value.is_empty() {
                t[key] = json!(value);
            }
        }
        t
    };
    let mut v = json!({
        "lightTheme": theme([
            ("primaryColor", &p.primary_color),
            ("backgroundColor", &p.background_color),
            ("warnColor", &p.warn_color),
            ("fontColor", &p.font_color),
        ]),
        "darkTheme": theme([
            ("primaryColor", &p.primary_color_dark),
            ("backgroundColor", &p.background_color_dark),
            ("warnColor", &p.warn_color_dark),
            ("fontColor", &p.font_color_dark),
        ]),
    });
    flag(&mut v, "hideLoginNameSuffix", p.hide_login_name_suffix);
    flag(&mut v, "disableWatermark", p.disable_watermark);
    if !p.theme_mode.is_empty() {
        v["themeMode"] = json!(p.theme_mode);
    }
    v
}

/// `zitadel.policy.v1.PasswordComplexityPolicy`.
pub(crate) fn v1_password_policy(
    model: &Model,
    p: &crate::model::PasswordComplexity,
    is_default: bool,
) -> Value {
    let mut v = json!({"details": v1_details(model), "minLength": p.min_length.to_string()});
    flag(&mut v, "hasUppercase", p.has_uppercase);
    flag(&mut v, "hasLowercase", p.has_lowercase);
    flag(&mut v, "hasNumber", p.has_number);
    flag(&mut v, "hasSymbol", p.has_symbol);
    flag(&mut v, "isDefault", is_default);
    v
}

/// `zitadel.policy.v1.LoginPolicy`.
pub(crate) fn v1_login_policy(
    model: &Model,
    p: &crate::model::LoginPolicy,
    is_default: bool,
) -> Value {
    let mut v = login_common(p);
    v["details"] = v1_details(model);
    // PASSWORDLESS_TYPE_NOT_ALLOWED is the enum's zero value: omitted.
    if p.passwordless_allowed {
        v["passwordlessType"] = json!("PASSWORDLESS_TYPE_ALLOWED");
    }
    flag(&mut v, "isDefault", is_default);
    v
}

/// `zitadel.policy.v1.LockoutPolicy`.
pub(crate) fn v1_lockout_policy(
    model: &Model,
    p: &crate::model::LockoutPolicy,
    is_default: bool,
) -> Value {
    let mut v = json!({"details": v1_details(model)});
    if p.max_password_attempts > 0 {
        v["maxPasswordAttempts"] = json!(p.max_password_attempts.to_string());
    }
    if p.max_otp_attempts > 0 {
        v["maxOtpAttempts"] = json!(p.max_otp_attempts.to_string());
    }
    flag(&mut v, "isDefault", is_default);
    v
}

async fn my_password_policy(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let model = shared.lock();
    match authenticate(&model, &headers) {
        Ok(caller) => {
            let (p, d) = model.password_policy(&caller.org_id);
            axum::Json(json!({"policy": v1_password_policy(&model, &p, d)})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn my_login_policy(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let model = shared.lock();
    match authenticate(&model, &headers) {
        Ok(caller) => {
            let (p, d) = model.login_policy_of(&caller.org_id);
            axum::Json(json!({"policy": v1_login_policy(&model, &p, d)})).into_response()
        }
        Err(e) => e.into_response(),
    }
}
