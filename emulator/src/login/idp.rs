//! Login with an external IdP from the hosted login (the built-in test IdP):
//! an IdP intent whose success URL is this login; a linked user is signed
//! in. For an unknown one the page offers, as far as the IdP
//! (`isCreationAllowed`, `isLinkingAllowed`) and the login policy
//! (`allowRegister`) allow, a registration form prefilled from the IdP
//! profile and linking an existing account (login name and password). With
//! `isAutoCreation` the user is registered at once.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{BASE, Ctx, Flow, after_password, check_csrf, create_session, query, see_other};
use crate::api::idp::{LinkInput, succeeded_intent};
use crate::api::settings::{PRIVACY_LINK, TOS_LINK};
use crate::api::user_write::{NewHuman, Profile, SetEmail, add_human};
use crate::model::{ExternalUser, IdpIntent, IdpLink, IntentState, State as Model, UserState};
use crate::server::{AppState, Shared};
use crate::util::{encode_query, form_get, html_escape, now, parse_form};

pub(super) async fn idp_start(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&form, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    if let Some(resp) = check_csrf(&shared, &ctx, &form) {
        return resp;
    }
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let idp_id = form_get(&form, "idpId").unwrap_or_default().to_owned();
    if !ctx.idp_buttons.iter().any(|(id, _)| *id == idp_id) {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    }
    let rid = flow.request_id();
    let back = |path: &str| {
        shared.url(&format!(
            "{BASE}/{path}?{}",
            encode_query(&[("requestId", &rid)])
        ))
    };
    let Some(idp) = model.idps.iter().find(|i| i.id == idp_id).cloned() else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let id = model.ids.next();
    let Ok(auth_url) = crate::api::idp_mgmt::authorize_url(&shared.issuer, &idp, &id) else {
        return ctx.error(StatusCode::BAD_REQUEST, "idp.failed");
    };
    model.idp_intents.insert(
        id.clone(),
        IdpIntent {
            id: id.clone(),
            idp_id,
            success_url: back("idp/success"),
            failure_url: back("idp/failure"),
            created: now(),
            state: IntentState::Started,
            callback_code: None,
        },
    );
    see_other(&auth_url)
}

pub(super) async fn idp_success(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    // The intent id and token in the URL are the proof; a GET cannot carry a CSRF token.
    let intent = Intent {
        id: form_get(&q, "id").unwrap_or_default().to_owned(),
        token: form_get(&q, "token").unwrap_or_default().to_owned(),
    };
    let Ok((idp_id, external)) =
        succeeded_intent(&model, &intent.id, &intent.token, "COMMAND-Df4bw")
    else {
        return ctx.error_with_back(StatusCode::BAD_REQUEST, "idp.failed", &flow);
    };
    if let Some(uid) = linked_user(&model, &idp_id, &external.id) {
        return sign_in(&shared, &mut model, &ctx, &flow, &uid);
    }
    let options = Options::of(&model, &ctx, &idp_id);
    if !options.creation && !options.linking {
        return ctx.error_with_back(StatusCode::FORBIDDEN, "idp.not_linked", &flow);
    }
    if options.creation && options.auto_creation {
        // Auto-creation: register the external user at once.
        let username = default_username(&external);
        let values = RegValues {
            given: external.given_name.clone(),
            family: external.family_name.clone(),
            email: external.email.clone(),
            username,
        };
        return match create_linked_user(&mut model, &ctx, &flow, &idp_id, &external, &values) {
            Ok(uid) => sign_in(&shared, &mut model, &ctx, &flow, &uid),
            Err(_) => ctx.error_with_back(StatusCode::CONFLICT, "error.user_exists", &flow),
        };
    }
    let values = RegValues {
        given: external.given_name.clone(),
        family: external.family_name.clone(),
        email: external.email.clone(),
        username: default_username(&external),
    };
    render_choice(&ctx, &flow, &intent, &options, &values, "", None)
}

/// The intent that proves the external login (hidden form fields).
struct Intent {
    id: String,
    token: String,
}

impl Intent {
    fn from_form(form: &[(String, String)]) -> Self {
        Self {
            id: form_get(form, "intentId").unwrap_or_default().to_owned(),
            token: form_get(form, "intentToken").unwrap_or_default().to_owned(),
        }
    }
}

/// What the IdP and the login policy allow for an unknown external user.
struct Options {
    /// Registration (`isCreationAllowed` and the policy's `allowRegister`).
    creation: bool,
    /// Linking to an existing account (`isLinkingAllowed`).
    linking: bool,
    /// `isAutoCreation`: register without asking.
    auto_creation: bool,
}

impl Options {
    fn of(model: &Model, ctx: &Ctx, idp_id: &str) -> Self {
        let idp = model.idps.iter().find(|i| i.id == idp_id);
        Self {
            creation: idp.is_some_and(|i| i.creation_allowed) && ctx.allow_register,
            linking: idp.is_some_and(|i| i.linking_allowed),
            auto_creation: idp.is_some_and(|i| i.auto_creation),
        }
    }
}

/// The registration form's values (prefilled from the IdP profile).
struct RegValues {
    given: String,
    family: String,
    email: String,
    username: String,
}

fn default_username(external: &ExternalUser) -> String {
    if external.username.is_empty() {
        external.email.clone()
    } else {
        external.username.clone()
    }
}

fn linked_user(model: &Model, idp_id: &str, external_id: &str) -> Option<String> {
    model
        .idp_links
        .iter()
        .find(|l| l.idp_id == idp_id && l.external_user_id == external_id)
        .map(|l| l.user_id.clone())
}

/// Signs the user in with the external login (amr `fed`).
fn sign_in(shared: &Shared, model: &mut Model, ctx: &Ctx, flow: &Flow, user_id: &str) -> Response {
    let Some(user) = model.user(user_id).cloned() else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if user.state != UserState::Active {
        return ctx.error(StatusCode::BAD_REQUEST, "error.user_inactive");
    }
    let sid = create_session(model, user_id, &ctx.agent);
    if let Some(s) = model.sessions.get_mut(&sid) {
        s.intent_verified_at = Some(now());
    }
    after_password(shared, model, ctx, flow, &user, &sid)
}

/// Creates the user with the IdP link. The email counts as verified when it
/// is the one the IdP sent.
fn create_linked_user(
    model: &mut Model,
    ctx: &Ctx,
    flow: &Flow,
    idp_id: &str,
    external: &ExternalUser,
    values: &RegValues,
) -> Result<String, crate::error::ApiError> {
    let org_id = flow
        .org_id()
        .map_or_else(|| model.default_org_id.clone(), str::to_owned);
    let input = NewHuman {
        org_id,
        user_id: None,
        username: Some(values.username.clone()),
        profile: Profile {
            given_name: values.given.clone(),
            family_name: values.family.clone(),
            preferred_language: Some(ctx.lang.code().to_owned()),
            ..Profile::default()
        },
        email: SetEmail {
            email: values.email.clone(),
            is_verified: Some(values.email.eq_ignore_ascii_case(&external.email)),
            ..SetEmail::default()
        },
        password: None,
        idp_links: vec![LinkInput {
            idp_id: idp_id.to_owned(),
            user_id: external.id.clone(),
            user_name: default_username(external),
        }],
    };
    add_human(model, input).map(|(id, _)| id)
}

/// The page after an external login of an unknown user: a registration form
/// prefilled from the IdP profile and/or linking an existing account.
fn render_choice(
    ctx: &Ctx,
    flow: &Flow,
    intent: &Intent,
    options: &Options,
    values: &RegValues,
    login_name: &str,
    error: Option<&str>,
) -> Response {
    let hidden = format!(
        "{csrf}<input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"intentId\" value=\"{id}\">\
         <input type=\"hidden\" name=\"intentToken\" value=\"{token}\">",
        csrf = ctx.hidden_csrf(),
        rid = html_escape(&flow.request_id()),
        id = html_escape(&intent.id),
        token = html_escape(&intent.token),
    );
    let field = |name: &str, key: &str, kind: &str, value: &str, auto: &str| {
        format!(
            "<label for=\"{name}\">{label}</label>\
             <input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{value}\" autocomplete=\"{auto}\" required>",
            label = html_escape(ctx.t(key)),
            value = html_escape(value),
        )
    };
    let register = if options.creation {
        format!(
            "<section id=\"idp-register\"><h2>{title}</h2>\
             <form method=\"post\" action=\"{BASE}/idp/register\">{hidden}\
             {given}{family}{email}{username}\
             <label><input type=\"checkbox\" name=\"acceptTerms\" value=\"true\" required> {accept} \
             <a href=\"{tos_link}\" target=\"_blank\" rel=\"noopener\">{tos}</a> {and} \
             <a href=\"{privacy_link}\" target=\"_blank\" rel=\"noopener\">{privacy}</a></label>\
             <button type=\"submit\" id=\"idp-register-submit\">{submit}</button></form></section>",
            title = html_escape(ctx.t("idp.register_title")),
            given = field(
                "givenName",
                "register.given_name",
                "text",
                &values.given,
                "given-name"
            ),
            family = field(
                "familyName",
                "register.family_name",
                "text",
                &values.family,
                "family-name"
            ),
            email = field("email", "register.email", "email", &values.email, "email"),
            username = field(
                "username",
                "register.username",
                "text",
                &values.username,
                "username"
            ),
            accept = html_escape(ctx.t("register.accept")),
            tos_link = TOS_LINK,
            tos = html_escape(ctx.t("register.tos")),
            and = html_escape(ctx.t("register.and")),
            privacy_link = PRIVACY_LINK,
            privacy = html_escape(ctx.t("register.privacy")),
            submit = html_escape(ctx.t("register.title")),
        )
    } else {
        String::new()
    };
    let link = if options.linking {
        format!(
            "<section id=\"idp-link\"><h2>{title}</h2><p>{desc}</p>\
             <form method=\"post\" action=\"{BASE}/idp/link\">{hidden}\
             {login}\
             <label for=\"password\">{pw_label}</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\" id=\"idp-link-submit\">{submit}</button></form></section>",
            title = html_escape(ctx.t("idp.link_title")),
            desc = html_escape(ctx.t("idp.link_description")),
            login = field(
                "loginName",
                "loginname.label",
                "text",
                login_name,
                "username"
            ),
            pw_label = html_escape(ctx.t("password.label")),
            submit = html_escape(ctx.t("idp.link_button")),
        )
    } else {
        String::new()
    };
    let body = format!(
        "<p>{desc}</p>{err}{register}{link}",
        desc = html_escape(ctx.t("idp.choice_description")),
        err = ctx.alert(error),
    );
    ctx.page(super::form_status(error), ctx.t("idp.choice_title"), &body)
}

/// Common start of the two POSTs of the choice page: CSRF, flow and the
/// intent of an external user who is not linked yet.
fn choice_form(
    shared: &Shared,
    model: &Model,
    ctx: &Ctx,
    form: &[(String, String)],
) -> Result<(Flow, Intent, String, ExternalUser), Box<Response>> {
    if let Some(resp) = check_csrf(shared, ctx, form) {
        return Err(Box::new(resp));
    }
    let flow = Flow::resolve(model, form_get(form, "requestId").unwrap_or_default())
        .ok_or_else(|| Box::new(ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid")))?;
    let intent = Intent::from_form(form);
    let (idp_id, external) = succeeded_intent(model, &intent.id, &intent.token, "COMMAND-Df4bw")
        .map_err(|_| Box::new(ctx.error(StatusCode::BAD_REQUEST, "idp.failed")))?;
    if linked_user(model, &idp_id, &external.id).is_some() {
        return Err(Box::new(
            ctx.error(StatusCode::CONFLICT, "idp.already_linked"),
        ));
    }
    Ok((flow, intent, idp_id, external))
}

/// `POST /ui/v2/login/idp/register`: the prefilled registration form.
pub(super) async fn idp_register(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&form, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let (flow, intent, idp_id, external) = match choice_form(&shared, &model, &ctx, &form) {
        Ok(v) => v,
        Err(resp) => return *resp,
    };
    let options = Options::of(&model, &ctx, &idp_id);
    if !options.creation {
        return ctx.error(StatusCode::FORBIDDEN, "error.register_disabled");
    }
    let get = |k: &str| form_get(&form, k).unwrap_or_default().trim().to_owned();
    let values = RegValues {
        given: get("givenName"),
        family: get("familyName"),
        email: get("email"),
        username: get("username"),
    };
    let fail = |key: &str| render_choice(&ctx, &flow, &intent, &options, &values, "", Some(key));
    if values.given.is_empty()
        || values.family.is_empty()
        || values.email.is_empty()
        || values.username.is_empty()
    {
        return fail("error.required");
    }
    if !values.email.contains('@') {
        return fail("error.email_invalid");
    }
    if form_get(&form, "acceptTerms") != Some("true") {
        return fail("error.terms");
    }
    let org_id = flow
        .org_id()
        .map_or_else(|| model.default_org_id.clone(), str::to_owned);
    if model.username_taken(&org_id, &values.username) {
        return fail("error.user_exists");
    }
    match create_linked_user(&mut model, &ctx, &flow, &idp_id, &external, &values) {
        Ok(uid) => sign_in(&shared, &mut model, &ctx, &flow, &uid),
        Err(_) => fail("error.user_exists"),
    }
}

/// `POST /ui/v2/login/idp/link`: links the external identity to an
/// existing account after its password check, then signs in.
pub(super) async fn idp_link(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&form, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let (flow, intent, idp_id, external) = match choice_form(&shared, &model, &ctx, &form) {
        Ok(v) => v,
        Err(resp) => return *resp,
    };
    let options = Options::of(&model, &ctx, &idp_id);
    if !options.linking {
        return ctx.error(StatusCode::FORBIDDEN, "idp.not_linked");
    }
    let login_name = form_get(&form, "loginName").unwrap_or_default().trim();
    let values = RegValues {
        given: external.given_name.clone(),
        family: external.family_name.clone(),
        email: external.email.clone(),
        username: default_username(&external),
    };
    let fail = |key: &str| {
        render_choice(
            &ctx,
            &flow,
            &intent,
            &options,
            &values,
            login_name,
            Some(key),
        )
    };
    let Some(user) = model
        .find_user_by_login_name(login_name, flow.org_id())
        .filter(|u| u.human().is_some())
        .cloned()
    else {
        // The same message as a wrong password: no user enumeration.
        return fail("idp.link_failed");
    };
    if user.state != UserState::Active {
        return fail(if user.state == UserState::Locked {
            "error.user_locked"
        } else {
            "error.user_inactive"
        });
    }
    let password = form_get(&form, "password").unwrap_or_default();
    if let Err(failure) = model.check_password(&user.id, password) {
        return fail(super::failure_key(failure, "idp.link_failed"));
    }
    model.idp_links.push(IdpLink {
        idp_id,
        user_id: user.id.clone(),
        external_user_id: external.id.clone(),
        external_user_name: default_username(&external),
    });
    sign_in(&shared, &mut model, &ctx, &flow, &user.id)
}

pub(super) async fn idp_failure(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    match flow {
        Some(flow) => ctx.error_with_back(StatusCode::BAD_REQUEST, "idp.failed", &flow),
        None => ctx.error(StatusCode::BAD_REQUEST, "idp.failed"),
    }
}
