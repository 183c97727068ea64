//! Hosted login pages (server-rendered HTML) under `/ui/v2/login/`.
//!
//! The browser is identified by a random user-agent cookie (`zemu_ua`);
//! sessions created here are bound to it. Every form carries a CSRF token
//! derived from that cookie and the instance secret; a POST without a
//! matching token is rejected with 403.

mod discover;
mod i18n;
mod idp;
mod mfa_setup;
mod passkey_link;
mod recovery;
mod register;
mod reset;
mod webauthn;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::factors::{Check, Failure, OtpChannel, new_otp_challenge};
use crate::model::{
    DeviceState, Prompt, SECOND_FACTOR_OTP, SECOND_FACTOR_OTP_EMAIL, SECOND_FACTOR_OTP_SMS,
    SECOND_FACTOR_U2F, Session, State as Model, UserState,
};
use crate::oidc::{finish_auth_request, session_satisfies};
use crate::server::{AppState, Shared};
use crate::util::{
    ct_eq, encode_query, form_get, html_escape, now, parse_form, random_token, sha256_hex,
};
use i18n::{Lang, t};
use idp::{idp_failure, idp_start, idp_success};
use mfa_setup::{mfa_set_page, mfa_set_submit};
use recovery::{recovery_offer, recovery_page, recovery_submit};
use register::{register_page, register_submit, verify_page, verify_submit};
use reset::{reset_request, set_password_page, set_password_submit};
use webauthn::Purpose;

const UA_COOKIE: &str = "zemu_ua";
const BASE: &str = "/ui/v2/login";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/login"), get(entry))
        .route(
            &format!("{BASE}/loginname"),
            get(loginname_page).post(loginname_submit),
        )
        .route(
            &format!("{BASE}/password"),
            get(password_page).post(password_submit),
        )
        .route(
            &format!("{BASE}/accounts"),
            get(accounts_page).post(accounts_submit),
        )
        .route(
            &format!("{BASE}/register"),
            get(register_page).post(register_submit),
        )
        .route(
            &format!("{BASE}/verify"),
            get(verify_page).post(verify_submit),
        )
        .route(
            &format!("{BASE}/otp/time-based"),
            get(totp_page).post(totp_submit),
        )
        .route(
            &format!("{BASE}/otp/email"),
            get(|s, h, q| otp_page(s, h, q, OtpChannel::Email))
                .post(|s, h, b| otp_submit(s, h, b, OtpChannel::Email)),
        )
        .route(
            &format!("{BASE}/otp/sms"),
            get(|s, h, q| otp_page(s, h, q, OtpChannel::Sms))
                .post(|s, h, b| otp_submit(s, h, b, OtpChannel::Sms)),
        )
        .route(
            &format!("{BASE}/recovery"),
            get(recovery_page).post(recovery_submit),
        )
        .route(
            &format!("{BASE}/password/reset"),
            axum::routing::post(reset_request),
        )
        .route(
            &format!("{BASE}/password/set"),
            get(set_password_page).post(set_password_submit),
        )
        .route(&format!("{BASE}/idp/start"), axum::routing::post(idp_start))
        .route(&format!("{BASE}/idp/success"), get(idp_success))
        .route(
            &format!("{BASE}/idp/register"),
            axum::routing::post(idp::idp_register),
        )
        .route(
            &format!("{BASE}/idp/link"),
            axum::routing::post(idp::idp_link),
        )
        .route(&format!("{BASE}/idp/failure"), get(idp_failure))
        .route(
            &format!("{BASE}/mfa/set"),
            get(mfa_set_page).post(mfa_set_submit),
        )
        .route("/device", get(device_redirect))
        .route(
            &format!("{BASE}/device"),
            get(device_page).post(device_submit),
        )
        .route(
            &format!("{BASE}/device/consent"),
            get(consent_page).post(consent_submit),
        )
        .route(
            &format!("{BASE}/logout"),
            get(logout_page).post(logout_submit),
        )
        .route(&format!("{BASE}/logout/done"), get(logout_done))
        .route(&format!("{BASE}/signedin"), get(signed_in))
        .route(&format!("{BASE}/webauthn.js"), get(webauthn::script))
        .route(
            &format!("{BASE}/u2f"),
            get(|s, h, q| webauthn::page(s, h, q, Purpose::SecondFactor))
                .post(|s, h, b| webauthn::submit(s, h, b, Purpose::SecondFactor)),
        )
        .route(
            &format!("{BASE}/passkey"),
            get(|s, h, q| webauthn::page(s, h, q, Purpose::Passwordless))
                .post(|s, h, b| webauthn::submit(s, h, b, Purpose::Passwordless)),
        )
        .route(
            &format!("{BASE}/passkey/discover"),
            get(discover::discover_page).post(discover::discover_submit),
        )
        .route(
            &format!("{BASE}/u2f/set"),
            get(|s, h, q| webauthn::page(s, h, q, Purpose::SetU2f))
                .post(|s, h, b| webauthn::submit(s, h, b, Purpose::SetU2f)),
        )
        .route(
            &format!("{BASE}/passkey/set"),
            get(passkey_link::set_page).post(passkey_link::set_submit),
        )
}

/// The browser's user-agent id from the `zemu_ua` cookie.
pub(crate) fn user_agent_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == UA_COOKIE && !v.is_empty() && v.len() <= 64)
        .map(|(_, v)| v.to_owned())
}

fn csrf_token(shared: &Shared, agent: &str) -> String {
    sha256_hex(&format!("{}:{agent}", shared.csrf_secret))
}

/// The login flow a page belongs to: an OIDC auth request or a device request.
#[derive(Debug, Clone)]
enum Flow {
    Oidc {
        id: String,
        org_id: Option<String>,
        ui_locales: Vec<String>,
        login_hint: Option<String>,
        prompt: Vec<Prompt>,
        max_age: Option<i64>,
    },
    Device {
        id: String,
        org_id: Option<String>,
        ui_locales: Vec<String>,
    },
}

impl Flow {
    /// The `requestId` value used in page URLs.
    fn request_id(&self) -> String {
        match self {
            Self::Oidc { id, .. } => format!("oidc_{id}"),
            Self::Device { id, .. } => format!("device_{id}"),
        }
    }

    fn org_id(&self) -> Option<&str> {
        match self {
            Self::Oidc { org_id, .. } | Self::Device { org_id, .. } => org_id.as_deref(),
        }
    }

    fn max_age(&self) -> Option<i64> {
        match self {
            Self::Oidc { max_age, .. } => *max_age,
            Self::Device { .. } => None,
        }
    }

    fn resolve(model: &Model, request_id: &str) -> Option<Self> {
        if let Some(id) = request_id.strip_prefix("oidc_") {
            let ar = model.auth_requests.get(id).filter(|a| !a.handled)?;
            return Some(Self::Oidc {
                id: ar.id.clone(),
                org_id: ar.org_id.clone(),
                ui_locales: ar.ui_locales.clone(),
                login_hint: ar.login_hint.clone(),
                prompt: ar.prompt.clone(),
                max_age: ar.max_age,
            });
        }
        let id = request_id.strip_prefix("device_")?;
        let scopes_org = |scopes: &[String]| crate::oidc::scoped_org(model, scopes).ok().flatten();
        model
            .device_requests
            .iter()
            .find(|d| d.id == id && d.state == DeviceState::Pending && d.expires > now())
            .map(|d| Self::Device {
                id: d.id.clone(),
                org_id: scopes_org(&d.scopes),
                ui_locales: d.ui_locales.clone(),
            })
    }
}

/// Per-request page context: language, browser id, CSRF token, branding.
struct Ctx {
    lang: Lang,
    agent: String,
    new_agent: bool,
    csrf: String,
    brand: String,
    org_name: String,
    /// Whether the org's login policy allows registration.
    allow_register: bool,
    /// Whether the org's login policy hides the password reset.
    hide_password_reset: bool,
    /// External IdPs offered on the login page: (id, name).
    idp_buttons: Vec<(String, String)>,
    /// Whether the org's login policy allows passwordless (passkey) logins.
    passwordless: bool,
}

impl Ctx {
    fn new(
        shared: &Shared,
        model: &Model,
        headers: &HeaderMap,
        flow: Option<&Flow>,
        extra_locales: &[String],
    ) -> Self {
        let (agent, new_agent) = match user_agent_id(headers) {
            Some(a) => (a, false),
            None => (random_token(24), true),
        };
        let mut locales: Vec<String> = extra_locales.to_vec();
        if let Some(Flow::Oidc { ui_locales, .. } | Flow::Device { ui_locales, .. }) = flow {
            locales.extend(ui_locales.iter().cloned());
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let org = flow
            .and_then(Flow::org_id)
            .and_then(|o| model.org(o))
            .or_else(|| model.org(&model.default_org_id));
        Self {
            lang: Lang::choose(&locales, accept),
            csrf: csrf_token(shared, &agent),
            agent,
            new_agent,
            brand: org
                .map(|o| model.branding_of(&o.id).0.primary_color)
                .unwrap_or_else(|| "#5469d4".to_owned()),
            org_name: org.map(|o| o.name.clone()).unwrap_or_default(),
            allow_register: org.is_none_or(|o| model.login_policy_of(&o.id).0.allow_register),
            hide_password_reset: org
                .is_some_and(|o| model.login_policy_of(&o.id).0.hide_password_reset),
            passwordless: org.is_some_and(|o| model.login_policy_of(&o.id).0.allows_passkey()),
            idp_buttons: match org {
                Some(o) if model.login_policy_of(&o.id).0.allow_external_idp => model
                    .active_idps(&o.id)
                    .into_iter()
                    .map(|i| (i.id.clone(), i.name.clone()))
                    .collect(),
                Some(_) => Vec::new(),
                None => model
                    .idps
                    .iter()
                    .filter(|i| i.org_id.is_none())
                    .map(|i| (i.id.clone(), i.name.clone()))
                    .collect(),
            },
        }
    }

    fn t(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }

    /// The translated error paragraph of a form page, or nothing.
    fn alert(&self, error: Option<&str>) -> String {
        error
            .map(|e| {
                format!(
                    "<p class=\"error\" role=\"alert\">{}</p>",
                    html_escape(self.t(e))
                )
            })
            .unwrap_or_default()
    }

    fn hidden_csrf(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            html_escape(&self.csrf)
        )
    }

    /// Renders a page with the layout, setting the user-agent cookie if new.
    fn page(&self, status: StatusCode, title: &str, body: &str) -> Response {
        self.render_page(status, title, body, None)
    }

    /// Like [`Self::page`], allowing the scripts that carry `nonce`.
    fn page_with_script(
        &self,
        status: StatusCode,
        title: &str,
        body: &str,
        nonce: &str,
    ) -> Response {
        self.render_page(status, title, body, Some(nonce))
    }

    fn render_page(
        &self,
        status: StatusCode,
        title: &str,
        body: &str,
        script_nonce: Option<&str>,
    ) -> Response {
        let color = if is_css_color(&self.brand) {
            self.brand.as_str()
        } else {
            "#5469d4"
        };
        let html = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>\
             body{{font-family:system-ui,sans-serif;background:#f5f5f7;margin:0}}\
             main{{max-width:420px;margin:48px auto;background:#fff;padding:32px;border-radius:12px;box-shadow:0 2px 8px #0002}}\
             .org{{color:{color};font-weight:600;letter-spacing:.05em;text-transform:uppercase;font-size:.8em}}\
             label{{display:block;margin:16px 0 4px}}input[type=text],input[type=password],input[type=email]{{width:100%;padding:8px;box-sizing:border-box}}\
             button{{margin-top:16px;padding:8px 16px;background:{color};color:#fff;border:0;border-radius:6px;cursor:pointer}}\
             button.secondary{{background:#888}}.error{{color:#b00020;margin-top:12px}}\
             code,small{{overflow-wrap:anywhere}}code{{font-size:1.1em;background:#f0f0f3;padding:2px 6px;border-radius:4px}}\
             </style></head><body><main><div class=\"org\">{org}</div><h1>{title}</h1>{body}</main></body></html>",
            lang = self.lang.code(),
            title = html_escape(title),
            org = html_escape(&self.org_name),
        );
        let mut resp = (status, Html(html)).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // No form-action: a login form's redirect may go to a native app's custom scheme.
        let csp = match script_nonce {
            Some(n)
                if n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                format!(
                    "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{n}'; frame-ancestors 'none'"
                )
            }
            _ => "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".to_owned(),
        };
        if let Ok(v) = HeaderValue::from_str(&csp) {
            headers.insert("content-security-policy", v);
        }
        self.with_agent_cookie(resp)
    }

    /// Sets the user-agent cookie on a response if the browser had none.
    fn with_agent_cookie(&self, mut resp: Response) -> Response {
        if self.new_agent
            && let Ok(v) = HeaderValue::from_str(&format!(
                "{UA_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
                self.agent
            ))
        {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
        resp
    }

    fn error(&self, status: StatusCode, key: &str) -> Response {
        self.page(
            status,
            self.t("error.title"),
            &format!("<p class=\"error\">{}</p>", html_escape(self.t(key))),
        )
    }

    /// An error page with a link back to the login of `flow`, which is
    /// still open (e.g. after a failed or cancelled external login).
    fn error_with_back(&self, status: StatusCode, key: &str, flow: &Flow) -> Response {
        self.page(
            status,
            self.t("error.title"),
            &format!(
                "<p class=\"error\" role=\"alert\">{}</p><p><a id=\"back\" href=\"{}\">{}</a></p>",
                html_escape(self.t(key)),
                html_escape(&page_url("loginname", &[("requestId", &flow.request_id())])),
                html_escape(self.t("back")),
            ),
        )
    }
}

fn is_css_color(s: &str) -> bool {
    s.len() <= 9 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn query(q: Option<String>) -> Vec<(String, String)> {
    parse_form(q.unwrap_or_default().as_bytes())
}

/// Checks the CSRF token of a form POST. `None` means the form is accepted.
fn check_csrf(shared: &Shared, ctx: &Ctx, form: &[(String, String)]) -> Option<Response> {
    let ok = !ctx.new_agent
        && form_get(form, "csrf").is_some_and(|c| ct_eq(c, &csrf_token(shared, &ctx.agent)));
    (!ok).then(|| ctx.error(StatusCode::FORBIDDEN, "error.csrf"))
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut resp = StatusCode::SEE_OTHER.into_response();
            resp.headers_mut().insert(header::LOCATION, v);
            resp
        }
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn page_url(path: &str, params: &[(&str, &str)]) -> String {
    format!("{BASE}/{path}?{}", encode_query(params))
}

// ---------------------------------------------------------------- entry

/// `GET /ui/v2/login/login?authRequest=V2_…` (or `?requestId=device_…`):
/// decides between single sign-on, the account picker and the login form.
async fn entry(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let request_id = match (form_get(&q, "authRequest"), form_get(&q, "requestId")) {
        (Some(ar), _) => format!("oidc_{ar}"),
        (None, Some(r)) => r.to_owned(),
        (None, None) => String::new(),
    };
    let mut model = shared.lock();
    let flow = Flow::resolve(&model, &request_id);
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let Some(flow) = flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let rid = flow.request_id();
    let (prompt, hint) = match &flow {
        Flow::Oidc {
            prompt, login_hint, ..
        } => (prompt.clone(), login_hint.clone()),
        Flow::Device { .. } => (Vec::new(), None),
    };
    if prompt.contains(&Prompt::Create) {
        return see_other(&page_url("register", &[("requestId", &rid)]));
    }
    if prompt.contains(&Prompt::Login) || flow.max_age() == Some(0) {
        return see_other(&page_url("loginname", &[("requestId", &rid)]));
    }
    if prompt.contains(&Prompt::SelectAccount) {
        return see_other(&page_url("accounts", &[("requestId", &rid)]));
    }
    let t = now();
    let mut usable: Vec<Session> = model
        .sessions_of_agent(&ctx.agent)
        .into_iter()
        .filter(|s| {
            model
                .user(&s.user_id)
                .is_some_and(|u| session_satisfies(&model, s, u, flow.org_id(), flow.max_age(), t))
        })
        .cloned()
        .collect();
    // A user who signed in again (prompt=login) has several sessions in this
    // browser: one account all the same, the newest session (they come newest first).
    let mut users = std::collections::HashSet::new();
    usable.retain(|s| users.insert(s.user_id.clone()));
    if let Some(hint) = hint
        && let Some(user) = model.find_user_by_login_name(&hint, flow.org_id()).cloned()
    {
        if let Some(s) = usable.iter().find(|s| s.user_id == user.id) {
            return complete(&shared, &mut model, &ctx, &flow, &s.id);
        }
        // The session is bound to this browser: a new one gets its cookie
        // with the redirect, or the password page would not find the session.
        let sid = create_session(&mut model, &user.id, &ctx.agent);
        return ctx.with_agent_cookie(see_other(&page_url(
            "password",
            &[("requestId", &rid), ("sessionId", &sid)],
        )));
    }
    match usable.as_slice() {
        [only] => {
            let sid = only.id.clone();
            complete(&shared, &mut model, &ctx, &flow, &sid)
        }
        [] => see_other(&page_url("loginname", &[("requestId", &rid)])),
        _ => see_other(&page_url("accounts", &[("requestId", &rid)])),
    }
}

fn create_session(model: &mut Model, user_id: &str, agent: &str) -> String {
    let id = model.ids.next();
    let t = now();
    model.sessions.insert(
        id.clone(),
        Session {
            id: id.clone(),
            user_id: user_id.to_owned(),
            user_agent_id: Some(agent.to_owned()),
            token_hash: sha256_hex(&random_token(32)),
            created: t,
            changed: t,
            user_verified_at: t,
            password_verified_at: None,
            terminated: false,
            expires: None,
            sequence: 0,
            creator_id: None,
            totp_verified_at: None,
            otp_email_challenge: None,
            otp_email_verified_at: None,
            otp_sms_challenge: None,
            otp_sms_verified_at: None,
            intent_verified_at: None,
            recovery_code_verified_at: None,
            unknown_login_name: None,
            webauthn: Default::default(),
            info: Default::default(),
        },
    );
    id
}

/// Finishes a flow with an authenticated session.
fn complete(
    shared: &Shared,
    model: &mut Model,
    ctx: &Ctx,
    flow: &Flow,
    session_id: &str,
) -> Response {
    match flow {
        Flow::Oidc { id, .. } => match finish_auth_request(model, &shared.issuer, id, session_id) {
            Ok(resp) => resp,
            Err(_) => ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid"),
        },
        Flow::Device { .. } => see_other(&page_url(
            "device/consent",
            &[("requestId", &flow.request_id()), ("sessionId", session_id)],
        )),
    }
}

// ---------------------------------------------------------------- login name

fn render_loginname(ctx: &Ctx, rid: &str, value: &str, error: Option<&str>) -> Response {
    let err = ctx.alert(error);
    let body = format!(
        "<p>{desc}</p><form method=\"post\" action=\"{BASE}/loginname\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <label for=\"loginName\">{label}</label>\
         <input type=\"text\" id=\"loginName\" name=\"loginName\" value=\"{value}\" autocomplete=\"username\" autofocus required>\
         {err}<button type=\"submit\">{next}</button></form>\
         {passkey}{idp}{register}",
        passkey = if ctx.passwordless {
            format!(
                "<form method=\"get\" action=\"{BASE}/passkey/discover\">\
                 <input type=\"hidden\" name=\"requestId\" value=\"{}\">\
                 <button type=\"submit\" id=\"passkey-discover\" class=\"secondary\">{}</button></form>",
                html_escape(rid),
                html_escape(ctx.t("passkey.start"))
            )
        } else {
            String::new()
        },
        idp = if ctx.idp_buttons.is_empty() {
            String::new()
        } else {
            ctx.idp_buttons
                .iter()
                .map(|(id, name)| {
                    format!(
                        "<form method=\"post\" action=\"{BASE}/idp/start\">{}\
                         <input type=\"hidden\" name=\"requestId\" value=\"{}\">\
                         <input type=\"hidden\" name=\"idpId\" value=\"{}\">\
                         <button type=\"submit\" class=\"secondary\">{} {}</button></form>",
                        ctx.hidden_csrf(),
                        html_escape(rid),
                        html_escape(id),
                        html_escape(ctx.t("idp.sign_in_with")),
                        html_escape(name)
                    )
                })
                .collect::<String>()
        },
        register = if ctx.allow_register {
            format!(
                "<p><a href=\"{}\">{}</a></p>",
                html_escape(&page_url("register", &[("requestId", rid)])),
                html_escape(ctx.t("register.link"))
            )
        } else {
            String::new()
        },
        desc = html_escape(ctx.t("login.description")),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        label = html_escape(ctx.t("loginname.label")),
        value = html_escape(value),
        next = html_escape(ctx.t("next")),
    );
    ctx.page(form_status(error), ctx.t("login.title"), &body)
}

async fn loginname_page(
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
    let hint = match &flow {
        Flow::Oidc { login_hint, .. } => login_hint.clone().unwrap_or_default(),
        Flow::Device { .. } => String::new(),
    };
    render_loginname(&ctx, &flow.request_id(), &hint, None)
}

async fn loginname_submit(
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
    let name = form_get(&form, "loginName").unwrap_or_default();
    let user = model
        .find_user_by_login_name(name, flow.org_id())
        .filter(|u| u.human().is_some())
        .cloned();
    let Some(user) = user else {
        let org = flow
            .org_id()
            .map(str::to_owned)
            .unwrap_or_else(|| model.default_org_id.clone());
        if model.login_policy_of(&org).0.ignore_unknown_usernames && !name.trim().is_empty() {
            // No user enumeration: go on to the password page, which fails
            // like a wrong password.
            let sid = create_session(&mut model, "", &ctx.agent);
            if let Some(s) = model.sessions.get_mut(&sid) {
                s.unknown_login_name = Some(name.to_owned());
            }
            return see_other(&page_url(
                "password",
                &[("requestId", &rid), ("sessionId", &sid)],
            ));
        }
        return render_loginname(&ctx, &rid, name, Some("error.user_not_found"));
    };
    if user.state == UserState::Locked {
        return render_loginname(&ctx, &rid, name, Some("error.user_locked"));
    }
    if user.state != UserState::Active {
        return render_loginname(&ctx, &rid, name, Some("error.user_inactive"));
    }
    let sid = create_session(&mut model, &user.id, &ctx.agent);
    see_other(&page_url(
        "password",
        &[("requestId", &rid), ("sessionId", &sid)],
    ))
}

// ---------------------------------------------------------------- password

fn render_password(
    ctx: &Ctx,
    rid: &str,
    sid: &str,
    login_name: &str,
    passkey: bool,
    error: Option<&str>,
) -> Response {
    let err = ctx.alert(error);
    let passkey = if passkey {
        format!(
            "<form method=\"get\" action=\"{BASE}/passkey\">\
             <input type=\"hidden\" name=\"requestId\" value=\"{}\">\
             <input type=\"hidden\" name=\"sessionId\" value=\"{}\">\
             <button type=\"submit\" id=\"passkey-login\" class=\"secondary\">{}</button></form>",
            html_escape(rid),
            html_escape(sid),
            html_escape(ctx.t("passkey.start"))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<p>{login}</p><p>{desc}</p><form method=\"post\" action=\"{BASE}/password\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
         <input type=\"text\" name=\"username\" value=\"{login}\" autocomplete=\"username\" hidden>\
         <label for=\"password\">{label}</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" autofocus required>\
         {err}<button type=\"submit\">{next}</button></form>{passkey}{reset}\
         <p><a id=\"other-user\" href=\"{other_href}\">{other}</a></p>",
        other_href = html_escape(&page_url("loginname", &[("requestId", rid)])),
        other = html_escape(ctx.t("accounts.other")),
        reset = if ctx.hide_password_reset {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"{BASE}/password/reset\">{}\
                 <input type=\"hidden\" name=\"requestId\" value=\"{}\">\
                 <input type=\"hidden\" name=\"sessionId\" value=\"{}\">\
                 <button type=\"submit\" class=\"secondary\">{}</button></form>",
                ctx.hidden_csrf(),
                html_escape(rid),
                html_escape(sid),
                html_escape(ctx.t("reset.link"))
            )
        },
        login = html_escape(login_name),
        desc = html_escape(ctx.t("password.description")),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        sid = html_escape(sid),
        label = html_escape(ctx.t("password.label")),
        next = html_escape(ctx.t("next")),
    );
    ctx.page(form_status(error), ctx.t("password.title"), &body)
}

/// Whether the password page offers the passkey login: the user has a
/// passkey and the login policy allows passwordless logins.
fn offers_passkey(model: &Model, user_id: &str) -> bool {
    model.user(user_id).is_some_and(|u| {
        u.human()
            .is_some_and(|h| h.has_webauthn(crate::model::WebAuthnKind::Passkey))
            && model.login_policy_of(&u.org_id).0.allows_passkey()
    })
}

/// The session of this browser named in a form or query, if it is usable.
fn own_session(model: &Model, ctx: &Ctx, sid: &str) -> Option<Session> {
    model
        .sessions
        .get(sid)
        .filter(|s| s.is_active(now()) && s.user_agent_id.as_deref() == Some(ctx.agent.as_str()))
        .cloned()
}

async fn password_page(
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
    let login = model
        .user(&session.user_id)
        .map(|u| model.login_name(u))
        .or_else(|| session.unknown_login_name.clone())
        .unwrap_or_default();
    render_password(
        &ctx,
        &flow.request_id(),
        sid,
        &login,
        offers_passkey(&model, &session.user_id),
        None,
    )
}

async fn password_submit(
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
    let sid = form_get(&form, "sessionId").unwrap_or_default();
    let Some(session) = own_session(&model, &ctx, sid) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if let Some(login) = &session.unknown_login_name {
        return render_password(
            &ctx,
            &flow.request_id(),
            sid,
            login,
            false,
            Some("error.password_invalid"),
        );
    }
    let Some(user) = model.user(&session.user_id).cloned() else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let login = model.login_name(&user);
    if user.state != UserState::Active {
        let key = if user.state == UserState::Locked {
            "error.user_locked"
        } else {
            "error.user_inactive"
        };
        return render_password(
            &ctx,
            &flow.request_id(),
            sid,
            &login,
            offers_passkey(&model, &user.id),
            Some(key),
        );
    }
    let password = form_get(&form, "password").unwrap_or_default();
    if let Err(failure) = model.verify_stored_factor(sid, Check::Password(password)) {
        return render_password(
            &ctx,
            &flow.request_id(),
            sid,
            &login,
            offers_passkey(&model, &user.id),
            Some(failure_key(failure, "error.password_invalid")),
        );
    }
    after_password(&shared, &mut model, &ctx, &flow, &user, sid)
}

/// After a successful password check: the second factor page, or done.
fn after_password(
    shared: &Shared,
    model: &mut Model,
    ctx: &Ctx,
    flow: &Flow,
    user: &crate::model::User,
    sid: &str,
) -> Response {
    // Only the second factors the org's login policy allows are asked for.
    let policy = model.login_policy_of(&user.org_id).0;
    if policy.allows(SECOND_FACTOR_U2F)
        && user
            .human()
            .is_some_and(|h| h.has_webauthn(crate::model::WebAuthnKind::U2f))
    {
        return see_other(&page_url(
            "u2f",
            &[("requestId", &flow.request_id()), ("sessionId", sid)],
        ));
    }
    if policy.allows(SECOND_FACTOR_OTP) && needs_totp(user) {
        return see_other(&page_url(
            "otp/time-based",
            &[("requestId", &flow.request_id()), ("sessionId", sid)],
        ));
    }
    let channel = match user.human() {
        Some(h) if h.otp_email && policy.allows(SECOND_FACTOR_OTP_EMAIL) => Some(OtpChannel::Email),
        Some(h) if h.otp_sms && policy.allows(SECOND_FACTOR_OTP_SMS) => Some(OtpChannel::Sms),
        _ => None,
    };
    if let Some(channel) = channel {
        send_otp(model, sid, channel);
        return see_other(&page_url(
            channel.path(),
            &[("requestId", &flow.request_id()), ("sessionId", sid)],
        ));
    }
    // The login policy may force MFA, or prompt for it (with a skip button):
    // set up a second factor first.
    if mfa_forced(model, &user.id, sid) || mfa_prompt_due(model, user) {
        return see_other(&page_url(
            "mfa/set",
            &[("requestId", &flow.request_id()), ("sessionId", sid)],
        ));
    }
    complete(shared, model, ctx, flow, sid)
}

/// Whether the login policy forces MFA for this login (`forceMfa`, or
/// `forceMfaLocalOnly` unless the session came through an external IdP).
fn mfa_forced(model: &Model, user_id: &str, sid: &str) -> bool {
    let Some(user) = model.user(user_id) else {
        return false;
    };
    let (policy, _) = model.login_policy_of(&user.org_id);
    let via_idp = model
        .sessions
        .get(sid)
        .is_some_and(|s| s.password_verified_at.is_none() && s.intent_verified_at.is_some());
    policy.force_mfa || (policy.force_mfa_local_only && !via_idp)
}

/// Whether a user without a second factor is to be offered the MFA set-up:
/// the policy's `mfaInitSkipLifetime` is non-zero and the last skip is older.
fn mfa_prompt_due(model: &Model, user: &crate::model::User) -> bool {
    let policy = model.login_policy_of(&user.org_id).0;
    let lifetime = policy.mfa_init_skip_lifetime;
    lifetime > 0
        && !user.has_second_factor(&policy)
        && user.human().is_some_and(|h| {
            !h.has_webauthn(crate::model::WebAuthnKind::Passkey)
                && h.mfa_init_skipped_at
                    .is_none_or(|t| now().saturating_sub(t) >= lifetime)
        })
}

/// The hosted login's side of a one-time-code channel.
impl OtpChannel {
    /// The `SecondFactorType` of the channel.
    fn factor(self) -> &'static str {
        match self {
            Self::Email => SECOND_FACTOR_OTP_EMAIL,
            Self::Sms => SECOND_FACTOR_OTP_SMS,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Email => "otp/email",
            Self::Sms => "otp/sms",
        }
    }
}

/// The page message of a failed factor check: `invalid` for a wrong
/// password or code, "user locked" once the user is locked.
fn failure_key(failure: Failure, invalid: &'static str) -> &'static str {
    if failure.locked() {
        "error.user_locked"
    } else {
        invalid
    }
}

/// Creates an OTP challenge on the session and sends the code to the outbox.
fn send_otp(model: &mut Model, sid: &str, channel: OtpChannel) {
    let Some(session) = model.sessions.get_mut(sid) else {
        return;
    };
    let code = new_otp_challenge(session, channel);
    let user_id = session.user_id.clone();
    let Some(h) = model.user(&user_id).and_then(|u| u.human()).cloned() else {
        return;
    };
    let text = format!("Your one-time code is {code}.");
    match channel {
        OtpChannel::Email => {
            model.push_outbox("email", &h.email, "One-time code", &text, Some(&code))
        }
        OtpChannel::Sms => model.push_outbox("sms", &h.phone, "", &text, Some(&code)),
    }
}

// ---------------------------------------------------------------- email OTP

fn render_otp(
    ctx: &Ctx,
    channel: OtpChannel,
    rid: &str,
    sid: &str,
    note: Option<&str>,
    error: Option<&str>,
    extra: &str,
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
        "<p>{desc}</p>{note}<form method=\"post\" action=\"{BASE}/{path}\">{hidden}\
         <label for=\"code\">{label}</label>\
         <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus required>\
         {err}<button type=\"submit\">{next}</button></form>\
         <form method=\"post\" action=\"{BASE}/{path}\">{hidden}\
         <input type=\"hidden\" name=\"action\" value=\"resend\">\
         <button type=\"submit\" class=\"secondary\">{resend}</button></form>{extra}",
        path = channel.path(),
        desc = html_escape(ctx.t(match channel {
            OtpChannel::Email => "otp_email.description",
            OtpChannel::Sms => "otp_sms.description",
        })),
        label = html_escape(ctx.t("verify.label")),
        next = html_escape(ctx.t("next")),
        resend = html_escape(ctx.t("verify.resend")),
    );
    ctx.page(form_status(error), ctx.t("totp.title"), &body)
}

async fn otp_page(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    channel: OtpChannel,
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
    let extra = recovery_offer(&model, &ctx, &flow.request_id(), sid);
    render_otp(&ctx, channel, &flow.request_id(), sid, None, None, &extra)
}

async fn otp_submit(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
    channel: OtpChannel,
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
    let Some(session) = own_session(&model, &ctx, &sid)
        .filter(first_factor_done)
        .filter(|s| factor_allowed(&model, s, channel.factor()))
    else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if form_get(&form, "action") == Some("resend") {
        send_otp(&mut model, &sid, channel);
        let extra = recovery_offer(&model, &ctx, &rid, &sid);
        return render_otp(&ctx, channel, &rid, &sid, Some("verify.sent"), None, &extra);
    }
    if let Some(resp) = unless_active(&model, &ctx, &session) {
        return resp;
    }
    let code = form_get(&form, "code").unwrap_or_default();
    if let Err(failure) = model.verify_stored_factor(&sid, Check::Otp(channel, code)) {
        let key = failure_key(failure, "error.code_invalid");
        let extra = recovery_offer(&model, &ctx, &rid, &sid);
        return render_otp(&ctx, channel, &rid, &sid, None, Some(key), &extra);
    }
    complete(&shared, &mut model, &ctx, &flow, &sid)
}

/// The error page for a second-factor step of a user who is not active
/// (locked or deactivated): no code is checked for them.
fn unless_active(model: &Model, ctx: &Ctx, session: &Session) -> Option<Response> {
    model
        .user(&session.user_id)
        .is_none_or(|u| u.state != UserState::Active)
        .then(|| ctx.error(StatusCode::BAD_REQUEST, "error.user_locked"))
}

/// Whether the login policy of the session's user lists this second factor;
/// the pages of a factor it does not list refuse to verify it.
fn factor_allowed(model: &Model, s: &Session, factor: &str) -> bool {
    model
        .user(&s.user_id)
        .is_some_and(|u| model.login_policy_of(&u.org_id).0.allows(factor))
}

/// Whether the session passed a first factor (password or external IdP).
fn first_factor_done(s: &Session) -> bool {
    s.password_verified_at.is_some() || s.intent_verified_at.is_some()
}

fn needs_totp(user: &crate::model::User) -> bool {
    user.human()
        .is_some_and(|h| h.totp.as_ref().is_some_and(|t| t.ready))
}

// ---------------------------------------------------------------- TOTP

fn render_totp(ctx: &Ctx, rid: &str, sid: &str, error: Option<&str>, extra: &str) -> Response {
    let err = ctx.alert(error);
    let body = format!(
        "<p>{desc}</p><form method=\"post\" action=\"{BASE}/otp/time-based\">{csrf}\
         <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
         <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
         <label for=\"code\">{label}</label>\
         <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" autofocus required>\
         {err}<button type=\"submit\">{next}</button></form>{extra}",
        desc = html_escape(ctx.t("totp.description")),
        csrf = ctx.hidden_csrf(),
        rid = html_escape(rid),
        sid = html_escape(sid),
        label = html_escape(ctx.t("verify.label")),
        next = html_escape(ctx.t("next")),
    );
    ctx.page(form_status(error), ctx.t("totp.title"), &body)
}

async fn totp_page(
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
    let extra = recovery_offer(&model, &ctx, &flow.request_id(), sid);
    render_totp(&ctx, &flow.request_id(), sid, None, &extra)
}

async fn totp_submit(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
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
    let sid = form_get(&form, "sessionId").unwrap_or_default();
    let Some(session) = own_session(&model, &ctx, sid)
        .filter(first_factor_done)
        .filter(|s| factor_allowed(&model, s, SECOND_FACTOR_OTP))
    else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    if let Some(resp) = unless_active(&model, &ctx, &session) {
        return resp;
    }
    let code = form_get(&form, "code").unwrap_or_default();
    if let Err(failure) = model.verify_stored_factor(sid, Check::Totp(code)) {
        let key = failure_key(failure, "error.code_invalid");
        let extra = recovery_offer(&model, &ctx, &flow.request_id(), sid);
        return render_totp(&ctx, &flow.request_id(), sid, Some(key), &extra);
    }
    complete(&shared, &mut model, &ctx, &flow, sid)
}

// ---------------------------------------------------------------- account picker

async fn accounts_page(
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
    let rid = flow.request_id();
    let mut list = String::new();
    // One entry per user: the newest of their sessions (they come newest first).
    let mut listed = std::collections::HashSet::new();
    for s in model.sessions_of_agent(&ctx.agent) {
        let Some(user) = model.user(&s.user_id) else {
            continue;
        };
        if flow.org_id().is_some_and(|o| o != user.org_id) || !listed.insert(&s.user_id) {
            continue;
        }
        let display = user
            .human()
            .map(|h| h.display_name.clone())
            .unwrap_or_default();
        list.push_str(&format!(
            "<form method=\"post\" action=\"{BASE}/accounts\">{csrf}\
             <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
             <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
             <button type=\"submit\" class=\"account\">{display} &lt;{login}&gt;</button></form>",
            csrf = ctx.hidden_csrf(),
            rid = html_escape(&rid),
            sid = html_escape(&s.id),
            display = html_escape(&display),
            login = html_escape(&model.login_name(user)),
        ));
    }
    let body = format!(
        "{list}<p><a href=\"{href}\">{other}</a></p>",
        href = html_escape(&page_url("loginname", &[("requestId", &rid)])),
        other = html_escape(ctx.t("accounts.other")),
    );
    ctx.page(StatusCode::OK, ctx.t("accounts.title"), &body)
}

async fn accounts_submit(
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
    let sid = form_get(&form, "sessionId").unwrap_or_default().to_owned();
    let Some(session) = own_session(&model, &ctx, &sid) else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let ok = model.user(&session.user_id).is_some_and(|u| {
        session_satisfies(&model, &session, u, flow.org_id(), flow.max_age(), now())
    });
    if ok {
        complete(&shared, &mut model, &ctx, &flow, &sid)
    } else {
        see_other(&page_url(
            "password",
            &[("requestId", &flow.request_id()), ("sessionId", &sid)],
        ))
    }
}

// ---------------------------------------------------------------- device flow

async fn device_redirect(RawQuery(q): RawQuery) -> Response {
    match q {
        Some(q) if !q.is_empty() => see_other(&format!("{BASE}/device?{q}")),
        _ => see_other(&format!("{BASE}/device")),
    }
}

fn render_device(ctx: &Ctx, code: &str, locales: &str, error: Option<&str>) -> Response {
    let err = ctx.alert(error);
    let body = format!(
        "<p>{desc}</p><form method=\"post\" action=\"{BASE}/device\">{csrf}\
         <input type=\"hidden\" name=\"ui_locales\" value=\"{locales}\">\
         <label for=\"userCode\">{label}</label>\
         <input type=\"text\" id=\"userCode\" name=\"userCode\" value=\"{code}\" autocomplete=\"off\" autofocus required>\
         {err}<button type=\"submit\">{next}</button></form>",
        desc = html_escape(ctx.t("device.description")),
        csrf = ctx.hidden_csrf(),
        label = html_escape(ctx.t("device.label")),
        code = html_escape(code),
        locales = html_escape(locales),
        next = html_escape(ctx.t("next")),
    );
    ctx.page(form_status(error), ctx.t("device.title"), &body)
}

fn locales_param(q: &[(String, String)]) -> Vec<String> {
    form_get(q, "ui_locales")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

async fn device_page(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let ctx = Ctx::new(&shared, &model, &headers, None, &locales_param(&q));
    render_device(
        &ctx,
        form_get(&q, "user_code").unwrap_or_default(),
        &locales_param(&q).join(" "),
        None,
    )
}

fn normalize_user_code(code: &str) -> String {
    let raw: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if raw.len() == 8 {
        format!("{}-{}", &raw[..4], &raw[4..])
    } else {
        raw
    }
}

async fn device_submit(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let locales = locales_param(&form);
    let ctx = Ctx::new(&shared, &model, &headers, None, &locales);
    if let Some(resp) = check_csrf(&shared, &ctx, &form) {
        return resp;
    }
    let entered = form_get(&form, "userCode").unwrap_or_default();
    let code = normalize_user_code(entered);
    let found = model
        .device_requests
        .iter_mut()
        .find(|d| d.user_code == code && d.state == DeviceState::Pending && d.expires > now());
    match found {
        Some(d) => {
            // The login pages that follow speak the language of this page.
            d.ui_locales = locales;
            see_other(&page_url(
                "login",
                &[("requestId", &format!("device_{}", d.id))],
            ))
        }
        None => render_device(&ctx, entered, &locales.join(" "), Some("device.invalid")),
    }
}

async fn consent_page(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let flow = Flow::resolve(&model, form_get(&q, "requestId").unwrap_or_default());
    let ctx = Ctx::new(&shared, &model, &headers, flow.as_ref(), &[]);
    let Some(Flow::Device { id, .. }) = &flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let sid = form_get(&q, "sessionId").unwrap_or_default();
    let authenticated = own_session(&model, &ctx, sid).is_some_and(|s| {
        model
            .user(&s.user_id)
            .is_some_and(|u| model.authenticates(&s, u))
    });
    if !authenticated {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    }
    let (app_name, project_name) = model
        .device_requests
        .iter()
        .find(|d| &d.id == id)
        .and_then(|d| model.app_by_client_id(&d.client_id))
        .map(|a| {
            let project = model
                .project(&a.project_id)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            (a.name.clone(), project)
        })
        .unwrap_or_default();
    let rid = format!("device_{id}");
    let button = |action: &str, label: &str, class: &str| {
        format!(
            "<form method=\"post\" action=\"{BASE}/device/consent\">{csrf}\
             <input type=\"hidden\" name=\"requestId\" value=\"{rid}\">\
             <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
             <input type=\"hidden\" name=\"action\" value=\"{action}\">\
             <button type=\"submit\" class=\"{class}\">{label}</button></form>",
            csrf = ctx.hidden_csrf(),
            rid = html_escape(&rid),
            sid = html_escape(sid),
            label = html_escape(label),
        )
    };
    let body = format!(
        "<p><strong>{app}</strong> ({project}) {question}</p>{allow}{deny}",
        app = html_escape(&app_name),
        project = html_escape(&project_name),
        question = html_escape(ctx.t("device.consent")),
        allow = button("allow", ctx.t("device.allow"), ""),
        deny = button("deny", ctx.t("device.deny"), "secondary"),
    );
    ctx.page(StatusCode::OK, ctx.t("device.title"), &body)
}

async fn consent_submit(
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
    let Some(Flow::Device { id, .. }) = &flow else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.request_invalid");
    };
    let sid = form_get(&form, "sessionId").unwrap_or_default();
    let Some((session, auth_time)) = own_session(&model, &ctx, sid)
        .filter(|s| {
            model
                .user(&s.user_id)
                .is_some_and(|u| model.authenticates(s, u))
        })
        .and_then(|s| s.auth_time().map(|t| (s, t)))
    else {
        return ctx.error(StatusCode::BAD_REQUEST, "error.session");
    };
    let allow = form_get(&form, "action") == Some("allow");
    if let Some(d) = model.device_requests.iter_mut().find(|d| &d.id == id) {
        d.state = if allow {
            DeviceState::Approved {
                user_id: session.user_id.clone(),
                session_id: session.id.clone(),
                auth_time,
                amr: session.amr(),
            }
        } else {
            DeviceState::Denied
        };
    }
    let key = if allow {
        "device.approved"
    } else {
        "device.denied"
    };
    ctx.page(
        StatusCode::OK,
        ctx.t("device.title"),
        &format!("<p id=\"result\">{}</p>", html_escape(ctx.t(key))),
    )
}

// ---------------------------------------------------------------- logout

async fn logout_page(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let ctx = Ctx::new(&shared, &model, &headers, None, &locales_param(&q));
    let request = form_get(&q, "logoutRequest").unwrap_or_default();
    let sessions = model.sessions_of_agent(&ctx.agent);
    if sessions.is_empty() {
        return ctx.page(
            StatusCode::OK,
            ctx.t("logout.title"),
            &format!("<p>{}</p>", html_escape(ctx.t("logout.none"))),
        );
    }
    let form = |sid: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"{BASE}/logout\">{csrf}\
             <input type=\"hidden\" name=\"logoutRequest\" value=\"{req}\">\
             <input type=\"hidden\" name=\"sessionId\" value=\"{sid}\">\
             <button type=\"submit\">{label}</button></form>",
            csrf = ctx.hidden_csrf(),
            req = html_escape(request),
            sid = html_escape(sid),
            label = html_escape(label),
        )
    };
    let mut body = format!("<p>{}</p>", html_escape(ctx.t("logout.description")));
    // One entry per user; ending it ends all of the user's sessions here.
    let mut listed = std::collections::HashSet::new();
    for s in sessions.iter().filter(|s| listed.insert(&s.user_id)) {
        // Sessions of unknown login names (ignoreUnknownUsernames) have no user.
        if let Some(u) = model.user(&s.user_id) {
            body.push_str(&form(&s.id, &model.login_name(u)));
        }
    }
    body.push_str(&form("", ctx.t("logout.all")));
    ctx.page(StatusCode::OK, ctx.t("logout.title"), &body)
}

async fn logout_submit(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut model = shared.lock();
    let ctx = Ctx::new(&shared, &model, &headers, None, &[]);
    if let Some(resp) = check_csrf(&shared, &ctx, &form) {
        return resp;
    }
    let sid = form_get(&form, "sessionId").unwrap_or_default();
    let sessions = model.sessions_of_agent(&ctx.agent);
    let user = sessions
        .iter()
        .find(|s| s.id == sid)
        .map(|s| s.user_id.clone());
    let targets: Vec<String> = sessions
        .into_iter()
        .filter(|s| sid.is_empty() || Some(&s.user_id) == user.as_ref())
        .map(|s| s.id.clone())
        .collect();
    for s in targets {
        model.terminate_session(&s);
    }
    let redirect = form_get(&form, "logoutRequest")
        .and_then(|r| model.logout_requests.remove(r))
        .and_then(|r| r.redirect);
    match redirect {
        Some(r) => see_other(&r),
        None => see_other(&format!("{BASE}/logout/done")),
    }
}

async fn logout_done(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = query(q);
    let model = shared.lock();
    let ctx = Ctx::new(&shared, &model, &headers, None, &locales_param(&q));
    ctx.page(
        StatusCode::OK,
        ctx.t("logout.title"),
        &format!("<p id=\"result\">{}</p>", html_escape(ctx.t("logout.done"))),
    )
}

async fn signed_in(State(shared): State<AppState>, headers: HeaderMap) -> Response {
    let model = shared.lock();
    let ctx = Ctx::new(&shared, &model, &headers, None, &[]);
    ctx.page(StatusCode::OK, ctx.t("signedin"), "")
}

/// The status of a form page: 400 when it shows `error` (a failed
/// submission), else 200.
fn form_status(error: Option<&str>) -> StatusCode {
    if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}
