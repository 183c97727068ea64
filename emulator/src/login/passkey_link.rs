//! The page behind a passkey registration link
//! (`/ui/v2/login/passkey/set?userId=…&orgId=…&codeId=…&code=…`, the default
//! of `POST /v2/users/{id}/passkeys/registration_link` with `sendLink`).
//!
//! Opened outside any login: the code stands in for a login. The page runs
//! `navigator.credentials.create` through `webauthn.js`; the code is spent
//! only when the passkey has been verified, so a failed attempt can be
//! repeated. A wrong, used or expired code shows an error page.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::webauthn::Purpose;
use super::{BASE, Ctx, check_csrf, query};
use crate::model::{State as Model, UserState, WebAuthnKind};
use crate::server::{AppState, Shared};
use crate::util::{form_get, html_escape, parse_form, random_token};

/// Whether a request to `/passkey/set` comes from a registration link
/// rather than a login flow.
fn is_link(params: &[(String, String)]) -> bool {
    form_get(params, "requestId").is_none() && form_get(params, "codeId").is_some()
}

/// `GET /ui/v2/login/passkey/set`: the link page, or the MFA set-up step.
pub(super) async fn set_page(
    state: State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let params = query(q.clone());
    if !is_link(&params) {
        return super::webauthn::page(state, headers, RawQuery(q), Purpose::SetPasskey).await;
    }
    let State(shared) = state;
    let mut model = shared.lock();
    let ctx = Ctx::new(&shared, &model, &headers, None, &[]);
    let link = Link::from(&params);
    if !link.valid(&model) {
        return ctx.error(StatusCode::BAD_REQUEST, "passkey_link.invalid");
    }
    match start(&shared, &mut model, &link) {
        Some((token, options)) => render(&ctx, &link, &token, &options, None),
        None => ctx.error(StatusCode::BAD_REQUEST, "passkey_link.invalid"),
    }
}

/// `POST /ui/v2/login/passkey/set`: the link page's credential, or the MFA
/// set-up step.
pub(super) async fn set_submit(
    state: State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    if !is_link(&form) {
        return super::webauthn::submit(state, headers, body, Purpose::SetPasskey).await;
    }
    let State(shared) = state;
    let mut model = shared.lock();
    let ctx = Ctx::new(&shared, &model, &headers, None, &[]);
    if let Some(resp) = check_csrf(&shared, &ctx, &form) {
        return resp;
    }
    let link = Link::from(&form);
    if !link.valid(&model) {
        return ctx.error(StatusCode::BAD_REQUEST, "passkey_link.invalid");
    }
    let credential: Value = serde_json::from_str(form_get(&form, "credential").unwrap_or_default())
        .unwrap_or(Value::Null);
    let finished = crate::api::webauthn::finish(
        &mut model,
        &shared.issuer,
        &link.user_id,
        WebAuthnKind::Passkey,
        form_get(&form, "token").unwrap_or_default(),
        &credential,
        "Passkey".to_owned(),
    );
    if finished.is_err() {
        return match start(&shared, &mut model, &link) {
            Some((token, options)) => {
                render(&ctx, &link, &token, &options, Some("webauthn.failed"))
            }
            None => ctx.error(StatusCode::BAD_REQUEST, "passkey_link.invalid"),
        };
    }
    // Spend the code.
    if let Some(h) = model
        .users
        .iter_mut()
        .find(|u| u.id == link.user_id)
        .and_then(|u| match &mut u.kind {
            crate::model::UserKind::Human(h) => Some(h),
            crate::model::UserKind::Machine(_) => None,
        })
    {
        h.passkey_codes.retain(|c| c.id != link.code_id);
    }
    ctx.page(
        StatusCode::OK,
        ctx.t("passkey_link.done_title"),
        &format!(
            "<p id=\"result\">{}</p>",
            html_escape(ctx.t("passkey_link.done"))
        ),
    )
}

/// The parameters of a registration link.
struct Link {
    user_id: String,
    org_id: String,
    code_id: String,
    code: String,
}

impl Link {
    fn from(params: &[(String, String)]) -> Self {
        let get = |k| form_get(params, k).unwrap_or_default().to_owned();
        Self {
            user_id: get("userId"),
            org_id: get("orgId"),
            code_id: get("codeId"),
            code: get("code"),
        }
    }

    /// The user is an active human with this unexpired, unused code.
    fn valid(&self, model: &Model) -> bool {
        model
            .user(&self.user_id)
            .filter(|u| u.state == UserState::Active)
            .and_then(|u| u.human())
            .is_some_and(|h| {
                h.passkey_codes
                    .iter()
                    .any(|c| c.id == self.code_id && c.code.matches(&self.code))
            })
    }
}

fn start(shared: &Shared, model: &mut Model, link: &Link) -> Option<(String, Value)> {
    crate::api::webauthn::start(
        model,
        &shared.issuer,
        &link.user_id,
        WebAuthnKind::Passkey,
        "",
        None,
        None,
    )
    .ok()
}

fn render(ctx: &Ctx, link: &Link, token: &str, options: &Value, error: Option<&str>) -> Response {
    let nonce = random_token(18);
    let body = format!(
        "<p>{desc}</p><form id=\"webauthn-form\" method=\"post\" action=\"{BASE}/passkey/set\" \
         data-mode=\"create\" data-options=\"{options}\">{csrf}\
         <input type=\"hidden\" name=\"userId\" value=\"{user}\">\
         <input type=\"hidden\" name=\"orgId\" value=\"{org}\">\
         <input type=\"hidden\" name=\"codeId\" value=\"{code_id}\">\
         <input type=\"hidden\" name=\"code\" value=\"{code}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <input type=\"hidden\" name=\"credential\" value=\"\">{err}\
         <p id=\"webauthn-failed\" class=\"error\" role=\"alert\" hidden>{failed}</p>\
         <button type=\"button\" id=\"webauthn-start\">{button}</button></form>\
         <script nonce=\"{nonce}\" src=\"{BASE}/webauthn.js\"></script>",
        desc = html_escape(ctx.t("passkey.set_description")),
        options = html_escape(&options.to_string()),
        csrf = ctx.hidden_csrf(),
        user = html_escape(&link.user_id),
        org = html_escape(&link.org_id),
        code_id = html_escape(&link.code_id),
        code = html_escape(&link.code),
        token = html_escape(token),
        err = ctx.alert(error),
        failed = html_escape(ctx.t("webauthn.failed")),
        button = html_escape(ctx.t("passkey.create")),
    );
    ctx.page_with_script(
        super::form_status(error),
        ctx.t("passkey.title"),
        &body,
        &nonce,
    )
}
