//! Shared helpers for the emulator's HTTP flow tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::LOCATION;
use reqwest::{Client, Response, StatusCode};
use sha2::{Digest as _, Sha256};
use url::Url;
use zitadel_emulator::{Emulator, EmulatorConfig, RunningEmulator};

pub const REDIRECT: &str = "http://127.0.0.1:53123/callback";
pub const ZITADEL_AUD: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";

pub async fn start() -> RunningEmulator {
    start_with(EmulatorConfig::ephemeral()).await
}

pub async fn start_with(config: EmulatorConfig) -> RunningEmulator {
    // reqwest is built with `rustls-no-provider` in this workspace.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Emulator::start(config).await.expect("emulator starts")
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn pkce() -> (String, String) {
    let verifier = format!(
        "verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz",
        rand_suffix()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub fn location(emu: &RunningEmulator, resp: &Response) -> Url {
    let loc = resp
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("no Location on {} {}", resp.status(), resp.url()))
        .to_str()
        .unwrap();
    Url::parse(emu.issuer()).unwrap().join(loc).unwrap()
}

pub fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + needle.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&amp;", "&")
}

pub fn authorize_url(
    emu: &RunningEmulator,
    challenge: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> Url {
    let mut url = Url::parse(&format!("{}/oauth/v2/authorize", emu.issuer())).unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", "native-app")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("response_type", "code")
            .append_pair("scope", scope)
            .append_pair("state", "st-123")
            .append_pair("nonce", "n-456")
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    url
}

/// Follows redirects inside the emulator until a page (200/4xx) or a redirect
/// leaving the emulator; returns the last response and its URL.
pub async fn follow(emu: &RunningEmulator, client: &Client, mut url: Url) -> (Response, Url) {
    for _ in 0..10 {
        let resp = client.get(url.clone()).send().await.unwrap();
        if !resp.status().is_redirection() {
            return (resp, url);
        }
        let next = location(emu, &resp);
        if !next.as_str().starts_with(emu.issuer()) {
            return (resp, next);
        }
        url = next;
    }
    panic!("too many redirects");
}

/// Posts a hosted-login form and returns the response.
pub async fn post_form(
    emu: &RunningEmulator,
    client: &Client,
    path: &str,
    form: &[(&str, &str)],
) -> Response {
    client
        .post(format!("{}{path}", emu.issuer()))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Runs the hosted login (login name, password) from the login page the
/// authorize request led to; returns the final redirect URL to the client.
pub async fn login_with_password(
    emu: &RunningEmulator,
    client: &Client,
    start: Url,
    login_name: &str,
    password: &str,
) -> Url {
    let (resp, url) = follow(emu, client, start).await;
    assert_eq!(resp.status(), StatusCode::OK, "login name page at {url}");
    assert!(
        url.path().ends_with("/loginname"),
        "expected login name page, got {url}"
    );
    let html = resp.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let request_id = hidden(&html, "requestId");
    let resp = post_form(
        emu,
        client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &csrf),
            ("requestId", &request_id),
            ("loginName", login_name),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let password_url = location(emu, &resp);
    let html = client
        .get(password_url.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let session_id = hidden(&html, "sessionId");
    let resp = post_form(
        emu,
        client,
        "/ui/v2/login/password",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &request_id),
            ("sessionId", &session_id),
            ("password", password),
        ],
    )
    .await;
    assert!(
        resp.status().is_redirection(),
        "password accepted, got {}",
        resp.status()
    );
    location(emu, &resp)
}

/// Runs the hosted login of alice (the third seed user: login name,
/// password) for a PKCE `challenge` up to the page whose path ends with
/// `page` (e.g. a second-factor page); returns that page's HTML.
pub async fn alice_at_page(
    emu: &RunningEmulator,
    client: &Client,
    challenge: &str,
    page: &str,
) -> String {
    let alice = emu.seed_info().users[2].clone();
    let start = authorize_url(emu, challenge, "openid", &[]);
    let next = login_with_password(emu, client, start, &alice.login_name, &alice.password).await;
    assert!(next.path().ends_with(page), "expected {page}, got {next}");
    client.get(next).send().await.unwrap().text().await.unwrap()
}

/// Sends a JSON API request with a bearer token; returns the status and the
/// JSON body (`null` when there is none).
pub async fn call_json(
    emu: &RunningEmulator,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let resp = Client::new()
        .request(method, format!("{}{path}", emu.issuer()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
}

/// Posts a hosted-login form of `page` (its CSRF token, request and session
/// id) with the `fields` a user fills in.
pub async fn submit_page(
    emu: &RunningEmulator,
    client: &Client,
    path: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> Response {
    let mut form: Vec<(&str, String)> = ["csrf", "requestId", "sessionId"]
        .into_iter()
        .map(|name| (name, hidden(page, name)))
        .collect();
    form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    client
        .post(format!("{}{path}", emu.issuer()))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Full code + PKCE login as the admin; returns the token response.
pub async fn login_and_exchange(
    emu: &RunningEmulator,
    client: &Client,
    scope: &str,
) -> serde_json::Value {
    let (verifier, challenge) = pkce();
    let start = authorize_url(emu, &challenge, scope, &[]);
    let admin = &emu.seed_info().users[0];
    let callback =
        login_with_password(emu, client, start, &admin.login_name, &admin.password).await;
    let code = query(&callback, "code").expect("code in callback");
    exchange(emu, &code, &verifier).await
}

pub async fn exchange(emu: &RunningEmulator, code: &str, verifier: &str) -> serde_json::Value {
    let resp = token(
        emu,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", "native-app"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Starts a device authorization of the native app for `openid`.
pub async fn device_authorization(emu: &RunningEmulator) -> serde_json::Value {
    Client::new()
        .post(format!("{}/oauth/v2/device_authorization", emu.issuer()))
        .form(&[("client_id", "native-app"), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn token(emu: &RunningEmulator, form: &[(&str, &str)]) -> Response {
    Client::new()
        .post(format!("{}/oauth/v2/token", emu.issuer()))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The current TOTP code for a base32 secret (RFC 6238, SHA-1, 6 digits).
pub fn totp_now(secret: &str) -> String {
    use hmac::Mac as _;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut key) = (0u32, 0, Vec::new());
    for c in secret.chars() {
        buffer = (buffer << 5) | alphabet.iter().position(|a| *a as char == c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            key.push((buffer >> bits) as u8);
        }
    }
    let counter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[o] & 0x7f) << 24)
        | (u32::from(h[o + 1]) << 16)
        | (u32::from(h[o + 2]) << 8)
        | u32::from(h[o + 3]);
    format!("{:06}", bin % 1_000_000)
}
