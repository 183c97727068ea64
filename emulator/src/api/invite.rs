//! Invite codes of users v2 (`CreateInviteCode`, `ResendInviteCode`,
//! `VerifyInviteCode`): a code that lets a user without an authentication
//! method set one up; verifying it also verifies the email. Error ids are
//! ZITADEL's (`internal/command/user_v2_invite.go`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::policies::respond;
use crate::api::{Caller, authenticate, change_details, has_permission, human_mut, parse_body};
use crate::error::{ApiError, GrpcCode};
use crate::model::{InviteCode, PendingCode, State as Model, UserKind, WebAuthnKind};
use crate::server::AppState;

/// Invite codes are valid for 72 hours (ZITADEL's default).
const INVITE_LIFETIME: i64 = 72 * 3600;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/users/{id}/invite_code", post(create))
        .route("/v2/users/{id}/invite_code/resend", post(resend))
        .route("/v2/users/{id}/invite_code/verify", post(verify))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SendInviteCode {
    url_template: Option<String>,
    application_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CreateInviteCodeRequest {
    send_code: Option<SendInviteCode>,
    return_code: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyInviteCodeRequest {
    verification_code: String,
}

/// The org of an existing user, else FAILED_PRECONDITION with `not_found_id`.
fn user_org(model: &Model, id: &str, not_found_id: &'static str) -> Result<String, ApiError> {
    model
        .user(id)
        .map(|u| u.org_id.clone())
        .ok_or_else(|| ApiError::new(GrpcCode::FailedPrecondition, not_found_id, "User not found"))
}

/// Whether the user may still be invited: no password, passkey or IdP link.
fn check_not_initialised(model: &Model, id: &str, error_id: &'static str) -> Result<(), ApiError> {
    let user = model.user(id);
    let has_method = match user.map(|u| &u.kind) {
        Some(UserKind::Human(h)) => {
            h.password_hash.is_some() || h.has_webauthn(WebAuthnKind::Passkey)
        }
        _ => false,
    } || model.idp_links.iter().any(|l| l.user_id == id);
    if has_method {
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            error_id,
            "User has already been initialised",
        ));
    }
    Ok(())
}

/// Stores a new code and sends it by email unless it is returned.
fn issue(model: &mut Model, id: &str, invite: InviteCode, code: &str) -> Result<(), ApiError> {
    let org = user_org(model, id, "COMMAND-Wgvn4")?;
    let send = !invite.returned;
    let link = invite.url_template.as_ref().map(|t| {
        t.replace("{{.UserID}}", id)
            .replace("{{.OrgID}}", &org)
            .replace("{{.Code}}", code)
    });
    let app = invite
        .application_name
        .clone()
        .unwrap_or_else(|| "ZITADEL".to_owned());
    let h = human_mut(model, id)?;
    h.invite = Some(invite);
    let email = h.email.clone();
    if send {
        let text = match link {
            Some(l) => format!("You are invited to {app}. Your code is {code}. Accept: {l}"),
            None => format!("You are invited to {app}. Your code is {code}."),
        };
        model.push_outbox(
            "email",
            &email,
            &format!("Invitation to {app}"),
            &text,
            Some(code),
        );
    }
    Ok(())
}

fn may_write(model: &Model, caller: &Caller, org: &str) -> Result<(), ApiError> {
    if has_permission(model, caller, "user.write", Some(org)) {
        Ok(())
    } else {
        Err(crate::api::permission_denied())
    }
}

async fn create(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let req: CreateInviteCodeRequest = parse_body(&body, "CreateInviteCodeRequest")?;
        let org = user_org(&model, &id, "COMMAND-Wgvn4")?;
        // ZITADEL checks user.write here, without the self exception.
        may_write(&model, &caller, &org)?;
        check_not_initialised(&model, &id, "COMMAND-EF34g")?;
        // A new code reuses the previous template and application name.
        let previous = model
            .user(&id)
            .and_then(|u| u.human())
            .and_then(|h| h.invite.clone());
        let send = req.send_code.unwrap_or_default();
        let returned = req.return_code.is_some();
        let (pending, code) = PendingCode::generate(6, INVITE_LIFETIME);
        let invite = InviteCode {
            code: pending,
            url_template: send
                .url_template
                .or_else(|| previous.as_ref().and_then(|p| p.url_template.clone())),
            application_name: send
                .application_name
                .or_else(|| previous.and_then(|p| p.application_name)),
            returned,
        };
        issue(&mut model, &id, invite, &code)?;
        let mut v = change_details(&mut model, &org);
        if returned {
            v["inviteCode"] = json!(code);
        }
        Ok(v)
    })())
}

async fn resend(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        let caller = authenticate(&model, &headers)?;
        let org = user_org(&model, &id, "COMMAND-H3b2a")?;
        if caller.user_id != id {
            may_write(&model, &caller, &org)?;
        }
        check_not_initialised(&model, &id, "COMMAND-Gg42s")?;
        let previous = model
            .user(&id)
            .and_then(|u| u.human())
            .and_then(|h| h.invite.clone())
            .filter(|i| !i.returned)
            .ok_or_else(|| {
                ApiError::new(
                    GrpcCode::FailedPrecondition,
                    "COMMAND-Wr3gq",
                    "Code not found",
                )
            })?;
        let (pending, code) = PendingCode::generate(6, INVITE_LIFETIME);
        issue(
            &mut model,
            &id,
            InviteCode {
                code: pending,
                ..previous
            },
            &code,
        )?;
        Ok(change_details(&mut model, &org))
    })())
}

async fn verify(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    respond((|| {
        // No permission: whoever holds the code may verify it.
        authenticate(&model, &headers)?;
        let req: VerifyInviteCodeRequest = parse_body(&body, "VerifyInviteCodeRequest")?;
        let org = user_org(&model, &id, "COMMAND-F5g2h")?;
        let h = human_mut(&mut model, &id)?;
        let ok = h
            .invite
            .as_ref()
            .is_some_and(|i| i.code.matches(&req.verification_code));
        if !ok {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "COMMAND-Wgn4q",
                "Code is invalid",
            ));
        }
        h.invite = None;
        h.email_verified = true;
        h.email_code = None;
        Ok(change_details(&mut model, &org))
    })())
}
