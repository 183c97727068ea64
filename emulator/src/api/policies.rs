//! Management v1 policies of an org: login, password complexity, lockout.
//! POST creates the org's custom policy (409 if it exists), PUT updates it
//! (404 without one), DELETE resets it to the instance default, GET returns
//! the effective policy and whether it is the default.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::api::login_factors::Factors;
use crate::api::settings::{v1_lockout_policy, v1_login_policy, v1_password_policy};
use crate::api::{authenticate, parse_body, require};
use crate::error::{ApiError, GrpcCode};
use crate::model::{LockoutPolicy, LoginPolicy, OrgPolicies, PasswordComplexity, State as Model};
use crate::server::AppState;
use crate::util::{now, rfc3339};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/management/v1/policies/login",
            get(|s, h| read(s, h, Kind::Login))
                .post(|s, h, b| write(s, h, b, Kind::Login, Op::Add))
                .put(|s, h, b| write(s, h, b, Kind::Login, Op::Update))
                .delete(|s, h| reset(s, h, Kind::Login)),
        )
        .route(
            "/management/v1/policies/password/complexity",
            get(|s, h| read(s, h, Kind::Password))
                .post(|s, h, b| write(s, h, b, Kind::Password, Op::Add))
                .put(|s, h, b| write(s, h, b, Kind::Password, Op::Update))
                .delete(|s, h| reset(s, h, Kind::Password)),
        )
        .route(
            "/management/v1/policies/lockout",
            get(|s, h| read(s, h, Kind::Lockout))
                .post(|s, h, b| write(s, h, b, Kind::Lockout, Op::Add))
                .put(|s, h, b| write(s, h, b, Kind::Lockout, Op::Update))
                .delete(|s, h| reset(s, h, Kind::Lockout)),
        )
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Login,
    Password,
    Lockout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Update,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Login => "LoginPolicy",
            Self::Password => "PasswordComplexityPolicy",
            Self::Lockout => "LockoutPolicy",
        }
    }

    /// ZITADEL's error when the org already has this custom policy.
    fn already_exists(self) -> ApiError {
        match self {
            Self::Login => ApiError::new(
                GrpcCode::AlreadyExists,
                "Org-Dgfb2",
                "Login Policy already exists",
            ),
            _ => ApiError::new(
                GrpcCode::AlreadyExists,
                "EMU-POL02",
                format!("{} already exists", self.name()),
            ),
        }
    }

    /// ZITADEL's error when the org has no custom policy to change (`op`
    /// `Update`) or to remove (`None`).
    fn not_found(self, update: bool) -> ApiError {
        let (id, message) = match (self, update) {
            (Self::Login, true) => ("Org-M0sif", "Login Policy not found"),
            (Self::Login, false) => ("Org-GHB37", "Login Policy not found"),
            (Self::Password, true) => ("ORG-Dgs3g", "Password Complexity Policy not found"),
            (Self::Lockout, true) => ("ORG-ADfs1", "Errors.Org.LockoutPolicy.NotFound"),
            _ => ("EMU-POL03", ""),
        };
        if message.is_empty() {
            ApiError::new(GrpcCode::NotFound, id, format!("{} not found", self.name()))
        } else {
            ApiError::new(GrpcCode::NotFound, id, message)
        }
    }

    fn is_custom(self, p: &OrgPolicies) -> bool {
        match self {
            Self::Login => p.login.is_some(),
            Self::Password => p.password.is_some(),
            Self::Lockout => p.lockout.is_some(),
        }
    }
}

/// The org of a management call: `x-zitadel-orgid`, else the caller's org.
pub(super) fn org_context(
    model: &Model,
    headers: &HeaderMap,
    permission: &str,
) -> Result<String, ApiError> {
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

pub(super) fn v1_object_details(model: &mut Model, org: &str) -> Value {
    let seq = model.next_sequence();
    json!({"sequence": seq.to_string(), "changeDate": rfc3339(now()), "resourceOwner": org})
}

pub(super) fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn read(State(shared): State<AppState>, headers: HeaderMap, kind: Kind) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.read")?;
        let (policy, is_default) = match kind {
            Kind::Login => {
                let (p, d) = model.login_policy_of(&org);
                (v1_login_policy(&model, &p, d), d)
            }
            Kind::Password => {
                let (p, d) = model.password_policy(&org);
                (v1_password_policy(&model, &p, d), d)
            }
            Kind::Lockout => {
                let (p, d) = model.lockout_policy_of(&org);
                (v1_lockout_policy(&model, &p, d), d)
            }
        };
        let mut v = json!({"policy": policy});
        if is_default {
            v["isDefault"] = json!(true);
        }
        Ok(v)
    })())
}

fn bool_field(v: &Value, key: &str, snake: &str) -> bool {
    v.get(key)
        .or_else(|| v.get(snake))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn u64_field(v: &Value, key: &str, snake: &str) -> Result<u64, ApiError> {
    match v.get(key).or_else(|| v.get(snake)) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| ApiError::new(GrpcCode::InvalidArgument, "", format!("invalid {key}"))),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| ApiError::new(GrpcCode::InvalidArgument, "", format!("invalid {key}"))),
        Some(_) => Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            format!("invalid {key}"),
        )),
    }
}

async fn write(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    kind: Kind,
    op: Op,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.write")?;
        let v: Value = parse_body(&body, kind.name())?;
        let exists = model
            .org_policies
            .get(&org)
            .is_some_and(|p| kind.is_custom(p));
        match (op, exists) {
            (Op::Add, true) => return Err(kind.already_exists()),
            (Op::Update, false) => return Err(kind.not_found(true)),
            _ => {}
        }
        // PUT keeps the activated IdPs; POST takes `idps[].idpId`, which must
        // be IdPs of the org or the instance (ZITADEL: Org-FEd32).
        let idps: Vec<String> = match op {
            Op::Update => model
                .org_policies
                .get(&org)
                .and_then(|p| p.login.as_ref())
                .map(|p| p.idps.clone())
                .unwrap_or_default(),
            Op::Add => v
                .get("idps")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|i| {
                    i.get("idpId")
                        .or_else(|| i.get("idp_id"))
                        .and_then(Value::as_str)
                        .filter(|id| crate::api::idp_mgmt::usable_by(&model, id, &org))
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            ApiError::new(
                                GrpcCode::FailedPrecondition,
                                "Org-FEd32",
                                "Identity Provider Configuration doesn't exist",
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        // POST takes `secondFactors` / `multiFactors` (absent: the instance
        // default's); PUT keeps them (its request has no such fields).
        let (second_factors, multi_factors) = match op {
            Op::Update => model
                .org_policies
                .get(&org)
                .and_then(|p| p.login.as_ref())
                .map(|p| (p.second_factors.clone(), p.multi_factors.clone()))
                .unwrap_or_default(),
            Op::Add => (
                Factors::Second
                    .parse_list(&v)?
                    .unwrap_or_else(|| model.login_policy.second_factors.clone()),
                Factors::Multi
                    .parse_list(&v)?
                    .unwrap_or_else(|| model.login_policy.multi_factors.clone()),
            ),
        };
        let entry = model.org_policies.entry(org.clone()).or_default();
        match kind {
            Kind::Login => {
                entry.login = Some(LoginPolicy {
                    idps,
                    second_factors,
                    multi_factors,
                    allow_username_password: bool_field(
                        &v,
                        "allowUsernamePassword",
                        "allow_username_password",
                    ),
                    allow_register: bool_field(&v, "allowRegister", "allow_register"),
                    allow_external_idp: bool_field(&v, "allowExternalIdp", "allow_external_idp"),
                    force_mfa: bool_field(&v, "forceMfa", "force_mfa"),
                    force_mfa_local_only: bool_field(
                        &v,
                        "forceMfaLocalOnly",
                        "force_mfa_local_only",
                    ),
                    passwordless_allowed: v
                        .get("passwordlessType")
                        .or_else(|| v.get("passwordless_type"))
                        .is_some_and(|t| t == "PASSWORDLESS_TYPE_ALLOWED" || t == 1),
                    hide_password_reset: bool_field(&v, "hidePasswordReset", "hide_password_reset"),
                    ignore_unknown_usernames: bool_field(
                        &v,
                        "ignoreUnknownUsernames",
                        "ignore_unknown_usernames",
                    ),
                    allow_domain_discovery: bool_field(
                        &v,
                        "allowDomainDiscovery",
                        "allow_domain_discovery",
                    ),
                    disable_login_with_email: bool_field(
                        &v,
                        "disableLoginWithEmail",
                        "disable_login_with_email",
                    ),
                    disable_login_with_phone: bool_field(
                        &v,
                        "disableLoginWithPhone",
                        "disable_login_with_phone",
                    ),
                    default_redirect_uri: v
                        .get("defaultRedirectUri")
                        .or_else(|| v.get("default_redirect_uri"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    mfa_init_skip_lifetime: duration_field(
                        &v,
                        "mfaInitSkipLifetime",
                        "mfa_init_skip_lifetime",
                    )?,
                });
            }
            Kind::Password => {
                let min = u64_field(&v, "minLength", "min_length")?;
                entry.password = Some(PasswordComplexity {
                    min_length: usize::try_from(min).unwrap_or(usize::MAX).clamp(1, 72),
                    has_uppercase: bool_field(&v, "hasUppercase", "has_uppercase"),
                    has_lowercase: bool_field(&v, "hasLowercase", "has_lowercase"),
                    has_number: bool_field(&v, "hasNumber", "has_number"),
                    has_symbol: bool_field(&v, "hasSymbol", "has_symbol"),
                });
            }
            Kind::Lockout => {
                entry.lockout = Some(LockoutPolicy {
                    max_password_attempts: u64_field(
                        &v,
                        "maxPasswordAttempts",
                        "max_password_attempts",
                    )?,
                    max_otp_attempts: u64_field(&v, "maxOtpAttempts", "max_otp_attempts")?,
                });
            }
        }
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

async fn reset(State(shared): State<AppState>, headers: HeaderMap, kind: Kind) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.delete")?;
        let entry = model.org_policies.entry(org.clone()).or_default();
        let removed = match kind {
            Kind::Login => entry.login.take().is_some(),
            Kind::Password => entry.password.take().is_some(),
            Kind::Lockout => entry.lockout.take().is_some(),
        };
        if !removed {
            return Err(kind.not_found(false));
        }
        Ok(json!({"details": v1_object_details(&mut model, &org)}))
    })())
}

/// A `google.protobuf.Duration` field in JSON (`"3600s"`, fractions cut off)
/// as whole seconds; absent = 0.
fn duration_field(v: &Value, camel: &str, snake: &str) -> Result<i64, ApiError> {
    let Some(raw) = v.get(camel).or_else(|| v.get(snake)) else {
        return Ok(0);
    };
    raw.as_str()
        .and_then(|s| s.strip_suffix('s'))
        .and_then(|s| s.split('.').next())
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ApiError::new(
                GrpcCode::InvalidArgument,
                "EMU-POL04",
                format!("invalid {camel}: a duration like \"3600s\" is expected"),
            )
        })
}
