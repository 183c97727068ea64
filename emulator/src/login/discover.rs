//! Username-less passkey login ("Sign in with a passkey" on the login-name
//! page): `navigator.credentials.get` with an empty `allowCredentials`; the
//! user is found from the assertion's user handle.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::{BASE, Ctx, Flow, check_csrf, complete, create_session, query};
use crate::model::{DiscoverableLogin, State as Model, UserState};
use crate::server::{AppState, Shared};
use crate::util::{form_get, html_escape, now, parse_form, random_token};
use crate::webauthn::RelyingParty;

/// How long a started ceremony stays valid (seconds).
const LIFETIME: i64 = 300;

/// Starts a ceremony for this browser; returns its id and the options.
fn begin(shared: &Shared, model: &mut Model, agent: &str) -> Option<(String, Value)> {
    let (options, state) = RelyingParty::new(&shared.issuer, "")
        .and_then(|rp| rp.start_discoverable())
        .ok()?;
    let t = now();
    model.discoverable_logins.retain(|d| d.expires > t);
    let id = random_token(24);
    model.discoverable_logins.push(DiscoverableLogin {
        id: id.clone(),
        agent: agent.to_owned(),
        state,
        expires: t + LIFETIME,
    });
    Some((id, options))
}

fn render(ctx: &Ctx, rid: &str, token: &str, options: &Value, error: Option<&str>) -> Response {
    let nonce = random_token(18);
    let body = format!(
        "<p>{desc}</p><form id=\"webauthn-form\" method=\"post\" action=\"{BASE}/passkey/discover\" \
         data-mode=\"get\" data-options=\"{options}\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <input type=\"hidden\" name=\"credential\" value=\"\">{err}\
         <p id=\"webauthn-failed\" class=\"error\" role=\"alert\" hidden>{failed}</p>\
         <button type=\"button\" id=\"webauthn-start\">{button}</button></form>\
         <script nonce=\"{nonce}\" src=\"{BASE}/webauthn.js\"></script>",
        desc = html_escape(ctx.t("passkey.description")),
        options = html_escape(&options.to_string()),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        token = html_escape(token),
        err = ctx.alert(error),
        failed = html_escape(ctx.t("webauthn.failed")),
        button = html_escape(ctx.t("passkey.start")),
    );
    ctx.page_with_script(
        super::form_status(error),
        ctx.t("passkey.title"),
        &body,
        &nonce,
    )
}

/// `GET /ui/v2/login/passkey/discover?requestId=…`.
pub(super) async fn discover_page(
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
    if !ctx.passwordless {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    }
    match begin(&shared, &mut model, &ctx.agent) {
        Some((token, options)) => render(&ctx, &flow.request_id(), &token, &options, None),
        None => ctx.error(StatusCode::BAD_REQUEST, "error.session"),
    }
}

/// `POST /ui/v2/login/passkey/discover`: verifies the assertion, then signs
/// the user found by its user handle in.
pub(super) async fn discover_submit(
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
    if !ctx.passwordless {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    }
    let token = form_get(&form, "token").unwrap_or_default();
    let t = now();
    let Some(pos) = model
        .discoverable_logins
        .iter()
        .position(|d| d.id == token && d.agent == ctx.agent && d.expires > t)
    else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let pending = model.discoverable_logins.remove(pos);
    let credential: Value = serde_json::from_str(form_get(&form, "credential").unwrap_or_default())
        .unwrap_or(Value::Null);
    let verified = RelyingParty::new(&shared.issuer, "")
        .and_then(|rp| rp.finish_discoverable(&mut model, &pending.state, &credential))
        .ok()
        .filter(|(_, user_verified)| *user_verified)
        .and_then(|(user_id, _)| model.user(&user_id).cloned())
        .filter(|u| {
            flow.org_id().is_none_or(|o| o == u.org_id)
                && model.login_policy_of(&u.org_id).0.allows_passkey()
        });
    let Some(user) = verified else {
        return match begin(&shared, &mut model, &ctx.agent) {
            Some((token, options)) => render(
                &ctx,
                &flow.request_id(),
                &token,
                &options,
                Some("webauthn.failed"),
            ),
            None => ctx.error(StatusCode::BAD_REQUEST, "error.session"),
        };
    };
    if user.state != UserState::Active {
        return ctx.error(StatusCode::BAD_REQUEST, "error.user_inactive");
    }
    let sid = create_session(&mut model, &user.id, &ctx.agent);
    if let Some(s) = model.sessions.get_mut(&sid) {
        s.webauthn.verified_at = Some(t);
        s.webauthn.user_verified = true;
        s.webauthn.passkey = true;
        s.changed = t;
    }
    complete(&shared, &mut model, &ctx, &flow, &sid)
}
