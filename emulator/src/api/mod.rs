//! ZITADEL REST API (grpc-gateway JSON), the first endpoint groups:
//! sessions v2, OIDC v2 (auth requests, device authorizations), users v2 read
//! and `/auth/v1/users/me`.

mod branding;
mod grants;
pub(crate) mod idp;
pub(crate) mod idp_mgmt;
mod idp_vendor;
mod invite;
mod login_factors;
mod machine;
mod me;
mod mfa;
mod oidc;
pub(crate) mod orgs;
pub(crate) mod phone;
mod policies;
mod roles;
mod sessions;
pub(crate) mod settings;
pub(crate) mod user_write;
mod users;
pub(crate) mod webauthn;

use axum::Router;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{ApiError, GrpcCode};
use crate::model::{Human, MemberResource, State as Model, UserKind};
use crate::oidc::SCOPE_ZITADEL_AUD;
use crate::server::AppState;
use crate::util::{ct_eq, now, rfc3339, sha256_hex};

/// Every ZITADEL REST route the emulator serves, as `(method, path)` with
/// path parameters written `{name}`. The contract test checks each against
/// the `google.api.http` rules of the official protos and against the router.
pub const API_ROUTES: &[(&str, &str)] = &[
    ("POST", "/v2/sessions"),
    ("POST", "/v2/sessions/search"),
    ("GET", "/v2/sessions/{session_id}"),
    ("PATCH", "/v2/sessions/{session_id}"),
    ("DELETE", "/v2/sessions/{session_id}"),
    ("GET", "/v2/oidc/auth_requests/{auth_request_id}"),
    ("POST", "/v2/oidc/auth_requests/{auth_request_id}"),
    ("GET", "/v2/oidc/device_authorization/{user_code}"),
    (
        "POST",
        "/v2/oidc/device_authorization/{device_authorization_id}",
    ),
    ("POST", "/v2/users/new"),
    ("POST", "/v2/users/human"),
    ("GET", "/v2/users/{user_id}"),
    ("POST", "/v2/users"),
    ("POST", "/v2/users/{user_id}/email/verify"),
    ("POST", "/v2/users/{user_id}/email/resend"),
    ("POST", "/v2/users/{user_id}/email/send"),
    ("GET", "/auth/v1/users/me"),
    ("PATCH", "/v2/users/{user_id}"),
    ("POST", "/v2/users/{user_id}/totp"),
    ("POST", "/v2/users/{user_id}/totp/verify"),
    ("DELETE", "/v2/users/{user_id}/totp"),
    ("POST", "/v2/users/{user_id}/phone"),
    ("DELETE", "/v2/users/{user_id}/phone"),
    ("POST", "/v2/users/{user_id}/phone/resend"),
    ("POST", "/v2/users/{user_id}/phone/verify"),
    ("POST", "/v2/users/{user_id}/otp_sms"),
    ("DELETE", "/v2/users/{user_id}/otp_sms"),
    ("POST", "/v2/users/{user_id}/recovery_codes"),
    ("DELETE", "/v2/users/{user_id}/recovery_codes"),
    ("POST", "/v2/users/{user_id}/otp_email"),
    ("DELETE", "/v2/users/{user_id}/otp_email"),
    ("GET", "/v2/users/{user_id}/authentication_methods"),
    ("POST", "/v2/users/{user_id}/secret"),
    ("DELETE", "/v2/users/{user_id}/secret"),
    ("POST", "/v2/users/{user_id}/pats"),
    ("DELETE", "/v2/users/{user_id}/pats/{token_id}"),
    ("POST", "/v2/users/{user_id}/keys"),
    ("DELETE", "/v2/users/{user_id}/keys/{key_id}"),
    ("POST", "/v2/users/{user_id}/password_reset"),
    ("POST", "/v2/users/{user_id}/password"),
    ("POST", "/v2/users/{user_id}/lock"),
    ("POST", "/v2/users/{user_id}/unlock"),
    ("POST", "/v2/users/{user_id}/deactivate"),
    ("POST", "/v2/users/{user_id}/reactivate"),
    ("GET", "/v2/settings/login"),
    ("GET", "/v2/settings/password/complexity"),
    ("GET", "/v2/settings/legal_support"),
    ("GET", "/v2/settings/lockout"),
    ("GET", "/v2/settings/branding"),
    ("GET", "/v2/settings/domain"),
    ("GET", "/v2/settings/security"),
    ("POST", "/v2/users/{user_id}/invite_code"),
    ("POST", "/v2/users/{user_id}/invite_code/resend"),
    ("POST", "/v2/users/{user_id}/invite_code/verify"),
    ("POST", "/v2/users/pats/search"),
    ("POST", "/v2/users/keys/search"),
    ("GET", "/management/v1/policies/label"),
    ("GET", "/management/v1/policies/label/_preview"),
    ("POST", "/management/v1/policies/label"),
    ("PUT", "/management/v1/policies/label"),
    ("POST", "/management/v1/policies/label/_activate"),
    ("DELETE", "/management/v1/policies/label"),
    ("GET", "/auth/v1/policies/passwords/complexity"),
    ("GET", "/auth/v1/policies/login"),
    ("POST", "/management/v1/users/{user_id}/grants"),
    ("POST", "/management/v1/users/grants/_search"),
    ("GET", "/management/v1/users/{user_id}/grants/{grant_id}"),
    ("PUT", "/management/v1/users/{user_id}/grants/{grant_id}"),
    ("DELETE", "/management/v1/users/{user_id}/grants/{grant_id}"),
    ("POST", "/management/v1/orgs/me/members"),
    ("POST", "/management/v1/orgs/me/members/_search"),
    ("PUT", "/management/v1/orgs/me/members/{user_id}"),
    ("DELETE", "/management/v1/orgs/me/members/{user_id}"),
    ("DELETE", "/v2/users/{user_id}"),
    ("POST", "/v2/users/{user_id}/metadata"),
    ("POST", "/v2/users/{user_id}/metadata/search"),
    ("DELETE", "/v2/users/{user_id}/metadata"),
    ("POST", "/auth/v1/memberships/me/_search"),
    ("POST", "/auth/v1/permissions/zitadel/me/_search"),
    ("POST", "/v2/idp_intents"),
    ("POST", "/v2/idp_intents/{idp_intent_id}"),
    ("POST", "/v2/users/{user_id}/links"),
    ("POST", "/v2/users/{user_id}/links/_search"),
    (
        "DELETE",
        "/v2/users/{user_id}/links/{idp_id}/{linked_user_id}",
    ),
    ("GET", "/v2/settings/login/idps"),
    ("POST", "/v2/organizations"),
    ("POST", "/v2/organizations/_search"),
    ("GET", "/management/v1/policies/login"),
    ("POST", "/management/v1/policies/login"),
    ("PUT", "/management/v1/policies/login"),
    ("DELETE", "/management/v1/policies/login"),
    ("GET", "/management/v1/policies/password/complexity"),
    ("POST", "/management/v1/policies/password/complexity"),
    ("PUT", "/management/v1/policies/password/complexity"),
    ("DELETE", "/management/v1/policies/password/complexity"),
    ("GET", "/management/v1/policies/lockout"),
    ("POST", "/management/v1/policies/lockout"),
    ("PUT", "/management/v1/policies/lockout"),
    ("DELETE", "/management/v1/policies/lockout"),
    ("POST", "/v2/users/{user_id}/u2f"),
    ("POST", "/v2/users/{user_id}/u2f/{u2f_id}"),
    ("DELETE", "/v2/users/{user_id}/u2f/{u2f_id}"),
    ("POST", "/v2/users/{user_id}/passkeys"),
    ("POST", "/v2/users/{user_id}/passkeys/{passkey_id}"),
    ("DELETE", "/v2/users/{user_id}/passkeys/{passkey_id}"),
    ("POST", "/v2/users/{user_id}/passkeys/registration_link"),
    ("POST", "/v2/users/{user_id}/passkeys/_search"),
    ("POST", "/v2/users/{user_id}/authentication_factors/_search"),
    ("POST", "/management/v1/idps/generic_oidc"),
    ("PUT", "/management/v1/idps/generic_oidc/{id}"),
    ("POST", "/management/v1/idps/oauth"),
    ("PUT", "/management/v1/idps/oauth/{id}"),
    ("POST", "/management/v1/idps/google"),
    ("POST", "/management/v1/idps/github"),
    ("POST", "/management/v1/idps/azure"),
    ("POST", "/management/v1/idps/apple"),
    ("GET", "/management/v1/idps/templates/{id}"),
    ("DELETE", "/management/v1/idps/templates/{id}"),
    ("POST", "/management/v1/idps/templates/_search"),
    ("POST", "/management/v1/policies/login/idps"),
    ("POST", "/management/v1/policies/login/idps/_search"),
    ("DELETE", "/management/v1/policies/login/idps/{idp_id}"),
    (
        "POST",
        "/management/v1/policies/login/second_factors/_search",
    ),
    ("POST", "/management/v1/policies/login/second_factors"),
    (
        "DELETE",
        "/management/v1/policies/login/second_factors/{type}",
    ),
    ("POST", "/management/v1/policies/login/auth_factors/_search"),
    ("POST", "/management/v1/policies/login/multi_factors"),
    (
        "DELETE",
        "/management/v1/policies/login/multi_factors/{type}",
    ),
    ("POST", "/management/v1/projects/{project_id}/roles"),
    ("POST", "/management/v1/projects/{project_id}/roles/_bulk"),
    ("POST", "/management/v1/projects/{project_id}/roles/_search"),
    (
        "PUT",
        "/management/v1/projects/{project_id}/roles/{role_key}",
    ),
    (
        "DELETE",
        "/management/v1/projects/{project_id}/roles/{role_key}",
    ),
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(sessions::routes())
        .merge(oidc::routes())
        .merge(users::routes())
        .merge(user_write::routes())
        .merge(settings::routes())
        .merge(branding::routes())
        .merge(invite::routes())
        .merge(machine::routes())
        .merge(mfa::routes())
        .merge(policies::routes())
        .merge(orgs::routes())
        .merge(grants::routes())
        .merge(phone::routes())
        .merge(idp::routes())
        .merge(me::routes())
        .merge(webauthn::routes())
        .merge(idp_mgmt::routes())
        .merge(idp_vendor::routes())
        .merge(login_factors::routes())
        .merge(roles::routes())
}

/// The authenticated caller of an API request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) user_id: String,
    pub(crate) org_id: String,
}

/// Resolves the bearer token: a PAT, a session token, or an OIDC access
/// token with ZITADEL in its audience.
pub(crate) fn authenticate(model: &Model, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = bearer(headers).ok_or_else(|| {
        ApiError::new(
            GrpcCode::Unauthenticated,
            "AUTH-7fs1e",
            "auth header missing",
        )
    })?;
    let invalid = || ApiError::new(GrpcCode::Unauthenticated, "EMU-AUTH01", "Token is invalid");
    let user_id = if let Some(user) = model.user_by_pat(token) {
        user.id.clone()
    } else if let Some(session) = session_by_token(model, token) {
        session.user_id.clone()
    } else if let Some(at) = crate::oidc::valid_access_token(model, token) {
        if !at.grant.audience.contains(&model.zitadel_project_id) {
            return Err(ApiError::new(
                GrpcCode::Unauthenticated,
                "APP-Zxfako",
                "invalid audience",
            ));
        }
        if !at.grant.scopes.iter().any(|s| s == SCOPE_ZITADEL_AUD) {
            return Err(invalid());
        }
        at.grant.user_id.clone()
    } else {
        return Err(invalid());
    };
    let user = model.user(&user_id).ok_or_else(invalid)?;
    if user.state != crate::model::UserState::Active {
        return Err(invalid());
    }
    Ok(Caller {
        user_id,
        org_id: user.org_id.clone(),
    })
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A session whose current token is `token`.
pub(crate) fn session_by_token<'a>(
    model: &'a Model,
    token: &str,
) -> Option<&'a crate::model::Session> {
    let hash = sha256_hex(token);
    let t = now();
    model
        .sessions
        .values()
        .find(|s| s.is_active(t) && ct_eq(&s.token_hash, &hash))
}

/// Permissions of ZITADEL's member roles (subset of `cmd/defaults.yaml`).
pub(crate) fn role_permissions(role: &str) -> &'static [&'static str] {
    match role {
        "IAM_OWNER" => &["*"],
        "IAM_LOGIN_CLIENT" => &[
            "iam.read",
            "iam.policy.read",
            "iam.member.read",
            "iam.member.write",
            "iam.idp.read",
            "org.read",
            "org.member.read",
            "org.member.write",
            "org.idp.read",
            "user.read",
            "user.write",
            "user.grant.read",
            "user.grant.write",
            "user.credential.write",
            "user.passkey.write",
            "policy.read",
            "project.read",
            "project.role.read",
            "project.app.read",
            "session.read",
            "session.write",
            "session.link",
            "session.delete",
        ],
        "ORG_OWNER" => &[
            "org.read",
            "org.write",
            "org.delete",
            "org.member.read",
            "org.member.write",
            "org.member.delete",
            "org.idp.read",
            "org.idp.write",
            "org.idp.delete",
            "user.read",
            "user.write",
            "user.delete",
            "user.grant.read",
            "user.grant.write",
            "user.grant.delete",
            "user.credential.write",
            "user.passkey.write",
            "policy.read",
            "policy.write",
            "policy.delete",
            "project.read",
            "project.write",
            "project.delete",
            "project.role.read",
            "project.role.write",
            "project.role.delete",
            "project.grant.read",
            "project.grant.write",
            "project.grant.delete",
            "project.app.read",
            "project.app.write",
            "project.app.delete",
            "session.read",
            "session.delete",
        ],
        "ORG_USER_MANAGER" => &[
            "org.read",
            "user.read",
            "user.write",
            "user.delete",
            "user.grant.read",
            "user.grant.write",
            "user.grant.delete",
            "policy.read",
            "project.read",
            "project.role.read",
            "session.read",
            "session.delete",
        ],
        "ORG_SETTINGS_MANAGER" => &[
            "org.read",
            "org.write",
            "org.idp.read",
            "org.idp.write",
            "org.idp.delete",
            "policy.read",
            "policy.write",
            "policy.delete",
        ],
        _ => &[],
    }
}

/// Whether the caller holds `permission` on `org` (instance roles count everywhere).
pub(crate) fn has_permission(
    model: &Model,
    caller: &Caller,
    permission: &str,
    org: Option<&str>,
) -> bool {
    model
        .memberships
        .iter()
        .filter(|m| m.user_id == caller.user_id)
        .any(|m| {
            let applies = match &m.resource {
                MemberResource::Instance => true,
                MemberResource::Org(o) => org.unwrap_or(&caller.org_id) == o,
                MemberResource::Project(_) => false,
            };
            applies
                && m.roles.iter().any(|r| {
                    role_permissions(r)
                        .iter()
                        .any(|p| *p == "*" || *p == permission)
                })
        })
}

/// Fails with ZITADEL's 403 unless the caller holds the permission.
pub(crate) fn require(
    model: &Model,
    caller: &Caller,
    permission: &str,
    org: Option<&str>,
) -> Result<(), ApiError> {
    if has_permission(model, caller, permission, org) {
        Ok(())
    } else {
        Err(permission_denied())
    }
}

/// The human user `id`, for a change (its `changed` time is set to now):
/// `NotFound` for an unknown user, `FailedPrecondition` for a machine user.
pub(crate) fn human_mut<'a>(model: &'a mut Model, id: &str) -> Result<&'a mut Human, ApiError> {
    let user = model.users.iter_mut().find(|u| u.id == id).ok_or_else(|| {
        ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
    })?;
    user.changed = now();
    match &mut user.kind {
        UserKind::Human(h) => Ok(h),
        UserKind::Machine(_) => Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "EMU-USER04",
            "User is not human",
        )),
    }
}

pub(crate) fn permission_denied() -> ApiError {
    ApiError::new(
        GrpcCode::PermissionDenied,
        "AUTH-5mWD2",
        "No matching permissions found",
    )
}

/// Parses a JSON request body (empty means `{}`); accepts camelCase and
/// snake_case keys, ignores unknown fields.
pub(crate) fn parse_body<T: DeserializeOwned>(bytes: &[u8], message: &str) -> Result<T, ApiError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::new(
                GrpcCode::InvalidArgument,
                "",
                format!("invalid {message}: {e}"),
            )
        })?
    };
    serde_json::from_value(camel_keys(value)).map_err(|e| {
        ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            format!("invalid {message}: {e}"),
        )
    })
}

/// Converts snake_case object keys to lowerCamelCase (not inside `metadata`
/// and `header`, which are maps).
fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    // Map keys stay as they are.
                    let v = if k == "metadata" || k == "header" {
                        v
                    } else {
                        camel_keys(v)
                    };
                    (to_camel(&k), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

/// `snake_case` → `lowerCamelCase` (protojson's JSON names).
pub(crate) fn to_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `zitadel.object.v2.Details`.
pub(crate) fn details(sequence: u64, change: i64, resource_owner: &str) -> Value {
    json!({
        "sequence": sequence.to_string(),
        "changeDate": rfc3339(change),
        "resourceOwner": resource_owner,
    })
}

/// Advances the sequence and returns `{"details": …}` of a change in `org`.
pub(crate) fn change_details(model: &mut Model, org: &str) -> Value {
    let seq = model.next_sequence();
    json!({"details": details(seq, now(), org)})
}

/// The page of a list request: `(offset, limit)`. The offset is a uint64
/// (JSON string or number); a missing or zero limit means 100, more than
/// 1000 is refused.
pub(crate) fn list_page(
    offset: Option<&Value>,
    limit: Option<u32>,
) -> Result<(usize, u32), ApiError> {
    let limit = limit.filter(|l| *l > 0).unwrap_or(100);
    if limit > 1000 {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "QUERY-4M0fs",
            "Limit is too big",
        ));
    }
    let n = match offset {
        None | Some(Value::Null) => Some(0),
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    };
    let offset = n
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ApiError::new(GrpcCode::InvalidArgument, "", "invalid offset"))?;
    Ok((offset, limit))
}

/// Parses a protobuf Duration string such as `"18000s"`.
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    let secs = s.strip_suffix('s')?;
    let whole = secs.split('.').next()?;
    whole.parse::<i64>().ok().filter(|n| *n >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_keys_become_camel_case() {
        let v = camel_keys(
            json!({"session_id": "1", "checks": {"user": {"login_name": "a"}}, "metadata": {"my_key": "x"}}),
        );
        assert_eq!(
            v,
            json!({"sessionId": "1", "checks": {"user": {"loginName": "a"}}, "metadata": {"my_key": "x"}})
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("18000s"), Some(18000));
        assert_eq!(parse_duration("1.5s"), Some(1));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("5m"), None);
    }
}
