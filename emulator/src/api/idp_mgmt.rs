//! Management v1: an org's IdP templates (generic OIDC, generic OAuth,
//! Google, GitHub, Azure AD, Apple) and the IdPs activated in the org's
//! login policy.
//!
//! The emulator has no network access to real IdPs. An IdP whose issuer or
//! authorization endpoint is the emulator's own test IdP
//! (`{issuer}/_emulator/test-idp...`) works end to end through the test
//! IdP's page; for any other IdP an intent's `authUrl` points to the
//! configured authorization endpoint (OAuth), which the emulator never
//! calls, and a generic OIDC IdP cannot be started (no discovery).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::parse_body;
use crate::api::policies::{org_context, respond, v1_object_details};
use crate::error::{ApiError, GrpcCode};
use crate::model::{Idp, IdpConfig, State as Model};
use crate::server::AppState;
use crate::util::{encode_query, now, rfc3339, sha256_hex};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/management/v1/idps/generic_oidc", post(add_oidc))
        .route("/management/v1/idps/generic_oidc/{id}", put(update_oidc))
        .route("/management/v1/idps/oauth", post(add_oauth))
        .route("/management/v1/idps/oauth/{id}", put(update_oauth))
        .route(
            "/management/v1/idps/templates/_search",
            post(list_providers),
        )
        .route(
            "/management/v1/idps/templates/{id}",
            get(get_provider).delete(delete_provider),
        )
        .route("/management/v1/policies/login/idps", post(add_to_policy))
        .route(
            "/management/v1/policies/login/idps/_search",
            post(list_policy_idps),
        )
        .route(
            "/management/v1/policies/login/idps/{idp_id}",
            delete(remove_from_policy),
        )
}

/// Path prefix of the test IdP; IdPs configured with it are served by it.
const TEST_IDP_PATH: &str = "/_emulator/test-idp";

/// Whether `org` may use the IdP: an instance IdP or one of the org's own.
pub(crate) fn usable_by(model: &Model, idp_id: &str, org: &str) -> bool {
    model
        .idps
        .iter()
        .any(|i| i.id == idp_id && i.org_id.as_deref().is_none_or(|o| o == org))
}

/// Where the browser goes to authenticate an intent at the IdP.
///
/// # Errors
/// `FailedPrecondition` for a generic OIDC IdP that is not the test IdP (the
/// emulator cannot run discovery against it).
pub(crate) fn authorize_url(issuer: &str, idp: &Idp, intent_id: &str) -> Result<String, ApiError> {
    let test_idp = format!("{issuer}{TEST_IDP_PATH}");
    let test_page = || {
        format!(
            "{test_idp}/authorize?{}",
            encode_query(&[("state", intent_id)])
        )
    };
    match &idp.config {
        IdpConfig::Test => Ok(test_page()),
        IdpConfig::Oidc { issuer: i, .. } if i.trim_end_matches('/').starts_with(&test_idp) => {
            Ok(test_page())
        }
        IdpConfig::OAuth {
            authorization_endpoint,
            ..
        } if authorization_endpoint.starts_with(&test_idp) => Ok(test_page()),
        IdpConfig::OAuth {
            authorization_endpoint,
            client_id,
            scopes,
            ..
        } => {
            let sep = if authorization_endpoint.contains('?') {
                '&'
            } else {
                '?'
            };
            let redirect = format!("{issuer}/idps/callback");
            let scope = scopes.join(" ");
            Ok(format!(
                "{authorization_endpoint}{sep}{}",
                encode_query(&[
                    ("client_id", client_id),
                    ("redirect_uri", &redirect),
                    ("response_type", "code"),
                    ("scope", &scope),
                    ("state", intent_id),
                ])
            ))
        }
        IdpConfig::Oidc { .. } | IdpConfig::Vendor { .. } => Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "EMU-IDP07",
            "The emulator cannot reach this IdP (no network); use the test IdP",
        )),
    }
}

/// The v2 settings type of an IdP.
pub(crate) fn settings_type(idp: &Idp) -> &'static str {
    match &idp.config {
        IdpConfig::Oidc { .. } => "IDENTITY_PROVIDER_TYPE_OIDC",
        IdpConfig::Test | IdpConfig::OAuth { .. } => "IDENTITY_PROVIDER_TYPE_OAUTH",
        IdpConfig::Vendor { field, .. } => match super::idp_vendor::vendor(field.as_str()) {
            Some((_, _, settings)) => settings,
            None => "IDENTITY_PROVIDER_TYPE_UNSPECIFIED",
        },
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct OptionsIn {
    is_linking_allowed: bool,
    is_creation_allowed: bool,
    is_auto_creation: bool,
    is_auto_update: bool,
    auto_linking: Value,
}

const AUTO_LINKING: [&str; 3] = [
    "AUTO_LINKING_OPTION_UNSPECIFIED",
    "AUTO_LINKING_OPTION_USERNAME",
    "AUTO_LINKING_OPTION_EMAIL",
];

pub(super) fn apply_options(idp: &mut Idp, o: OptionsIn) -> Result<(), ApiError> {
    let linking = match &o.auto_linking {
        Value::Null => 0,
        Value::String(s) => AUTO_LINKING.iter().position(|n| n == s).unwrap_or(99),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(99),
        _ => 99,
    };
    if linking >= AUTO_LINKING.len() {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            "invalid Options.AutoLinking: value must be one of the defined enum values",
        ));
    }
    idp.linking_allowed = o.is_linking_allowed;
    idp.creation_allowed = o.is_creation_allowed;
    idp.auto_creation = o.is_auto_creation;
    idp.auto_update = o.is_auto_update;
    idp.auto_linking = if linking == 0 {
        String::new()
    } else {
        AUTO_LINKING[linking].to_owned()
    };
    Ok(())
}

/// protoc-gen-validate's message for a string outside its length bounds.
pub(super) fn required(message: &str, field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.chars().count() > 200 {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            format!(
                "invalid {message}.{field}: value length must be between 1 and 200 runes, inclusive"
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OidcRequest {
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: Vec<String>,
    provider_options: OptionsIn,
    is_id_token_mapping: bool,
    use_pkce: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OAuthRequest {
    name: String,
    client_id: String,
    client_secret: String,
    authorization_endpoint: String,
    token_endpoint: String,
    user_endpoint: String,
    scopes: Vec<String>,
    id_attribute: String,
    provider_options: OptionsIn,
    use_pkce: bool,
}

/// The input of an add or update, validated and turned into a config.
enum Input {
    Oidc(OidcRequest),
    OAuth(OAuthRequest),
}

impl Input {
    fn parse(body: &[u8], oidc: bool, update: bool) -> Result<Self, ApiError> {
        let verb = if update { "Update" } else { "Add" };
        if oidc {
            let msg = format!("{verb}GenericOIDCProviderRequest");
            let r: OidcRequest = parse_body(body, &msg)?;
            required(&msg, "Name", &r.name)?;
            required(&msg, "Issuer", &r.issuer)?;
            required(&msg, "ClientId", &r.client_id)?;
            if !update {
                required(&msg, "ClientSecret", &r.client_secret)?;
            }
            Ok(Self::Oidc(r))
        } else {
            let msg = format!("{verb}GenericOAuthProviderRequest");
            let r: OAuthRequest = parse_body(body, &msg)?;
            required(&msg, "Name", &r.name)?;
            required(&msg, "ClientId", &r.client_id)?;
            if !update {
                required(&msg, "ClientSecret", &r.client_secret)?;
            }
            required(&msg, "AuthorizationEndpoint", &r.authorization_endpoint)?;
            required(&msg, "TokenEndpoint", &r.token_endpoint)?;
            required(&msg, "UserEndpoint", &r.user_endpoint)?;
            required(&msg, "IdAttribute", &r.id_attribute)?;
            Ok(Self::OAuth(r))
        }
    }

    /// Writes the input into `idp`; an empty secret keeps the old one.
    fn apply(self, idp: &mut Idp) -> Result<(), ApiError> {
        let old_secret = match &idp.config {
            IdpConfig::Oidc {
                client_secret_hash, ..
            }
            | IdpConfig::OAuth {
                client_secret_hash, ..
            } => client_secret_hash.clone(),
            IdpConfig::Vendor { secret_hash, .. } => secret_hash.clone(),
            IdpConfig::Test => String::new(),
        };
        let secret = |s: &str| {
            if s.is_empty() {
                old_secret.clone()
            } else {
                sha256_hex(s)
            }
        };
        match self {
            Self::Oidc(r) => {
                apply_options(idp, r.provider_options)?;
                idp.name = r.name;
                idp.config = IdpConfig::Oidc {
                    client_secret_hash: secret(&r.client_secret),
                    issuer: r.issuer,
                    client_id: r.client_id,
                    scopes: r.scopes,
                    is_id_token_mapping: r.is_id_token_mapping,
                    use_pkce: r.use_pkce,
                };
            }
            Self::OAuth(r) => {
                apply_options(idp, r.provider_options)?;
                idp.name = r.name;
                idp.config = IdpConfig::OAuth {
                    client_secret_hash: secret(&r.client_secret),
                    client_id: r.client_id,
                    authorization_endpoint: r.authorization_endpoint,
                    token_endpoint: r.token_endpoint,
                    user_endpoint: r.user_endpoint,
                    scopes: r.scopes,
                    id_attribute: r.id_attribute,
                    use_pkce: r.use_pkce,
                };
            }
        }
        Ok(())
    }
}

/// An unknown IdP on a write (the emulator's own id).
pub(super) fn idp_not_found() -> ApiError {
    ApiError::new(
        GrpcCode::NotFound,
        "EMU-IDP08",
        "Identity Provider Configuration doesn't exist",
    )
}

async fn add(shared: AppState, headers: HeaderMap, body: Bytes, oidc: bool) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "org.idp.write")?;
        let input = Input::parse(&body, oidc, false)?;
        let t = now();
        let mut idp = Idp {
            id: model.ids.next(),
            name: String::new(),
            linking_allowed: false,
            creation_allowed: false,
            auto_creation: false,
            auto_update: false,
            auto_linking: String::new(),
            org_id: Some(org.clone()),
            config: IdpConfig::Test,
            created: t,
            changed: t,
        };
        input.apply(&mut idp)?;
        let id = idp.id.clone();
        model.idps.push(idp);
        Ok(json!({"details": v1_object_details(&mut model, &org), "id": id}))
    })())
}

async fn update(
    shared: AppState,
    headers: HeaderMap,
    id: String,
    body: Bytes,
    oidc: bool,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "org.idp.write")?;
        let input = Input::parse(&body, oidc, true)?;
        let idp = model
            .idps
            .iter_mut()
            .find(|i| i.id == id && i.org_id.as_deref() == Some(org.as_str()))
            .ok_or_else(idp_not_found)?;
        let same_kind = matches!(
            (&idp.config, oidc),
            (IdpConfig::Oidc { .. }, true) | (IdpConfig::OAuth { .. }, false)
        );
        if !same_kind {
            return Err(idp_not_found());
        }
        input.apply(idp)?;
        idp.changed = now();
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn add_oidc(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    add(shared, headers, body, true).await
}

async fn add_oauth(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    add(shared, headers, body, false).await
}

async fn update_oidc(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    update(shared, headers, id, body, true).await
}

async fn update_oauth(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    update(shared, headers, id, body, false).await
}

/// Inserts a string unless it is empty (protojson omits zero values).
pub(super) fn put_str(v: &mut Value, key: &str, s: &str) {
    if !s.is_empty() {
        v[key] = json!(s);
    }
}

pub(super) fn put_true(v: &mut Value, key: &str, on: bool) {
    if on {
        v[key] = json!(true);
    }
}

pub(super) fn put_list(v: &mut Value, key: &str, items: &[String]) {
    if !items.is_empty() {
        v[key] = json!(items);
    }
}

/// `zitadel.idp.v1.Provider`.
fn provider_json(model: &Model, issuer: &str, idp: &Idp) -> Value {
    let mut options = json!({});
    put_true(&mut options, "isLinkingAllowed", idp.linking_allowed);
    put_true(&mut options, "isCreationAllowed", idp.creation_allowed);
    put_true(&mut options, "isAutoCreation", idp.auto_creation);
    put_true(&mut options, "isAutoUpdate", idp.auto_update);
    put_str(&mut options, "autoLinking", &idp.auto_linking);
    let mut config = json!({"options": options});
    let kind = match &idp.config {
        IdpConfig::Test => {
            config["oauth"] = json!({
                "authorizationEndpoint": format!("{issuer}{TEST_IDP_PATH}/authorize"),
            });
            "PROVIDER_TYPE_OAUTH"
        }
        IdpConfig::Oidc {
            issuer,
            client_id,
            scopes,
            is_id_token_mapping,
            use_pkce,
            ..
        } => {
            let mut c = json!({});
            put_str(&mut c, "issuer", issuer);
            put_str(&mut c, "clientId", client_id);
            put_list(&mut c, "scopes", scopes);
            put_true(&mut c, "isIdTokenMapping", *is_id_token_mapping);
            put_true(&mut c, "usePkce", *use_pkce);
            config["oidc"] = c;
            "PROVIDER_TYPE_OIDC"
        }
        IdpConfig::OAuth {
            client_id,
            authorization_endpoint,
            token_endpoint,
            user_endpoint,
            scopes,
            id_attribute,
            use_pkce,
            ..
        } => {
            let mut c = json!({});
            put_str(&mut c, "clientId", client_id);
            put_str(&mut c, "authorizationEndpoint", authorization_endpoint);
            put_str(&mut c, "tokenEndpoint", token_endpoint);
            put_str(&mut c, "userEndpoint", user_endpoint);
            put_list(&mut c, "scopes", scopes);
            put_str(&mut c, "idAttribute", id_attribute);
            put_true(&mut c, "usePkce", *use_pkce);
            config["oauth"] = c;
            "PROVIDER_TYPE_OAUTH"
        }
        IdpConfig::Vendor {
            field, config: c, ..
        } => {
            config[field.as_str()] = c.clone();
            super::idp_vendor::vendor(field).map_or("PROVIDER_TYPE_UNSPECIFIED", |(_, t, _)| t)
        }
    };
    let owner = idp.org_id.as_deref().unwrap_or(&model.instance_id);
    let mut details = json!({"sequence": "1", "resourceOwner": owner});
    if idp.created > 0 {
        details["creationDate"] = json!(rfc3339(idp.created));
        details["changeDate"] = json!(rfc3339(idp.changed.max(idp.created)));
    }
    json!({
        "id": idp.id,
        "details": details,
        "state": "IDP_STATE_ACTIVE",
        "name": idp.name,
        "owner": if idp.org_id.is_some() { "IDP_OWNER_TYPE_ORG" } else { "IDP_OWNER_TYPE_SYSTEM" },
        "type": kind,
        "config": config,
    })
}

async fn get_provider(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "org.idp.read")?;
        // As in ZITADEL, GetProviderByID finds only the org's own IdPs
        // (ListProviders also lists the instance's).
        let idp = model
            .idps
            .iter()
            .find(|i| i.id == id && i.org_id.as_deref() == Some(org.as_str()))
            .ok_or_else(|| {
                ApiError::new(
                    GrpcCode::NotFound,
                    "QUERY-rhR2o",
                    "Identity Provider Configuration doesn't exist",
                )
            })?;
        Ok(json!({"idp": provider_json(&model, &shared.issuer, idp)}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IdQuery {
    id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct NameQuery {
    name: String,
    method: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OwnerQuery {
    owner_type: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ProviderQuery {
    idp_id_query: Option<IdQuery>,
    idp_name_query: Option<NameQuery>,
    owner_type_query: Option<OwnerQuery>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListProvidersRequest {
    queries: Vec<ProviderQuery>,
}

/// `TEXT_QUERY_METHOD_*` (name or number) applied to `value`.
pub(super) fn text_matches(method: &Value, value: &str, wanted: &str) -> bool {
    const NAMES: [&str; 8] = [
        "TEXT_QUERY_METHOD_EQUALS",
        "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE",
        "TEXT_QUERY_METHOD_STARTS_WITH",
        "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE",
        "TEXT_QUERY_METHOD_CONTAINS",
        "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE",
        "TEXT_QUERY_METHOD_ENDS_WITH",
        "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE",
    ];
    let m = match method {
        Value::String(s) => NAMES.iter().position(|n| n == s).unwrap_or(0),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
        _ => 0,
    };
    let (v, w) = if m % 2 == 1 {
        (value.to_lowercase(), wanted.to_lowercase())
    } else {
        (value.to_owned(), wanted.to_owned())
    };
    match m / 2 {
        1 => v.starts_with(&w),
        2 => v.contains(&w),
        3 => v.ends_with(&w),
        _ => v == w,
    }
}

fn owner_type(v: &Value) -> Option<u8> {
    match v {
        Value::String(s) if s == "IDP_OWNER_TYPE_SYSTEM" => Some(1),
        Value::String(s) if s == "IDP_OWNER_TYPE_ORG" => Some(2),
        Value::Number(n) if n.as_u64() == Some(1) => Some(1),
        Value::Number(n) if n.as_u64() == Some(2) => Some(2),
        _ => None,
    }
}

/// `zitadel.v1.ListDetails` for `total` results (zero omitted).
pub(super) fn list_details(total: usize) -> Value {
    let mut d = json!({"viewTimestamp": rfc3339(now())});
    if total > 0 {
        d["totalResult"] = json!(total.to_string());
    }
    d
}

async fn list_providers(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "org.idp.read")?;
        let req: ListProvidersRequest = parse_body(&body, "ListProvidersRequest")?;
        let result: Vec<Value> = model
            .idps
            .iter()
            .filter(|i| usable_by(&model, &i.id, &org))
            .filter(|i| {
                req.queries.iter().all(|q| {
                    q.idp_id_query.as_ref().is_none_or(|x| x.id == i.id)
                        && q.idp_name_query
                            .as_ref()
                            .is_none_or(|x| text_matches(&x.method, &i.name, &x.name))
                        && q.owner_type_query.as_ref().is_none_or(|x| {
                            owner_type(&x.owner_type)
                                == Some(if i.org_id.is_some() { 2 } else { 1 })
                        })
                })
            })
            .map(|i| provider_json(&model, &shared.issuer, i))
            .collect();
        let mut v = json!({"details": list_details(result.len())});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}

async fn delete_provider(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "org.idp.write")?;
        let before = model.idps.len();
        model
            .idps
            .retain(|i| !(i.id == id && i.org_id.as_deref() == Some(org.as_str())));
        if model.idps.len() == before {
            return Err(idp_not_found());
        }
        // As in ZITADEL: removing an IdP removes it from login policies and
        // removes the users' links to it.
        for p in model.org_policies.values_mut() {
            if let Some(login) = p.login.as_mut() {
                login.idps.retain(|i| *i != id);
            }
        }
        model.idp_links.retain(|l| l.idp_id != id);
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AddToPolicyRequest {
    #[serde(rename = "idpId")]
    idp_id: String,
    #[serde(rename = "ownerType")]
    owner_type: Value,
}

fn policy_not_found(id: &'static str) -> ApiError {
    ApiError::new(GrpcCode::NotFound, id, "Login Policy not found")
}

async fn add_to_policy(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.write")?;
        let req: AddToPolicyRequest = parse_body(&body, "AddIDPToLoginPolicyRequest")?;
        required("AddIDPToLoginPolicyRequest", "IdpId", &req.idp_id)?;
        let owner = owner_type(&req.owner_type).ok_or_else(|| {
            ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                "invalid AddIDPToLoginPolicyRequest.OwnerType: value must not be in list [0]",
            )
        })?;
        if model
            .org_policies
            .get(&org)
            .and_then(|p| p.login.as_ref())
            .is_none()
        {
            return Err(policy_not_found("Org-Ffgw2"));
        }
        let exists = model.idps.iter().any(|i| {
            i.id == req.idp_id
                && match owner {
                    1 => i.org_id.is_none(),
                    _ => i.org_id.as_deref() == Some(org.as_str()),
                }
        });
        if !exists {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "Org-3N9fs",
                "Identity Provider Configuration doesn't exist",
            ));
        }
        let login = model
            .org_policies
            .get_mut(&org)
            .and_then(|p| p.login.as_mut())
            .ok_or_else(|| policy_not_found("Org-Ffgw2"))?;
        if login.idps.contains(&req.idp_id) {
            return Err(ApiError::new(
                GrpcCode::AlreadyExists,
                "Org-2B0ps",
                // No translation in ZITADEL: the key is the message.
                "Errors.Org.LoginPolicy.IDP.AlreadyExists",
            ));
        }
        login.idps.push(req.idp_id);
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn remove_from_policy(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(idp_id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.write")?;
        let login = model
            .org_policies
            .get_mut(&org)
            .and_then(|p| p.login.as_mut())
            .ok_or_else(|| policy_not_found("Org-GVDfe"))?;
        let before = login.idps.len();
        login.idps.retain(|i| *i != idp_id);
        if login.idps.len() == before {
            return Err(ApiError::new(
                GrpcCode::NotFound,
                "Org-39fjs",
                "Errors.Org.LoginPolicy.IDP.NotExisting",
            ));
        }
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn list_policy_idps(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.read")?;
        let _: Value = parse_body(&body, "ListLoginPolicyIDPsRequest")?;
        let result: Vec<Value> = model
            .active_idps(&org)
            .into_iter()
            .map(|i| {
                let mut v = json!({"idpId": i.id, "idpName": i.name});
                if matches!(i.config, IdpConfig::Oidc { .. }) {
                    v["idpType"] = json!("IDP_TYPE_OIDC");
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
