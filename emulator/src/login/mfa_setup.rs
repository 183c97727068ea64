//! MFA set-up when the login policy forces MFA: TOTP (secret shown, code
//! verified) or one-time codes by email.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{
    BASE, Ctx, Flow, OtpChannel, check_csrf, complete, first_factor_done, mfa_forced, own_session,
    page_url, query, see_other, send_otp,
};
use crate::model::{
    SECOND_FACTOR_OTP, SECOND_FACTOR_OTP_EMAIL, SECOND_FACTOR_U2F, State as Model, TotpFactor,
    UserKind,
};
use crate::server::AppState;
use crate::util::{encode_query, form_get, html_escape, now, parse_form};

/// The user's pending TOTP secret, created on first use.
fn pending_secret(model: &mut Model, user_id: &str) -> Option<String> {
    let user = model.users.iter_mut().find(|u| u.id == user_id)?;
    let UserKind::Human(h) = &mut user.kind else {
        return None;
    };
    if h.totp.as_ref().is_none_or(|t| t.ready) {
        h.totp = Some(TotpFactor {
            secret: crate::totp::new_secret(),
            ready: false,
        });
    }
    h.totp.as_ref().map(|t| t.secret.clone())
}

/// The options of the set-up page: the second factors the org's login
/// policy allows.
#[derive(Debug, Clone, Copy)]
struct Choices {
    /// A TOTP app (secret shown, code verified).
    totp: bool,
    /// One-time codes by email instead (the email is verified).
    email: bool,
    /// A security key.
    u2f: bool,
    /// A passkey.
    passkey: bool,
    /// Skip the prompt (MFA is not forced).
    skip: bool,
}

impl Choices {
    fn of(model: &Model, user: &crate::model::User, sid: &str) -> Self {
        let policy = model.login_policy_of(&user.org_id).0;
        Self {
            totp: policy.allows(SECOND_FACTOR_OTP),
            email: policy.allows(SECOND_FACTOR_OTP_EMAIL)
                && user.human().is_some_and(|h| h.email_verified),
            u2f: policy.allows(SECOND_FACTOR_U2F),
            passkey: policy.allows_passkey(),
            skip: !mfa_forced(model, &user.id, sid),
        }
    }
}

fn render(
    ctx: &Ctx,
    rid: &str,
    sid: &str,
    secret: &str,
    uri: &str,
    choices: Choices,
    error: Option<&str>,
) -> Response {
    let Choices {
        totp,
        email: email_option,
        u2f,
        passkey,
        skip,
    } = choices;
    let err = ctx.alert(error);
    let hidden = format!(
        "{csrf}<input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">",
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        sid = html_escape(sid),
    );
    let email = if email_option {
        format!(
            "<form method=\"post\" action=\"{BASE}/mfa/set\">{hidden}\
             <input type=\"hidden\" name=\"action\" value=\"email\">\
             <button type=\"submit\" class=\"secondary\">{}</button></form>",
            html_escape(ctx.t("mfa.email"))
        )
    } else {
        String::new()
    };
    let webauthn: String = [
        (u2f, "u2f/set", "mfa.u2f", "mfa-u2f"),
        (passkey, "passkey/set", "mfa.passkey", "mfa-passkey"),
    ]
    .iter()
    .filter(|(offered, ..)| *offered)
    .map(|(_, path, key, id)| {
        format!(
            "<form method=\"get\" action=\"{BASE}/{path}\">\
                 <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
                 <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
                 <button type=\"submit\" id=\"{id}\" class=\"secondary\">{}</button></form>",
            html_escape(ctx.t(key)),
            rid = html_escape(rid),
            sid = html_escape(sid),
        )
    })
    .collect();
    let skip = if skip {
        format!(
            "<form method=\"post\" action=\"{BASE}/mfa/set\">{hidden}\
             <input type=\"hidden\" name=\"action\" value=\"skip\">\
             <button type=\"submit\" id=\"mfa-skip\" class=\"secondary\">{}</button></form>",
            html_escape(ctx.t("mfa.skip"))
        )
    } else {
        String::new()
    };
    let totp = if totp {
        format!(
            "<p><code id=\"totp-secret\">{secret}</code></p><p><small id=\"totp-uri\">{uri}</small></p>\
             <form method=\"post\" action=\"{BASE}/mfa/set\">{hidden}\
             <input type=\"hidden\" name=\"action\" value=\"totp\">\
             <label for=\"code\">{label}</label>\
             <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus required>\
             {err}<button type=\"submit\">{next}</button></form>",
            secret = html_escape(secret),
            uri = html_escape(uri),
            label = html_escape(ctx.t("verify.label")),
            next = html_escape(ctx.t("next")),
        )
    } else {
        err
    };
    let body = format!(
        "<p>{desc}</p>{totp}{email}{webauthn}{skip}",
        desc = html_escape(ctx.t(if skip.is_empty() {
            "mfa.description"
        } else {
            "mfa.description_optional"
        })),
    );
    ctx.page(super::form_status(error), ctx.t("mfa.title"), &body)
}

fn otpauth_uri(shared: &crate::server::Shared, login: &str, secret: &str) -> String {
    let host = url::Url::parse(&shared.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "otpauth://totp/{host}:{login}?{}",
        encode_query(&[("secret", secret), ("issuer", &host)])
    )
}

pub(super) async fn mfa_set_page(
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
    let sid = form_get(&q, "sessionId").unwrap_or_default().to_owned();
    let Some(session) = own_session(&model, &ctx, &sid).filter(first_factor_done) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let Some(user) = model.user(&session.user_id).cloned() else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let choices = Choices::of(&model, &user, &sid);
    // A TOTP secret only when the policy allows TOTP (a ready TOTP the
    // policy does not allow stays untouched).
    let secret = if choices.totp {
        let Some(secret) = pending_secret(&mut model, &user.id) else {
            return ctx.error(StatusCode::BAD_REQUEST, "error.session");
        };
        secret
    } else {
        String::new()
    };
    let login = model.login_name(&user);
    render(
        &ctx,
        &flow.request_id(),
        &sid,
        &secret,
        &otpauth_uri(&shared, &login, &secret),
        choices,
        None,
    )
}

pub(super) async fn mfa_set_submit(
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
    let Some(user) = model.user(&session.user_id).cloned() else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if form_get(&form, "action") == Some("skip") {
        // Only a prompt may be skipped, not MFA the policy forces.
        if mfa_forced(&model, &user.id, &sid) {
            return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
        }
        if let Some(u) = model.users.iter_mut().find(|u| u.id == user.id)
            && let UserKind::Human(h) = &mut u.kind
        {
            h.mfa_init_skipped_at = Some(now());
        }
        return complete(&shared, &mut model, &ctx, &flow, &sid);
    }
    let choices = Choices::of(&model, &user, &sid);
    if form_get(&form, "action") == Some("email") {
        if !choices.email {
            return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
        }
        if let Some(u) = model.users.iter_mut().find(|u| u.id == user.id)
            && let UserKind::Human(h) = &mut u.kind
        {
            h.otp_email = true;
        }
        send_otp(&mut model, &sid, OtpChannel::Email);
        return see_other(&page_url(
            OtpChannel::Email.path(),
            &[("requestId", &rid), ("sessionId", &sid)],
        ));
    }
    let secret = user
        .human()
        .and_then(|h| h.totp.as_ref())
        .filter(|t| !t.ready && choices.totp)
        .map(|t| t.secret.clone());
    let Some(secret) = secret else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let t = now();
    if !crate::totp::verify(&secret, form_get(&form, "code").unwrap_or_default(), t) {
        let login = model.login_name(&user);
        return render(
            &ctx,
            &rid,
            &sid,
            &secret,
            &otpauth_uri(&shared, &login, &secret),
            choices,
            Some("error.code_invalid"),
        );
    }
    if let Some(u) = model.users.iter_mut().find(|u| u.id == user.id)
        && let UserKind::Human(h) = &mut u.kind
        && let Some(totp) = h.totp.as_mut()
    {
        totp.ready = true;
    }
    if let Some(s) = model.sessions.get_mut(&sid) {
        s.totp_verified_at = Some(t);
        s.changed = t;
    }
    complete(&shared, &mut model, &ctx, &flow, &sid)
}
