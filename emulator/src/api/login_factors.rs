//! Management v1 second factors and multi factors of an org's login policy:
//! list (the effective policy's), add and remove (the org's custom login
//! policy only; 404 without one).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{delete, post};
use serde_json::{Value, json};

use crate::api::idp_mgmt::list_details;
use crate::api::parse_body;
use crate::api::policies::{org_context, respond, v1_object_details};
use crate::error::{ApiError, GrpcCode};
use crate::model::{LoginPolicy, MULTI_FACTOR_TYPES, SECOND_FACTOR_TYPES};
use crate::server::AppState;

pub(super) fn routes() -> Router<AppState> {
    let base = "/management/v1/policies/login";
    // ZITADEL lists the multi factors under `auth_factors`.
    [
        (Factors::Second, "second_factors", "second_factors"),
        (Factors::Multi, "auth_factors", "multi_factors"),
    ]
    .into_iter()
    .fold(Router::new(), |router, (factors, listed, one)| {
        router
            .route(
                &format!("{base}/{listed}/_search"),
                post(move |s, h, b| list(s, h, b, factors)),
            )
            .route(
                &format!("{base}/{one}"),
                post(move |s, h, b| add(s, h, b, factors)),
            )
            .route(
                &format!("{base}/{one}/{{type}}"),
                delete(move |s, h, p| remove(s, h, p, factors)),
            )
    })
}

/// Which factor list of the login policy a route works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Factors {
    /// `secondFactors` (`SecondFactorType`).
    Second,
    /// `multiFactors` (`MultiFactorType`).
    Multi,
}

impl Factors {
    fn names(self) -> &'static [&'static str] {
        match self {
            Self::Second => &SECOND_FACTOR_TYPES,
            Self::Multi => &MULTI_FACTOR_TYPES,
        }
    }

    /// The proto name part of the request messages (`SecondFactor`).
    fn message(self) -> &'static str {
        match self {
            Self::Second => "SecondFactor",
            Self::Multi => "MultiFactor",
        }
    }

    fn list(self, p: &mut LoginPolicy) -> &mut Vec<String> {
        match self {
            Self::Second => &mut p.second_factors,
            Self::Multi => &mut p.multi_factors,
        }
    }

    /// An enum value as JSON gives it: the name or the number.
    pub(crate) fn parse(self, v: &Value) -> Option<String> {
        let names = self.names();
        let name = match v {
            Value::String(s) => match s.parse::<usize>() {
                Ok(n) => names.get(n.checked_sub(1)?).copied(),
                Err(_) => names.iter().copied().find(|n| n == s),
            },
            Value::Number(n) => names
                .get(usize::try_from(n.as_u64()?).ok()?.checked_sub(1)?)
                .copied(),
            _ => None,
        }?;
        Some(name.to_owned())
    }

    /// The factors of an `AddCustomLoginPolicyRequest` (`secondFactors` or
    /// `multiFactors`, also in snake case), or `None` when the field is absent.
    pub(crate) fn parse_list(self, v: &Value) -> Result<Option<Vec<String>>, ApiError> {
        let (camel, snake) = match self {
            Self::Second => ("secondFactors", "second_factors"),
            Self::Multi => ("multiFactors", "multi_factors"),
        };
        let Some(items) = v
            .get(camel)
            .or_else(|| v.get(snake))
            .filter(|i| !i.is_null())
        else {
            return Ok(None);
        };
        let mut out: Vec<String> = Vec::new();
        for item in items.as_array().into_iter().flatten() {
            let name = self
                .parse(item)
                .ok_or_else(|| self.invalid("AddCustomLoginPolicyRequest"))?;
            if !out.contains(&name) {
                out.push(name);
            }
        }
        Ok(Some(out))
    }

    fn invalid(self, message: &str) -> ApiError {
        ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            format!(
                "invalid {message}.Type: value must be one of the defined enum values and not 0"
            ),
        )
    }

    /// ZITADEL's error when the factor is already in the policy.
    fn already_exists(self) -> ApiError {
        let id = match self {
            Self::Second => "Org-2B0ps",
            Self::Multi => "Org-3M9od",
        };
        // The key is the message (as for the IdP of a login policy).
        ApiError::new(
            GrpcCode::AlreadyExists,
            id,
            "Errors.Org.LoginPolicy.MFA.AlreadyExists",
        )
    }

    /// ZITADEL's error when the factor is not in the policy.
    fn not_existing(self) -> ApiError {
        let id = match self {
            Self::Second => "Org-3M9od",
            Self::Multi => "Org-3M9df",
        };
        ApiError::new(
            GrpcCode::NotFound,
            id,
            "Errors.Org.LoginPolicy.MFA.NotExisting",
        )
    }
}

/// The org has no custom login policy to change.
fn policy_not_found() -> ApiError {
    ApiError::new(GrpcCode::NotFound, "EMU-LPF01", "Login Policy not found")
}

async fn list(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    factors: Factors,
) -> Response {
    let model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.read")?;
        let _: Value = parse_body(
            &body,
            &format!("ListLoginPolicy{}sRequest", factors.message()),
        )?;
        let mut policy = model.login_policy_of(&org).0;
        let result = factors.list(&mut policy).clone();
        let mut v = json!({"details": list_details(result.len())});
        if !result.is_empty() {
            v["result"] = json!(result);
        }
        Ok(v)
    })())
}

/// Changes the factor list of the org's custom login policy.
fn change(
    model: &mut crate::model::State,
    org: &str,
    factors: Factors,
    edit: impl FnOnce(&mut Vec<String>) -> Result<(), ApiError>,
) -> Result<Value, ApiError> {
    let login = model
        .org_policies
        .get_mut(org)
        .and_then(|p| p.login.as_mut())
        .ok_or_else(policy_not_found)?;
    edit(factors.list(login))?;
    Ok(json!({"details": v1_object_details(model, org)}))
}

async fn add(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    factors: Factors,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.write")?;
        let message = format!("Add{}ToLoginPolicyRequest", factors.message());
        let v: Value = parse_body(&body, &message)?;
        let factor = v
            .get("type")
            .and_then(|t| factors.parse(t))
            .ok_or_else(|| factors.invalid(&message))?;
        change(&mut model, &org, factors, |list| {
            if list.contains(&factor) {
                return Err(factors.already_exists());
            }
            list.push(factor);
            Ok(())
        })
    })())
}

async fn remove(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    factors: Factors,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let org = org_context(&model, &headers, "policy.write")?;
        let message = format!("Remove{}FromLoginPolicyRequest", factors.message());
        let factor = factors
            .parse(&Value::String(raw))
            .ok_or_else(|| factors.invalid(&message))?;
        change(&mut model, &org, factors, |list| {
            let before = list.len();
            list.retain(|f| *f != factor);
            if list.len() == before {
                return Err(factors.not_existing());
            }
            Ok(())
        })
    })())
}
