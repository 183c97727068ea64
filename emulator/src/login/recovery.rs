//! Sign-in with a recovery code instead of the second factor.
//!
//! Offered on the second-factor pages (TOTP, OTP email/SMS, security key)
//! when the user has unused recovery codes. A code is single use; a wrong
//! or used one does not count towards the lockout, as the session API's
//! `recoveryCode` check.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{
    BASE, Ctx, Flow, check_csrf, complete, failure_key, first_factor_done, own_session, page_url,
    query, unless_active,
};
use crate::factors::Check;
use crate::model::State as Model;
use crate::server::AppState;
use crate::util::{form_get, html_escape, parse_form};

/// Whether the session's user has unused recovery codes.
fn has_codes(model: &Model, sid: &str) -> bool {
    model
        .sessions
        .get(sid)
        .and_then(|s| model.user(&s.user_id))
        .and_then(|u| u.human())
        .is_some_and(|h| !h.recovery_codes.is_empty())
}

/// The "use a recovery code" link of a second-factor page, or nothing.
pub(super) fn recovery_offer(model: &Model, ctx: &Ctx, rid: &str, sid: &str) -> String {
    if !has_codes(model, sid) {
        return String::new();
    }
    format!(
        "<p><a id=\"recovery-link\" href=\"{}\">{}</a></p>",
        html_escape(&page_url(
            "recovery",
            &[("requestId", rid), ("sessionId", sid)]
        )),
        html_escape(ctx.t("recovery.link"))
    )
}

fn render(ctx: &Ctx, rid: &str, sid: &str, error: Option<&str>) -> Response {
    let body = format!(
        "<p>{desc}</p><form method=\"post\" action=\"{BASE}/recovery\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
         <label for=\"code\">{label}</label>\
         <input type=\"text\" id=\"code\" name=\"code\" autocomplete=\"off\" autofocus required>\
         {err}<button type=\"submit\">{next}</button></form>",
        desc = html_escape(ctx.t("recovery.description")),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        sid = html_escape(sid),
        label = html_escape(ctx.t("recovery.label")),
        err = ctx.alert(error),
        next = html_escape(ctx.t("next")),
    );
    ctx.page(super::form_status(error), ctx.t("recovery.title"), &body)
}

/// `GET /ui/v2/login/recovery?requestId=…&sessionId=…`.
pub(super) async fn recovery_page(
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
    if own_session(&model, &ctx, sid).is_none_or(|s| !first_factor_done(&s)) {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    }
    render(&ctx, &flow.request_id(), sid, None)
}

/// `POST /ui/v2/login/recovery`: spends the code and finishes the login.
pub(super) async fn recovery_submit(
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
    let Some(session) = own_session(&model, &ctx, &sid).filter(first_factor_done) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if let Some(resp) = unless_active(&model, &ctx, &session) {
        return resp;
    }
    let code = form_get(&form, "code").unwrap_or_default();
    if let Err(failure) = model.verify_stored_factor(&sid, Check::RecoveryCode(code)) {
        return render(
            &ctx,
            &rid,
            &sid,
            Some(failure_key(failure, "error.code_invalid")),
        );
    }
    complete(&shared, &mut model, &ctx, &flow, &sid)
}
