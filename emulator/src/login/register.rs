//! Registration (`prompt=create`) and the email-code page.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{
    BASE, Ctx, Flow, check_csrf, complete, create_session, own_session, page_url, query, see_other,
};
use crate::api::user_write::{NewHuman, Profile, SetEmail, add_human};
use crate::model::{State as Model, UserKind};
use crate::server::AppState;
use crate::util::{form_get, html_escape, now, parse_form};

use crate::api::settings::{PRIVACY_LINK, TOS_LINK};

struct Values<'a> {
    given: &'a str,
    family: &'a str,
    email: &'a str,
    /// Whether the terms were accepted (kept when another field is wrong).
    terms: bool,
}

/// The password complexity rules of `org` as a list (registration and reset).
pub(super) fn rules(ctx: &Ctx, model: &Model, org: &str) -> String {
    let (p, _) = model.password_policy(org);
    let mut items = vec![
        ctx.t("rule.length")
            .replace("{n}", &p.min_length.to_string()),
    ];
    for (on, key) in [
        (p.has_uppercase, "rule.upper"),
        (p.has_lowercase, "rule.lower"),
        (p.has_number, "rule.number"),
        (p.has_symbol, "rule.symbol"),
    ] {
        if on {
            items.push(ctx.t(key).to_owned());
        }
    }
    let list: String = items
        .iter()
        .map(|i| format!("<li>{}</li>", html_escape(i)))
        .collect();
    format!(
        "<p>{}</p><ul id=\"password-rules\">{list}</ul>",
        html_escape(ctx.t("register.rules"))
    )
}

fn render_register(
    ctx: &Ctx,
    model: &Model,
    flow: &Flow,
    v: &Values<'_>,
    error: Option<&str>,
) -> Response {
    let rid = &flow.request_id();
    let org = flow.org_id().unwrap_or(&model.default_org_id).to_owned();
    let err = ctx.alert(error);
    let field = |name: &str, key: &str, kind: &str, value: &str, auto: &str| {
        format!(
            "<label for=\"{name}\">{label}</label>\
             <input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{value}\" autocomplete=\"{auto}\" required>",
            label = html_escape(ctx.t(key)),
            value = html_escape(value),
        )
    };
    let body = format!(
        "<p>{desc}</p><form method=\"post\" action=\"{BASE}/register\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         {given}{family}{email}{password}{confirm}{rules}\
         <label><input type=\"checkbox\" name=\"acceptTerms\" value=\"true\" required{checked}> {accept} \
         <a href=\"{tos_link}\" target=\"_blank\" rel=\"noopener\">{tos}</a> {and} \
         <a href=\"{privacy_link}\" target=\"_blank\" rel=\"noopener\">{privacy}</a></label>\
         {err}<button type=\"submit\">{submit}</button></form>",
        desc = html_escape(ctx.t("register.description")),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        given = field(
            "givenName",
            "register.given_name",
            "text",
            v.given,
            "given-name"
        ),
        family = field(
            "familyName",
            "register.family_name",
            "text",
            v.family,
            "family-name"
        ),
        email = field("email", "register.email", "email", v.email, "email"),
        password = field("password", "password.label", "password", "", "new-password"),
        confirm = field(
            "passwordConfirm",
            "register.password_confirm",
            "password",
            "",
            "new-password"
        ),
        rules = rules(ctx, model, &org),
        checked = if v.terms { " checked" } else { "" },
        accept = html_escape(ctx.t("register.accept")),
        tos_link = TOS_LINK,
        tos = html_escape(ctx.t("register.tos")),
        and = html_escape(ctx.t("register.and")),
        privacy_link = PRIVACY_LINK,
        privacy = html_escape(ctx.t("register.privacy")),
        submit = html_escape(ctx.t("register.title")),
    );
    ctx.page(super::form_status(error), ctx.t("register.title"), &body)
}

pub(super) async fn register_page(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    if !ctx.allow_register {
        return ctx.error(StatusCode::FORBIDDEN, "error.register_disabled");
    }
    let empty = Values {
        given: "",
        family: "",
        email: "",
        terms: false,
    };
    render_register(&ctx, &model, &flow, &empty, None)
}

pub(super) async fn register_submit(
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
    if !ctx.allow_register {
        return ctx.error(StatusCode::FORBIDDEN, "error.register_disabled");
    }
    let rid = flow.request_id();
    let get = |k: &str| form_get(&form, k).unwrap_or_default().trim();
    let v = Values {
        given: get("givenName"),
        family: get("familyName"),
        email: get("email"),
        terms: form_get(&form, "acceptTerms") == Some("true"),
    };
    let password = form_get(&form, "password").unwrap_or_default();
    let fail = |model: &Model, key: &str| render_register(&ctx, model, &flow, &v, Some(key));
    if v.given.is_empty() || v.family.is_empty() || v.email.is_empty() || password.is_empty() {
        return fail(&model, "error.required");
    }
    if !v.email.contains('@') {
        return fail(&model, "error.email_invalid");
    }
    if password != form_get(&form, "passwordConfirm").unwrap_or_default() {
        return fail(&model, "error.password_mismatch");
    }
    let org_id = flow
        .org_id()
        .map_or_else(|| model.default_org_id.clone(), str::to_owned);
    if let Some(rule) = model.password_policy(&org_id).0.violation(password) {
        return fail(&model, rule);
    }
    if !v.terms {
        return fail(&model, "error.terms");
    }
    if model.username_taken(&org_id, v.email) {
        return fail(&model, "error.user_exists");
    }
    let input = NewHuman {
        org_id,
        user_id: None,
        username: None,
        profile: Profile {
            given_name: v.given.to_owned(),
            family_name: v.family.to_owned(),
            preferred_language: Some(ctx.lang.code().to_owned()),
            ..Profile::default()
        },
        email: SetEmail {
            email: v.email.to_owned(),
            ..SetEmail::default()
        },
        password: Some(password.to_owned()),
        idp_links: Vec::new(),
    };
    let user_id = match add_human(&mut model, input) {
        Ok((id, _)) => id,
        Err(_) => return fail(&model, "error.user_exists"),
    };
    // The password was just set: the session has user and password checks.
    let sid = create_session(&mut model, &user_id, &ctx.agent);
    if let Some(s) = model.sessions.get_mut(&sid) {
        s.password_verified_at = Some(now());
    }
    see_other(&page_url(
        "verify",
        &[("requestId", &rid), ("sessionId", &sid)],
    ))
}

fn render_verify(
    ctx: &Ctx,
    rid: &str,
    sid: &str,
    email: &str,
    note: Option<&str>,
    error: Option<&str>,
) -> Response {
    let err = ctx.alert(error);
    let note = note
        .map(|n| format!("<p role=\"status\">{}</p>", html_escape(ctx.t(n))))
        .unwrap_or_default();
    let hidden = format!(
        "{csrf}<input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">",
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        sid = html_escape(sid),
    );
    let body = format!(
        "<p>{desc}</p><p><strong>{email}</strong></p>{note}\
         <form method=\"post\" action=\"{BASE}/verify\">{hidden}\
         <label for=\"code\">{label}</label>\
         <input type=\"text\" id=\"code\" name=\"code\" autocomplete=\"one-time-code\" autofocus required>\
         {err}<button type=\"submit\">{next}</button></form>\
         <form method=\"post\" action=\"{BASE}/verify\">{hidden}\
         <input type=\"hidden\" name=\"action\" value=\"resend\">\
         <button type=\"submit\" class=\"secondary\">{resend}</button></form>",
        desc = html_escape(ctx.t("verify.description")),
        email = html_escape(email),
        label = html_escape(ctx.t("verify.label")),
        next = html_escape(ctx.t("next")),
        resend = html_escape(ctx.t("verify.resend")),
    );
    ctx.page(super::form_status(error), ctx.t("verify.title"), &body)
}

fn user_email(model: &Model, user_id: &str) -> String {
    model
        .user(user_id)
        .and_then(|u| u.human())
        .map(|h| h.email.clone())
        .unwrap_or_default()
}

pub(super) async fn verify_page(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let sid = form_get(&q, "sessionId").unwrap_or_default();
    let Some(session) = own_session(&model, &ctx, sid) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    render_verify(
        &ctx,
        &flow.request_id(),
        sid,
        &user_email(&model, &session.user_id),
        None,
        None,
    )
}

pub(super) async fn verify_submit(
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
    let rid = flow.request_id();
    let sid = form_get(&form, "sessionId").unwrap_or_default().to_owned();
    let Some(session) = own_session(&model, &ctx, &sid) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let email = user_email(&model, &session.user_id);
    if form_get(&form, "action") == Some("resend") {
        model.new_email_code(&session.user_id, true, None);
        return render_verify(&ctx, &rid, &sid, &email, Some("verify.sent"), None);
    }
    let code = form_get(&form, "code").unwrap_or_default();
    let verified = model
        .users
        .iter_mut()
        .find(|u| u.id == session.user_id)
        .and_then(|u| match &mut u.kind {
            UserKind::Human(h) if h.email_code.as_ref().is_some_and(|c| c.matches(code)) => {
                h.email_code = None;
                h.email_verified = true;
                Some(())
            }
            _ => None,
        })
        .is_some();
    if !verified {
        return render_verify(&ctx, &rid, &sid, &email, None, Some("error.code_invalid"));
    }
    complete(&shared, &mut model, &ctx, &flow, &sid)
}
