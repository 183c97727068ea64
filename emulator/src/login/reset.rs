//! Password reset in the hosted login: a code by email, then a new password.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::register::rules;
use super::{BASE, Ctx, Flow, after_password, check_csrf, own_session, page_url, query, see_other};
use crate::model::{PendingCode, State as Model, UserKind, hash_password};
use crate::server::AppState;
use crate::util::{form_get, html_escape, now, parse_form};

/// Sends a reset code for the session's user to the outbox.
fn send_reset_code(model: &mut Model, user_id: &str) {
    let (pending, code) = PendingCode::generate(6, 3600);
    let Some(user) = model.users.iter_mut().find(|u| u.id == user_id) else {
        return;
    };
    let UserKind::Human(h) = &mut user.kind else {
        return;
    };
    h.password_code = Some(pending);
    let email = h.email.clone();
    model.push_outbox(
        "email",
        &email,
        "Reset password",
        &format!("Your password reset code is {code}."),
        Some(&code),
    );
}

pub(super) async fn reset_request(
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
    if ctx.hide_password_reset {
        return ctx.error(StatusCode::FORBIDDEN, "error.request_invalid");
    }
    let sid = form_get(&form, "sessionId").unwrap_or_default().to_owned();
    let Some(session) = own_session(&model, &ctx, &sid) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    send_reset_code(&mut model, &session.user_id);
    see_other(&page_url(
        "password/set",
        &[("requestId", &flow.request_id()), ("sessionId", &sid)],
    ))
}

fn render(ctx: &Ctx, rid: &str, sid: &str, rules: &str, error: Option<&str>) -> Response {
    let err = ctx.alert(error);
    let body = format!(
        "<p>{desc}</p><form method=\"post\" action=\"{BASE}/password/set\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
         <label for=\"code\">{code}</label>\
         <input type=\"text\" id=\"code\" name=\"code\" autocomplete=\"one-time-code\" autofocus required>\
         <label for=\"password\">{password}</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\" required>\
         <label for=\"passwordConfirm\">{confirm}</label>\
         <input type=\"password\" id=\"passwordConfirm\" name=\"passwordConfirm\" autocomplete=\"new-password\" required>\
         {rules}{err}<button type=\"submit\">{next}</button></form>",
        desc = html_escape(ctx.t("reset.description")),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        sid = html_escape(sid),
        code = html_escape(ctx.t("verify.label")),
        password = html_escape(ctx.t("password.label")),
        confirm = html_escape(ctx.t("register.password_confirm")),
        next = html_escape(ctx.t("next")),
    );
    ctx.page(super::form_status(error), ctx.t("reset.title"), &body)
}

pub(super) async fn set_password_page(
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
    let Some(org) = own_session(&model, &ctx, sid)
        .and_then(|s| model.user(&s.user_id).map(|u| u.org_id.clone()))
    else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let rules = rules(&ctx, &model, &org);
    render(&ctx, &flow.request_id(), sid, &rules, None)
}

pub(super) async fn set_password_submit(
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
    let Some(user) = model.user(&session.user_id).cloned() else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let rules = rules(&ctx, &model, &user.org_id);
    let code_ok = user
        .human()
        .and_then(|h| h.password_code.as_ref())
        .is_some_and(|c| c.matches(form_get(&form, "code").unwrap_or_default()));
    if !code_ok {
        return render(&ctx, &rid, &sid, &rules, Some("error.code_invalid"));
    }
    let password = form_get(&form, "password").unwrap_or_default();
    if password != form_get(&form, "passwordConfirm").unwrap_or_default() {
        return render(&ctx, &rid, &sid, &rules, Some("error.password_mismatch"));
    }
    if let Some(rule) = model.password_policy(&user.org_id).0.violation(password) {
        return render(&ctx, &rid, &sid, &rules, Some(rule));
    }
    if let Some(u) = model.users.iter_mut().find(|u| u.id == user.id) {
        if let UserKind::Human(h) = &mut u.kind {
            h.password_hash = Some(hash_password(password));
            h.password_code = None;
            h.password_failed_attempts = 0;
        }
        u.changed = now();
    }
    if let Some(s) = model.sessions.get_mut(&sid) {
        let t = now();
        s.password_verified_at = Some(t);
        s.changed = t;
    }
    after_password(&shared, &mut model, &ctx, &flow, &user, &sid)
}
