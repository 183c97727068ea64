//! Management v1: IdP templates of known vendors — Google, GitHub, Azure AD
//! and Apple. They are kept, listed with their public config (by
//! [`super::idp_mgmt`]) and can be activated in a login policy; the
//! emulator is offline, so an intent with them cannot start.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::idp_mgmt::{
    OptionsIn, apply_options, idp_not_found, put_list, put_str, put_true, required,
};
use crate::api::parse_body;
use crate::api::policies::{org_context, respond, v1_object_details};
use crate::error::{ApiError, GrpcCode};
use crate::model::{Idp, IdpConfig};
use crate::server::AppState;
use crate::util::{now, sha256_hex};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/management/v1/idps/google", post(add_google))
        .route("/management/v1/idps/github", post(add_github))
        .route("/management/v1/idps/azure", post(add_azure))
        .route("/management/v1/idps/apple", post(add_apple))
}

/// A known vendor by its `ProviderConfig` field: the request message, the
/// v1 provider type and the v2 settings type.
pub(crate) fn vendor(field: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match field {
        "google" => (
            "AddGoogleProviderRequest",
            "PROVIDER_TYPE_GOOGLE",
            "IDENTITY_PROVIDER_TYPE_GOOGLE",
        ),
        "github" => (
            "AddGitHubProviderRequest",
            "PROVIDER_TYPE_GITHUB",
            "IDENTITY_PROVIDER_TYPE_GITHUB",
        ),
        "azureAd" => (
            "AddAzureADProviderRequest",
            "PROVIDER_TYPE_AZURE_AD",
            "IDENTITY_PROVIDER_TYPE_AZURE_AD",
        ),
        "apple" => (
            "AddAppleProviderRequest",
            "PROVIDER_TYPE_APPLE",
            "IDENTITY_PROVIDER_TYPE_APPLE",
        ),
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VendorRequest {
    name: String,
    client_id: String,
    client_secret: String,
    scopes: Vec<String>,
    provider_options: OptionsIn,
    tenant: Value,
    email_verified: bool,
    team_id: String,
    key_id: String,
    private_key: String,
}

/// Validates an add request of a vendor and turns it into its config.
fn vendor_config(field: &str, body: &[u8]) -> Result<(String, OptionsIn, IdpConfig), ApiError> {
    let (msg, _, _) = vendor(field).ok_or_else(idp_not_found)?;
    let r: VendorRequest = parse_body(body, msg)?;
    required(msg, "ClientId", &r.client_id)?;
    let mut c = json!({});
    put_str(&mut c, "clientId", &r.client_id);
    let secret = if field == "apple" {
        required(msg, "TeamId", &r.team_id)?;
        required(msg, "KeyId", &r.key_id)?;
        if r.private_key.is_empty() {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                format!(
                    "invalid {msg}.PrivateKey: value length must be between 1 and 5120 bytes, inclusive"
                ),
            ));
        }
        put_str(&mut c, "teamId", &r.team_id);
        put_str(&mut c, "keyId", &r.key_id);
        r.private_key
    } else {
        required(msg, "ClientSecret", &r.client_secret)?;
        r.client_secret
    };
    if field == "azureAd" {
        if !r.tenant.is_null() {
            c["tenant"] = r.tenant.clone();
        }
        put_true(&mut c, "emailVerified", r.email_verified);
    }
    put_list(&mut c, "scopes", &r.scopes);
    let config = IdpConfig::Vendor {
        field: field.to_owned(),
        config: c,
        secret_hash: sha256_hex(&secret),
    };
    Ok((r.name, r.provider_options, config))
}

async fn add_vendor(shared: AppState, headers: HeaderMap, body: Bytes, field: &str) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "org.idp.write")?;
        let (name, options, config) = vendor_config(field, &body)?;
        let t = now();
        let mut idp = Idp {
            id: model.ids.next(),
            name,
            linking_allowed: false,
            creation_allowed: false,
            auto_creation: false,
            auto_update: false,
            auto_linking: String::new(),
            org_id: Some(org.clone()),
            config,
            created: t,
            changed: t,
        };
        apply_options(&mut idp, options)?;
        let id = idp.id.clone();
        model.idps.push(idp);
        Ok(json!({"details": v1_object_details(&mut model, &org), "id": id}))
    })())
}

async fn add_google(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    add_vendor(shared, headers, body, "google").await
}

async fn add_github(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    add_vendor(shared, headers, body, "github").await
}

async fn add_azure(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    add_vendor(shared, headers, body, "azureAd").await
}

async fn add_apple(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    add_vendor(shared, headers, body, "apple").await
}
