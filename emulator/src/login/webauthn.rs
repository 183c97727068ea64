//! WebAuthn pages of the hosted login: a U2F security key as second factor,
//! passwordless login with a passkey, and both as MFA set-up choices. The
//! browser side is `webauthn.js`, served from this module and allowed by a
//! per-page CSP nonce.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{
    BASE, Ctx, Flow, check_csrf, complete, factor_allowed, first_factor_done, offers_passkey,
    own_session, query,
};
use crate::model::{SECOND_FACTOR_U2F, Session, State as Model, WebAuthnKind};
use crate::server::{AppState, Shared};
use crate::util::{form_get, html_escape, now, parse_form, random_token};

/// The script of the WebAuthn pages.
const SCRIPT: &str = include_str!("webauthn.js");

/// `GET /ui/v2/login/webauthn.js`.
pub(super) async fn script() -> Response {
    let mut resp = SCRIPT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// What a WebAuthn page does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// U2F security key as second factor after the password.
    SecondFactor,
    /// Passkey instead of the password.
    Passwordless,
    /// Register a U2F security key (MFA set-up).
    SetU2f,
    /// Register a passkey (MFA set-up).
    SetPasskey,
}

impl Purpose {
    fn path(self) -> &'static str {
        match self {
            Self::SecondFactor => "u2f",
            Self::Passwordless => "passkey",
            Self::SetU2f => "u2f/set",
            Self::SetPasskey => "passkey/set",
        }
    }

    fn kind(self) -> WebAuthnKind {
        match self {
            Self::SecondFactor | Self::SetU2f => WebAuthnKind::U2f,
            Self::Passwordless | Self::SetPasskey => WebAuthnKind::Passkey,
        }
    }

    fn registers(self) -> bool {
        matches!(self, Self::SetU2f | Self::SetPasskey)
    }

    /// (title, description, button) keys.
    fn texts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::SecondFactor => ("u2f.title", "u2f.description", "u2f.start"),
            Self::Passwordless => ("passkey.title", "passkey.description", "passkey.start"),
            Self::SetU2f => ("u2f.title", "u2f.set_description", "u2f.create"),
            Self::SetPasskey => ("passkey.title", "passkey.set_description", "passkey.create"),
        }
    }

    /// Whether the session may use this page: the password (or IdP) first,
    /// except for the passwordless login, which needs only the user, a
    /// passkey and a login policy that allows it; security keys and passkeys
    /// only as far as the login policy allows them.
    fn allows(self, s: &Session, model: &Model) -> bool {
        match self {
            Self::Passwordless => offers_passkey(model, &s.user_id),
            Self::SecondFactor | Self::SetU2f => {
                first_factor_done(s) && factor_allowed(model, s, SECOND_FACTOR_U2F)
            }
            Self::SetPasskey => {
                first_factor_done(s)
                    && model
                        .user(&s.user_id)
                        .is_some_and(|u| model.login_policy_of(&u.org_id).0.allows_passkey())
            }
        }
    }
}

/// Renders a WebAuthn page; `ids` are the request and session ids.
fn render(
    ctx: &Ctx,
    purpose: Purpose,
    (rid, sid): (&str, &str),
    token: &str,
    options: &Value,
    error: Option<&str>,
    extra: &str,
) -> Response {
    let (title, desc, button) = purpose.texts();
    let nonce = random_token(18);
    let body = format!(
        "<p>{desc}</p><form id=\"webauthn-form\" method=\"post\" action=\"{BASE}/{path}\" \
         data-mode=\"{mode}\" data-options=\"{options}\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <input type=\"hidden\" name=\"credential\" value=\"\">{err}\
         <p id=\"webauthn-failed\" class=\"error\" role=\"alert\" hidden>{failed}</p>\
         <button type=\"button\" id=\"webauthn-start\">{button}</button></form>{extra}\
         <script nonce=\"{nonce}\" src=\"{BASE}/webauthn.js\"></script>",
        desc = html_escape(ctx.t(desc)),
        path = purpose.path(),
        mode = if purpose.registers() { "create" } else { "get" },
        options = html_escape(&options.to_string()),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        sid = html_escape(sid),
        token = html_escape(token),
        err = ctx.alert(error),
        failed = html_escape(ctx.t("webauthn.failed")),
        button = html_escape(ctx.t(button)),
    );
    ctx.page_with_script(super::form_status(error), ctx.t(title), &body, &nonce)
}

/// Starts the ceremony for `purpose` on session `sid`: a challenge on the
/// session, or a pending registration. Returns the token id (registrations
/// only) and the options.
fn begin(
    shared: &Shared,
    model: &mut Model,
    purpose: Purpose,
    sid: &str,
) -> Option<(String, Value)> {
    let mut session = model.sessions.get(sid).cloned()?;
    if purpose.registers() {
        return crate::api::webauthn::start(
            model,
            &shared.issuer,
            &session.user_id,
            purpose.kind(),
            "",
            None,
            None,
        )
        .ok();
    }
    let options =
        crate::webauthn::begin_login(model, &mut session, &shared.issuer, "", purpose.kind())
            .ok()?;
    model.sessions.insert(session.id.clone(), session);
    Some((String::new(), options))
}

/// `GET` of a WebAuthn page.
pub(super) async fn page(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    purpose: Purpose,
) -> Response {
    let q = query(q);
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let sid = form_get(&q, "sessionId").unwrap_or_default().to_owned();
    if own_session(&model, &ctx, &sid).is_none_or(|s| !purpose.allows(&s, &model)) {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    }
    let Some((token, options)) = begin(&shared, &mut model, purpose, &sid) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    render(
        &ctx,
        purpose,
        (&flow.request_id(), &sid),
        &token,
        &options,
        None,
        &second_factor_extra(&model, &ctx, purpose, &flow.request_id(), &sid),
    )
}

/// The recovery-code link under the security-key step, if the user has codes.
fn second_factor_extra(model: &Model, ctx: &Ctx, purpose: Purpose, rid: &str, sid: &str) -> String {
    if purpose == Purpose::SecondFactor {
        super::recovery_offer(model, ctx, rid, sid)
    } else {
        String::new()
    }
}

/// `POST` of a WebAuthn page: verifies the credential, then finishes the
/// login.
pub(super) async fn submit(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    purpose: Purpose,
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
    let sid = form_get(&form, "sessionId").unwrap_or_default().to_owned();
    let Some(mut session) = own_session(&model, &ctx, &sid).filter(|s| purpose.allows(s, &model))
    else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if let Some(resp) = super::unless_active(&model, &ctx, &session) {
        return resp;
    }
    let credential: Value = serde_json::from_str(form_get(&form, "credential").unwrap_or_default())
        .unwrap_or(Value::Null);
    let result = if purpose.registers() {
        let name = match purpose.kind() {
            WebAuthnKind::U2f => "Security key",
            WebAuthnKind::Passkey => "Passkey",
        };
        crate::api::webauthn::finish(
            &mut model,
            &shared.issuer,
            &session.user_id,
            purpose.kind(),
            form_get(&form, "token").unwrap_or_default(),
            &credential,
            name.to_owned(),
        )
        .map(|()| {
            // The new key was just used with the user present.
            let t = now();
            session.webauthn.verified_at = Some(t);
            session.webauthn.passkey = false;
            session.changed = t;
        })
    } else {
        crate::webauthn::finish_login(&mut model, &mut session, &shared.issuer, &credential)
    };
    if result.is_err() {
        let Some((token, options)) = begin(&shared, &mut model, purpose, &sid) else {
            return ctx.error(StatusCode::BAD_REQUEST, "error.session");
        };
        return render(
            &ctx,
            purpose,
            (&flow.request_id(), &sid),
            &token,
            &options,
            Some("webauthn.failed"),
            &second_factor_extra(&model, &ctx, purpose, &flow.request_id(), &sid),
        );
    }
    model.sessions.insert(sid.clone(), session);
    complete(&shared, &mut model, &ctx, &flow, &sid)
}
