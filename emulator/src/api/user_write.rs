//! Creating users and verifying their email: `POST /v2/users/new`,
//! `POST /v2/users/human` (deprecated), `POST /v2/users/{id}/email/{verify,resend,send}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{
    Caller, authenticate, details, has_permission, human_mut, parse_body, permission_denied,
    require,
};
use crate::error::{ApiError, GrpcCode};
use crate::model::{Human, Machine, State as Model, User, UserKind, UserState, hash_password};
use crate::server::AppState;
use crate::util::{now, rfc3339};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/users/new", post(create_user))
        .route("/v2/users/human", post(add_human_user))
        .route("/v2/users/{id}/email", post(set_email))
        .route("/v2/users/{id}/email/verify", post(verify_email))
        .route("/v2/users/{id}/email/resend", post(resend_email_code))
        .route("/v2/users/{id}/email/send", post(send_email_code))
        .route("/v2/users/{id}", axum::routing::patch(update_user))
        .route("/v2/users/{id}/password_reset", post(password_reset))
        .route("/v2/users/{id}/password", post(set_password_deprecated))
        .route("/v2/users/{id}/lock", post(lock_user))
        .route("/v2/users/{id}/unlock", post(unlock_user))
        .route("/v2/users/{id}/deactivate", post(deactivate_user))
        .route("/v2/users/{id}/reactivate", post(reactivate_user))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Profile {
    pub(crate) given_name: String,
    pub(crate) family_name: String,
    pub(crate) nick_name: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) preferred_language: Option<String>,
    pub(crate) gender: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct SendCode {
    /// Link template with `{{.Code}}` and other placeholders.
    pub(crate) url_template: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct SetEmail {
    pub(crate) email: String,
    pub(crate) send_code: Option<SendCode>,
    pub(crate) return_code: Option<Value>,
    pub(crate) is_verified: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SetPassword {
    password: String,
    change_required: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct HumanInput {
    idp_links: Vec<crate::api::idp::LinkInput>,
    profile: Option<Profile>,
    email: Option<SetEmail>,
    phone: Option<crate::api::phone::SetPhone>,
    password: Option<SetPassword>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct MachineInput {
    name: String,
    description: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CreateUserRequest {
    organization_id: String,
    user_id: Option<String>,
    username: Option<String>,
    human: Option<HumanInput>,
    machine: Option<MachineInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Organization {
    org_id: Option<String>,
    org_domain: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AddHumanUserRequest {
    idp_links: Vec<crate::api::idp::LinkInput>,
    user_id: Option<String>,
    username: Option<String>,
    organization: Option<Organization>,
    profile: Option<Profile>,
    email: Option<SetEmail>,
    password: Option<SetPassword>,
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(GrpcCode::InvalidArgument, "", message)
}

/// Validated input for a new human user.
pub(crate) struct NewHuman {
    pub(crate) org_id: String,
    pub(crate) user_id: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) profile: Profile,
    pub(crate) email: SetEmail,
    pub(crate) password: Option<String>,
    /// IdP links to add.
    pub(crate) idp_links: Vec<crate::api::idp::LinkInput>,
}

/// Creates a human user; returns the user id and the email code when it is
/// to be returned.
pub(crate) fn add_human(
    model: &mut Model,
    input: NewHuman,
) -> Result<(String, Option<String>), ApiError> {
    if model.org(&input.org_id).is_none() {
        return Err(ApiError::new(
            GrpcCode::NotFound,
            "EMU-USER01",
            "Organisation not found",
        ));
    }
    let email = input.email.email.trim().to_owned();
    if email.is_empty() || !email.contains('@') || email.len() > 200 {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "EMAIL-599BI",
            "Email is invalid",
        ));
    }
    if input.profile.given_name.trim().is_empty() || input.profile.family_name.trim().is_empty() {
        return Err(invalid(
            "invalid SetHumanProfile: givenName and familyName are required",
        ));
    }
    let username = input
        .username
        .unwrap_or_else(|| email.clone())
        .to_ascii_lowercase();
    if username.is_empty() || username.len() > 200 {
        return Err(invalid("invalid username"));
    }
    if model.username_taken(&input.org_id, &username) {
        return Err(username_taken());
    }
    if input
        .user_id
        .as_deref()
        .is_some_and(|id| model.user(id).is_some())
    {
        return Err(ApiError::new(
            GrpcCode::AlreadyExists,
            "EMU-USER02",
            "User already exists",
        ));
    }
    if let Some(pw) = &input.password
        && let Some(rule) = model.password_policy(&input.org_id).0.violation(pw)
    {
        return Err(complexity_error(rule));
    }
    for link in &input.idp_links {
        if !model.idps.iter().any(|i| i.id == link.idp_id) {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "COMMAND-39nf2",
                "Identity Provider Configuration doesn't exist",
            ));
        }
    }
    let t = now();
    let id = input.user_id.unwrap_or_else(|| model.ids.next());
    let p = input.profile;
    let display = p
        .display_name
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| format!("{} {}", p.given_name, p.family_name));
    let verified = input.email.is_verified == Some(true);
    model.users.push(User {
        id: id.clone(),
        org_id: input.org_id.clone(),
        username,
        kind: UserKind::Human(Human {
            given_name: p.given_name,
            family_name: p.family_name,
            display_name: display,
            nick_name: p.nick_name.unwrap_or_default(),
            preferred_language: p.preferred_language.unwrap_or_else(|| "en".to_owned()),
            gender: gender_name(p.gender)?,
            email,
            email_verified: verified,
            phone: String::new(),
            phone_verified: false,
            password_hash: input.password.as_deref().map(hash_password),
            password_failed_attempts: 0,
            mfa_init_skipped_at: None,
            email_code: None,
            password_code: None,
            totp: None,
            otp_email: false,
            otp_sms: false,
            phone_code: None,
            recovery_codes: Vec::new(),
            otp_failed_attempts: 0,
            webauthn: Vec::new(),
            passkey_codes: Vec::new(),
            invite: None,
        }),
        state: UserState::Active,
        created: t,
        changed: t,
        metadata: Default::default(),
    });
    for link in input.idp_links {
        crate::api::idp::add_link_to(model, &id, link)?;
    }
    let code = if verified {
        None
    } else if input.email.return_code.is_some() {
        model.new_email_code(&id, false, None)
    } else {
        let template = input.email.send_code.and_then(|s| s.url_template);
        model.new_email_code(&id, true, template.as_deref());
        None
    };
    Ok((id, code))
}

/// ZITADEL's error for a password complexity violation (its id and text).
pub(crate) fn complexity_error(rule: &str) -> ApiError {
    let (id, text) = match rule {
        "password.too_short" => ("COMMA-HuJf6", "Password is too short"),
        "password.no_lower" => ("COMMA-co3Xw", "Password must contain lower case"),
        "password.no_upper" => ("COMMA-VoaRj", "Password must contain upper case"),
        "password.no_number" => ("COMMA-ZBv4H", "Password must contain number"),
        _ => ("COMMA-ZDLwA", "Password must contain symbol"),
    };
    ApiError::new(GrpcCode::InvalidArgument, id, text)
}

/// ZITADEL's unique-constraint error for a taken username.
fn username_taken() -> ApiError {
    ApiError::new(GrpcCode::AlreadyExists, "V3-DKcYh", "User already exists")
}

fn run(result: Result<Value, ApiError>, status: StatusCode) -> Response {
    match result {
        Ok(v) => (status, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn create_user(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: CreateUserRequest = parse_body(&body, "CreateUserRequest")?;
        if req.organization_id.is_empty() {
            return Err(invalid(
                "invalid CreateUserRequest.OrganizationId: value length must be between 1 and 200 runes, inclusive",
            ));
        }
        require(&model, &caller, "user.write", Some(&req.organization_id))?;
        let t = now();
        match (req.human, req.machine) {
            (Some(h), None) => {
                let org_id = req.organization_id.clone();
                let phone = h.phone;
                let (id, code) = add_human(
                    &mut model,
                    NewHuman {
                        org_id: req.organization_id,
                        user_id: req.user_id,
                        username: req.username,
                        profile: h.profile.ok_or_else(|| {
                            invalid("invalid CreateUserRequest_Human.Profile: value is required")
                        })?,
                        email: h.email.ok_or_else(|| {
                            invalid("invalid CreateUserRequest_Human.Email: value is required")
                        })?,
                        password: h.password.map(|p| p.password),
                        idp_links: h.idp_links,
                    },
                )?;
                let mut v = json!({"id": id, "creationDate": rfc3339(t)});
                if let Some(c) = code {
                    v["emailCode"] = json!(c);
                }
                if let Some(phone) = phone
                    && let Some(c) =
                        crate::api::phone::apply_phone(&mut model, &caller, &id, &org_id, phone)?
                {
                    v["phoneCode"] = json!(c);
                }
                Ok(v)
            }
            (None, Some(m)) => {
                if m.name.is_empty() {
                    return Err(invalid(
                        "invalid CreateUserRequest_Machine.Name: value length must be between 1 and 200 runes, inclusive",
                    ));
                }
                let username = req
                    .username
                    .unwrap_or_else(|| m.name.clone())
                    .to_ascii_lowercase();
                if model.username_taken(&req.organization_id, &username) {
                    return Err(username_taken());
                }
                let id = req.user_id.unwrap_or_else(|| model.ids.next());
                model.users.push(User {
                    id: id.clone(),
                    org_id: req.organization_id,
                    username,
                    kind: UserKind::Machine(Machine {
                        name: m.name,
                        description: m.description,
                        secret_hash: None,
                    }),
                    state: UserState::Active,
                    created: t,
                    changed: t,
                    metadata: Default::default(),
                });
                Ok(json!({"id": id, "creationDate": rfc3339(t)}))
            }
            _ => Err(invalid(
                "invalid CreateUserRequest.UserType: value is required",
            )),
        }
    })();
    run(result, StatusCode::OK)
}

async fn add_human_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: AddHumanUserRequest = parse_body(&body, "AddHumanUserRequest")?;
        let org = req.organization.unwrap_or_default();
        let org_id = match (org.org_id, org.org_domain) {
            (Some(id), _) => id,
            (None, Some(domain)) => model
                .org_by_domain(&domain)
                .map(|o| o.id.clone())
                .ok_or_else(|| {
                    ApiError::new(GrpcCode::NotFound, "EMU-USER01", "Organisation not found")
                })?,
            (None, None) => caller.org_id.clone(),
        };
        require(&model, &caller, "user.write", Some(&org_id))?;
        let (id, code) = add_human(
            &mut model,
            NewHuman {
                org_id: org_id.clone(),
                user_id: req.user_id,
                username: req.username,
                profile: req.profile.ok_or_else(|| {
                    invalid("invalid AddHumanUserRequest.Profile: value is required")
                })?,
                email: req.email.ok_or_else(|| {
                    invalid("invalid AddHumanUserRequest.Email: value is required")
                })?,
                password: req.password.map(|p| p.password),
                idp_links: req.idp_links,
            },
        )?;
        let seq = model.next_sequence();
        let mut v = json!({"userId": id, "details": details(seq, now(), &org_id)});
        if let Some(c) = code {
            v["emailCode"] = json!(c);
        }
        Ok(v)
    })();
    run(result, StatusCode::OK)
}

/// The target user, if the caller is that user or has `permission` on its org.
fn target<'a>(
    model: &'a Model,
    caller: &Caller,
    id: &str,
    permission: &str,
) -> Result<&'a User, ApiError> {
    let user = model.user(id).ok_or_else(|| {
        ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
    })?;
    if caller.user_id != user.id && !has_permission(model, caller, permission, Some(&user.org_id)) {
        return Err(permission_denied());
    }
    Ok(user)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyEmailRequest {
    verification_code: String,
}

async fn verify_email(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: VerifyEmailRequest = parse_body(&body, "VerifyEmailRequest")?;
        let org = target(&model, &caller, &id, "user.write")?.org_id.clone();
        let seq = model.next_sequence();
        let user = model.users.iter_mut().find(|u| u.id == id).ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, "QUERY-Dfbg2", "User could not be found")
        })?;
        let UserKind::Human(h) = &mut user.kind else {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-USER04",
                "User is not human",
            ));
        };
        if h.email_verified && h.email_code.is_none() {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMU-USER05",
                "Email is already verified",
            ));
        }
        // ZITADEL (user v2 email): an empty code, then a wrong or missing one.
        if req.verification_code.is_empty() {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "COMMAND-Fia4a",
                "Code is empty",
            ));
        }
        if h.email_code.as_ref().is_some_and(|p| p.expired()) {
            return Err(code_expired());
        }
        if !h
            .email_code
            .as_ref()
            .is_some_and(|pending| pending.matches(&req.verification_code))
        {
            return Err(ApiError::new(
                GrpcCode::InvalidArgument,
                "COMMAND-eis9R",
                "Code is invalid",
            ));
        }
        h.email_code = None;
        h.email_verified = true;
        user.changed = now();
        Ok(json!({"details": details(seq, user.changed, &org)}))
    })();
    run(result, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct EmailCodeRequest {
    send_code: Option<SendCode>,
    return_code: Option<Value>,
}

fn email_code(
    shared: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: &[u8],
    need_pending: bool,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, headers)?;
        let req: EmailCodeRequest = parse_body(body, "EmailCodeRequest")?;
        let user = target(&model, &caller, id, "user.write")?;
        let org = user.org_id.clone();
        let pending = user.human().is_some_and(|h| h.email_code.is_some());
        if need_pending && !pending {
            return Err(ApiError::new(
                GrpcCode::FailedPrecondition,
                "EMAIL-5w5ilin4yt",
                "Code is empty",
            ));
        }
        let returned = req.return_code.is_some();
        let template = req.send_code.and_then(|s| s.url_template);
        let code = model
            .new_email_code(id, !returned, template.as_deref())
            .ok_or_else(|| {
                ApiError::new(
                    GrpcCode::FailedPrecondition,
                    "EMU-USER04",
                    "User is not human",
                )
            })?;
        let seq = model.next_sequence();
        let mut v = json!({"details": details(seq, now(), &org)});
        if returned {
            v["verificationCode"] = json!(code);
        }
        Ok(v)
    })();
    run(result, StatusCode::OK)
}

async fn resend_email_code(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    email_code(&shared, &headers, &id, &body, true)
}

async fn send_email_code(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    email_code(&shared, &headers, &id, &body, false)
}

// ------------------------------------------------------------- update and password

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ProfileUpdate {
    given_name: Option<String>,
    family_name: Option<String>,
    nick_name: Option<String>,
    display_name: Option<String>,
    preferred_language: Option<String>,
    gender: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PasswordValue {
    password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PasswordUpdate {
    password: Option<PasswordValue>,
    current_password: Option<String>,
    verification_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct HumanUpdate {
    profile: Option<ProfileUpdate>,
    email: Option<SetEmail>,
    phone: Option<crate::api::phone::SetPhone>,
    password: Option<PasswordUpdate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UpdateUserRequest {
    username: Option<String>,
    human: Option<HumanUpdate>,
}

/// Sets a password after checking the current password, a reset code, or
/// (with neither) the caller's `user.write` permission.
fn set_password(
    model: &mut Model,
    caller: &Caller,
    id: &str,
    new: &str,
    current: Option<&str>,
    code: Option<&str>,
) -> Result<(), ApiError> {
    let user = target(model, caller, id, "user.credential.write")?.clone();
    match (current, code) {
        (Some(cur), _) => {
            if !user.password_matches(cur) {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "COMMAND-3M0fs",
                    "Password is invalid",
                ));
            }
        }
        (None, Some(c)) => {
            if user
                .human()
                .and_then(|h| h.password_code.as_ref())
                .is_some_and(|p| p.expired())
            {
                return Err(code_expired());
            }
            let ok = user
                .human()
                .and_then(|h| h.password_code.as_ref())
                .is_some_and(|p| p.matches(c));
            if !ok {
                return Err(ApiError::new(
                    GrpcCode::InvalidArgument,
                    "EMU-USER07",
                    "Code is invalid",
                ));
            }
        }
        (None, None) => require(model, caller, "user.write", Some(&user.org_id))?,
    }
    if user.password_matches(new) {
        return Err(ApiError::new(
            GrpcCode::FailedPrecondition,
            "COMMAND-Aesh5",
            "Password not changed",
        ));
    }
    if let Some(rule) = model.password_policy(&user.org_id).0.violation(new) {
        return Err(complexity_error(rule));
    }
    let h = human_mut(model, id)?;
    h.password_hash = Some(hash_password(new));
    h.password_code = None;
    h.password_failed_attempts = 0;
    Ok(())
}

/// Sets a user's email (UpdateUser's `human.email`, SetEmail): a new
/// address is unverified, with a code sent or returned, unless `isVerified`
/// (which needs `user.write`). Returns a returned code.
fn apply_email(
    model: &mut Model,
    caller: &crate::api::Caller,
    user: &User,
    email: SetEmail,
) -> Result<Option<String>, ApiError> {
    let address = email.email.trim().to_owned();
    if !address.contains('@') {
        return Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "EMAIL-599BI",
            "Email is invalid",
        ));
    }
    let verified = email.is_verified == Some(true);
    if verified {
        require(model, caller, "user.write", Some(&user.org_id))?;
    }
    let h = human_mut(model, &user.id)?;
    h.email = address;
    h.email_verified = verified;
    h.email_code = None;
    if verified {
        return Ok(None);
    }
    let returned = email.return_code.is_some();
    let template = email.send_code.and_then(|s| s.url_template);
    let code = model.new_email_code(&user.id, !returned, template.as_deref());
    Ok(if returned { code } else { None })
}

/// SetEmail (`POST /v2/users/{id}/email`).
async fn set_email(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: SetEmail = parse_body(&body, "SetEmailRequest")?;
        let user = target(&model, &caller, &id, "user.write")?.clone();
        let code = apply_email(&mut model, &caller, &user, req)?;
        let seq = model.next_sequence();
        let mut v = json!({"details": details(seq, now(), &user.org_id)});
        if let Some(code) = code {
            v["verificationCode"] = json!(code);
        }
        Ok(v)
    })();
    run(result, StatusCode::OK)
}

async fn update_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: UpdateUserRequest = parse_body(&body, "UpdateUserRequest")?;
        let user = target(&model, &caller, &id, "user.write")?.clone();
        if let Some(username) = req.username {
            let username = username.to_ascii_lowercase();
            if username.is_empty() {
                return Err(invalid("invalid UpdateUserRequest.Username"));
            }
            if username != user.username && model.username_taken(&user.org_id, &username) {
                return Err(username_taken());
            }
            if let Some(u) = model.users.iter_mut().find(|u| u.id == id) {
                u.username = username;
            }
        }
        let mut v = json!({});
        if let Some(human) = req.human {
            if let Some(pw) = human.password {
                let new = pw.password.map(|p| p.password).unwrap_or_default();
                set_password(
                    &mut model,
                    &caller,
                    &id,
                    &new,
                    pw.current_password.as_deref(),
                    pw.verification_code.as_deref(),
                )?;
            }
            if let Some(p) = human.profile {
                let h = human_mut(&mut model, &id)?;
                let set = |field: &mut String, value: Option<String>| {
                    if let Some(v) = value {
                        *field = v;
                    }
                };
                set(&mut h.given_name, p.given_name);
                set(&mut h.family_name, p.family_name);
                set(&mut h.nick_name, p.nick_name);
                set(&mut h.display_name, p.display_name);
                set(&mut h.preferred_language, p.preferred_language);
                if p.gender.is_some() {
                    h.gender = gender_name(p.gender)?;
                }
            }
            if let Some(phone) = human.phone
                && let Some(code) =
                    crate::api::phone::apply_phone(&mut model, &caller, &id, &user.org_id, phone)?
            {
                v["phoneCode"] = json!(code);
            }
            if let Some(email) = human.email
                && let Some(code) = apply_email(&mut model, &caller, &user, email)?
            {
                v["emailCode"] = json!(code);
            }
        }
        v["changeDate"] = json!(rfc3339(now()));
        model.next_sequence();
        Ok(v)
    })();
    run(result, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SendLink {
    notification_type: Option<String>,
    url_template: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PasswordResetRequest {
    send_link: Option<SendLink>,
    return_code: Option<Value>,
}

async fn password_reset(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: PasswordResetRequest = parse_body(&body, "PasswordResetRequest")?;
        let user = target(&model, &caller, &id, "user.write")?.clone();
        let (pending, code) = crate::model::PendingCode::generate(6, 3600);
        let h = human_mut(&mut model, &id)?;
        h.password_code = Some(pending);
        let (email, phone) = (h.email.clone(), h.phone.clone());
        let seq = model.next_sequence();
        let mut v = json!({"details": details(seq, now(), &user.org_id)});
        if req.return_code.is_some() {
            v["verificationCode"] = json!(code);
            return Ok(v);
        }
        let link = req.send_link.unwrap_or_default();
        let text = match link.url_template {
            Some(t) => {
                let url = t
                    .replace("{{.UserID}}", &id)
                    .replace("{{.Code}}", &code)
                    .replace("{{.OrgID}}", &user.org_id);
                format!("Your password reset code is {code}. Reset your password: {url}")
            }
            None => format!("Your password reset code is {code}."),
        };
        if link.notification_type.as_deref() == Some("NOTIFICATION_TYPE_SMS") {
            if phone.is_empty() {
                return Err(ApiError::new(
                    GrpcCode::FailedPrecondition,
                    "EMU-USER08",
                    "User has no phone number",
                ));
            }
            model.push_outbox("sms", &phone, "", &text, Some(&code));
        } else {
            model.push_outbox("email", &email, "Reset password", &text, Some(&code));
        }
        Ok(v)
    })();
    run(result, StatusCode::OK)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SetPasswordRequest {
    new_password: Option<PasswordValue>,
    current_password: Option<String>,
    verification_code: Option<String>,
}

async fn set_password_deprecated(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        let req: SetPasswordRequest = parse_body(&body, "SetPasswordRequest")?;
        let new = req
            .new_password
            .map(|p| p.password)
            .ok_or_else(|| invalid("invalid SetPasswordRequest.NewPassword: value is required"))?;
        set_password(
            &mut model,
            &caller,
            &id,
            &new,
            req.current_password.as_deref(),
            req.verification_code.as_deref(),
        )?;
        let org = model
            .user(&id)
            .map(|u| u.org_id.clone())
            .unwrap_or_default();
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &org)}))
    })();
    run(result, StatusCode::OK)
}

// ------------------------------------------------------------- state changes

/// Which state change a route performs.
#[derive(Debug, Clone, Copy)]
enum StateChange {
    Lock,
    Unlock,
    Deactivate,
    Reactivate,
}

async fn change_state(
    shared: AppState,
    headers: HeaderMap,
    id: String,
    change: StateChange,
) -> Response {
    let mut model = shared.lock();
    let result = (|| -> Result<Value, ApiError> {
        let caller = authenticate(&model, &headers)?;
        // ZITADEL's user v2 state commands: their ids for "not found" and
        // for a state the change does not apply to.
        let not_found = match change {
            StateChange::Lock => "COMMAND-450yxuqrh1",
            StateChange::Unlock => "COMMAND-x377t913pw",
            StateChange::Deactivate => "COMMAND-5gp2p62iin",
            StateChange::Reactivate => "COMMAND-9hy5kzbuk6",
        };
        let user = model.user(&id).cloned().ok_or_else(|| {
            ApiError::new(GrpcCode::NotFound, not_found, "User could not be found")
        })?;
        require(&model, &caller, "user.write", Some(&user.org_id))?;
        let (from_ok, to, id_err, msg) = match change {
            StateChange::Lock => (
                user.state == UserState::Active,
                UserState::Locked,
                "COMMAND-lgws8wtsqf",
                "User is not active or initial",
            ),
            StateChange::Unlock => (
                user.state == UserState::Locked,
                UserState::Active,
                "COMMAND-olb9vb0oca",
                "User is not locked",
            ),
            StateChange::Deactivate => (
                user.state != UserState::Inactive,
                UserState::Inactive,
                "COMMAND-5gunjw0cd7",
                "User already inactive",
            ),
            StateChange::Reactivate => (
                user.state == UserState::Inactive,
                UserState::Active,
                "COMMAND-s5qqcz97hf",
                "User is not inactive",
            ),
        };
        if !from_ok {
            return Err(ApiError::new(GrpcCode::FailedPrecondition, id_err, msg));
        }
        if let Some(u) = model.users.iter_mut().find(|u| u.id == id) {
            u.state = to;
            u.changed = now();
        }
        if matches!(change, StateChange::Unlock) {
            model.reset_failed_attempts(&id);
        }
        let seq = model.next_sequence();
        Ok(json!({"details": details(seq, now(), &user.org_id)}))
    })();
    run(result, StatusCode::OK)
}

async fn lock_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    change_state(shared, headers, id, StateChange::Lock).await
}

async fn unlock_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    change_state(shared, headers, id, StateChange::Unlock).await
}

async fn deactivate_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    change_state(shared, headers, id, StateChange::Deactivate).await
}

async fn reactivate_user(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    change_state(shared, headers, id, StateChange::Reactivate).await
}

/// Adds a human user from an `AddHumanUserRequest` JSON value into `org_id`
/// (used by AddOrganization's admins).
pub(crate) fn add_human_from_value(
    model: &mut Model,
    org_id: &str,
    value: Value,
) -> Result<(String, Option<String>), ApiError> {
    let bytes = serde_json::to_vec(&value).map_err(|_| invalid("invalid AddHumanUserRequest"))?;
    let req: AddHumanUserRequest = parse_body(&bytes, "AddHumanUserRequest")?;
    add_human(
        model,
        NewHuman {
            org_id: org_id.to_owned(),
            user_id: req.user_id,
            username: req.username,
            profile: req
                .profile
                .ok_or_else(|| invalid("invalid AddHumanUserRequest.Profile: value is required"))?,
            email: req
                .email
                .ok_or_else(|| invalid("invalid AddHumanUserRequest.Email: value is required"))?,
            password: req.password.map(|p| p.password),
            idp_links: req.idp_links,
        },
    )
}

/// A `Gender` enum value as its name (`GENDER_UNSPECIFIED` is stored as empty).
fn gender_name(g: Option<String>) -> Result<String, ApiError> {
    match g.as_deref() {
        None | Some("GENDER_UNSPECIFIED") | Some("0") => Ok(String::new()),
        Some(v @ ("GENDER_FEMALE" | "GENDER_MALE" | "GENDER_DIVERSE")) => Ok(v.to_owned()),
        Some("1") => Ok("GENDER_FEMALE".into()),
        Some("2") => Ok("GENDER_MALE".into()),
        Some("3") => Ok("GENDER_DIVERSE".into()),
        Some(_) => Err(ApiError::new(
            GrpcCode::InvalidArgument,
            "",
            "invalid Gender: value must be one of the defined enum values",
        )),
    }
}

/// ZITADEL's error for a verification code past its lifetime
/// (`crypto.VerifyCode`: checked before the code itself).
pub(crate) fn code_expired() -> ApiError {
    ApiError::new(
        GrpcCode::FailedPrecondition,
        "CODE-QvUQ4P",
        "Code is expired",
    )
}
