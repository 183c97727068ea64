//! Management v1 label (branding) policy of an org. As in ZITADEL, POST and
//! PUT change a preview, `_activate` makes the preview the active policy,
//! GET returns the active (effective) policy and `_preview` the preview;
//! DELETE resets the org to the instance default. The active policy's
//! primary colour brands the hosted login and `GET /v2/settings/branding`.
//! Error ids are ZITADEL's (`internal/command/org_policy_label.go`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::api::parse_body;
use crate::api::policies::{org_context, respond, v1_object_details};
use crate::api::settings::v1_details;
use crate::error::{ApiError, GrpcCode};
use crate::model::{CustomLabelPolicy, LabelPolicy, State as Model};
use crate::server::AppState;

const PATH: &str = "/management/v1/policies/label";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            PATH,
            get(|s, h| read(s, h, false))
                .post(|s, h, b| write(s, h, b, false))
                .put(|s, h, b| write(s, h, b, true))
                .delete(reset),
        )
        .route(
            "/management/v1/policies/label/_preview",
            get(|s, h| read(s, h, true)),
        )
        .route("/management/v1/policies/label/_activate", post(activate))
}

/// Whether the org has its own label policy (a stored one, or a seed colour).
fn has_custom(model: &Model, org: &str) -> bool {
    model
        .org_policies
        .get(org)
        .is_some_and(|p| p.label.is_some())
        || !model.branding_of(org).1
}

/// ZITADEL's NOT_FOUND of the label policy (its id differs per command).
fn not_found(id: &'static str) -> ApiError {
    ApiError::new(GrpcCode::NotFound, id, "Label policy not found")
}

/// `zitadel.policy.v1.LabelPolicy`.
pub(crate) fn v1_label_policy(model: &Model, p: &LabelPolicy, is_default: bool) -> Value {
    let mut v = json!({"details": v1_details(model)});
    for (key, value) in [
        ("primaryColor", &p.primary_color),
        ("warnColor", &p.warn_color),
        ("backgroundColor", &p.background_color),
        ("fontColor", &p.font_color),
        ("primaryColorDark", &p.primary_color_dark),
        ("backgroundColorDark", &p.background_color_dark),
        ("warnColorDark", &p.warn_color_dark),
        ("fontColorDark", &p.font_color_dark),
        ("themeMode", &p.theme_mode),
    ] {
        if !value.is_empty() {
            v[key] = json!(value);
        }
    }
    for (key, on) in [
        ("isDefault", is_default),
        ("hideLoginNameSuffix", p.hide_login_name_suffix),
        ("disableWatermark", p.disable_watermark),
    ] {
        if on {
            v[key] = json!(true);
        }
    }
    v
}

async fn read(State(shared): State<AppState>, headers: HeaderMap, preview: bool) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.read")?;
        let stored = model.org_policies.get(&org).and_then(|p| p.label.as_ref());
        let (policy, is_default) = match (preview, stored) {
            (true, Some(l)) => (l.preview.clone(), false),
            _ => model.branding_of(&org),
        };
        let mut v = json!({"policy": v1_label_policy(&model, &policy, is_default)});
        if is_default {
            v["isDefault"] = json!(true);
        }
        Ok(v)
    })())
}

/// ZITADEL's colour check: empty, `#rgb` or `#rrggbb`.
fn valid_color(c: &str) -> bool {
    c.is_empty()
        || c.strip_prefix('#').is_some_and(|h| {
            (h.len() == 3 || h.len() == 6) && h.chars().all(|c| c.is_ascii_hexdigit())
        })
}

/// Reads an `AddCustomLabelPolicyRequest` / `UpdateCustomLabelPolicyRequest`.
fn parse_label(body: &[u8]) -> Result<LabelPolicy, ApiError> {
    let v: Value = parse_body(body, "LabelPolicy")?;
    let text = |key: &str| -> Result<String, ApiError> {
        let s = v.get(key).and_then(Value::as_str).unwrap_or_default();
        if s.chars().count() > 50 {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                format!(
                    "invalid AddCustomLabelPolicyRequest.{key}: value length must be at most 50 runes"
                ),
            ));
        }
        Ok(s.to_owned())
    };
    let flag = |key: &str| v.get(key).and_then(Value::as_bool).unwrap_or(false);
    let theme_mode = match v.get("themeMode") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(1) => "THEME_MODE_AUTO".to_owned(),
            Some(2) => "THEME_MODE_DARK".to_owned(),
            Some(3) => "THEME_MODE_LIGHT".to_owned(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    let theme_mode = if theme_mode == "THEME_MODE_UNSPECIFIED" {
        String::new()
    } else {
        theme_mode
    };
    let p = LabelPolicy {
        primary_color: text("primaryColor")?,
        background_color: text("backgroundColor")?,
        warn_color: text("warnColor")?,
        font_color: text("fontColor")?,
        primary_color_dark: text("primaryColorDark")?,
        background_color_dark: text("backgroundColorDark")?,
        warn_color_dark: text("warnColorDark")?,
        font_color_dark: text("fontColorDark")?,
        hide_login_name_suffix: flag("hideLoginNameSuffix"),
        disable_watermark: flag("disableWatermark"),
        theme_mode,
    };
    // ZITADEL's ids (domain.LabelPolicy.IsValid).
    for (value, id, what) in [
        (&p.primary_color, "POLICY-391dG", "PrimaryColor"),
        (&p.background_color, "POLICY-502F1", "BackgroundColor"),
        (&p.warn_color, "POLICY-nvw33", "WarnColor"),
        (&p.font_color, "POLICY-93mSf", "FontColor"),
        (&p.primary_color_dark, "POLICY-391dG", "PrimaryColorDark"),
        (
            &p.background_color_dark,
            "POLICY-llsp2",
            "BackgroundColorDark",
        ),
        (&p.warn_color_dark, "POLICY-2b6sf", "WarnColorDark"),
        (&p.font_color_dark, "POLICY-3M0fs", "FontColorDark"),
    ] {
        if !valid_color(value) {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                id,
                format!("{what} is not a valid hex colour"),
            ));
        }
    }
    Ok(p)
}

async fn write(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    update: bool,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.write")?;
        let policy = parse_label(&body)?;
        match (update, has_custom(&model, &org)) {
            (false, true) => {
                return Err(ApiError::new(
                    GrpcCode::AlreadyExists,
                    "Org-2B0ps",
                    "Label policy already exists",
                ));
            }
            (true, false) => return Err(not_found("Org-0K9dq")),
            _ => {}
        }
        // A seed colour without a stored policy is the active one so far.
        let seeded = (!model.branding_of(&org).1).then(|| model.branding_of(&org).0);
        let entry = model.org_policies.entry(org.clone()).or_default();
        match &mut entry.label {
            Some(l) => l.preview = policy,
            None => {
                entry.label = Some(CustomLabelPolicy {
                    preview: policy,
                    active: seeded,
                });
            }
        }
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn activate(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.write")?;
        let label = model
            .org_policies
            .get_mut(&org)
            .and_then(|p| p.label.as_mut())
            .ok_or_else(|| not_found("ORG-34mSE"))?;
        label.active = Some(label.preview.clone());
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn reset(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.delete")?;
        if !has_custom(&model, &org) {
            return Err(not_found("Org-3M9df"));
        }
        if let Some(p) = model.org_policies.get_mut(&org) {
            p.label = None;
        }
        // The seed colour was the org's branding; it goes too.
        if let Some(o) = model.orgs.iter_mut().find(|o| o.id == org) {
            o.primary_color.clear();
        }
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}
