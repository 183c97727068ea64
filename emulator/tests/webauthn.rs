//! WebAuthn: U2F security keys and passkeys through users v2 and sessions v2,
//! with a software authenticator (1Password's passkey-rs).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
#[path = "common/soft_key.rs"]
mod soft_key;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use soft_key::SoftKey;
use url::Url;
use zitadel_emulator::{EmulatorConfig, RunningEmulator};

fn api(emu: &RunningEmulator, path: &str) -> String {
    format!("{}{path}", emu.issuer())
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn lc(emu: &RunningEmulator) -> String {
    emu.seed_info().login_client_token.clone()
}

/// A session of `user` after user and password checks; its token works as
/// the user's bearer token.
async fn password_session(emu: &RunningEmulator, user: usize) -> (String, String) {
    let u = &emu.seed_info().users[user];
    let (status, s) = send(
        Client::new()
            .post(api(emu, "/v2/sessions"))
            .bearer_auth(lc(emu))
            .json(&json!({"checks": {"user": {"loginName": u.login_name},
                                     "password": {"password": u.password}}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    (
        s["sessionId"].as_str().unwrap().to_owned(),
        s["sessionToken"].as_str().unwrap().to_owned(),
    )
}

/// Registers and verifies a U2F key of user `user_id` with `bearer`.
async fn register_u2f(
    emu: &RunningEmulator,
    key: &mut SoftKey,
    user_id: &str,
    bearer: &str,
) -> String {
    let (status, reg) = send(
        Client::new()
            .post(api(emu, &format!("/v2/users/{user_id}/u2f")))
            .bearer_auth(bearer)
            .json(&json!({"domain": "localhost"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    let u2f_id = reg["u2fId"].as_str().unwrap().to_owned();
    let options = &reg["publicKeyCredentialCreationOptions"];
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    let cred = key.create(emu.issuer(), options).await;
    let (status, body) = send(
        Client::new()
            .post(api(emu, &format!("/v2/users/{user_id}/u2f/{u2f_id}")))
            .bearer_auth(bearer)
            .json(&json!({"publicKeyCredential": cred, "tokenName": "Soft key"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    u2f_id
}

/// Asks for a WebAuthn challenge on a session; returns the request options.
async fn challenge(emu: &RunningEmulator, session: &str, uv: &str) -> Value {
    let (status, body) = send(
        Client::new()
            .patch(api(emu, &format!("/v2/sessions/{session}")))
            .bearer_auth(lc(emu))
            .json(&json!({"challenges": {"webAuthN": {"domain": "localhost",
                                                       "userVerificationRequirement": uv}}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"].clone()
}

async fn check(emu: &RunningEmulator, session: &str, assertion: &Value) -> (StatusCode, Value) {
    send(
        Client::new()
            .patch(api(emu, &format!("/v2/sessions/{session}")))
            .bearer_auth(lc(emu))
            .json(&json!({"checks": {"webAuthN": {"credentialAssertionData": assertion}}})),
    )
    .await
}

async fn auth_methods(emu: &RunningEmulator, user_id: &str) -> Vec<String> {
    let (_, body) = send(
        Client::new()
            .get(api(
                emu,
                &format!("/v2/users/{user_id}/authentication_methods"),
            ))
            .bearer_auth(lc(emu)),
    )
    .await;
    body["authMethodTypes"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Bytes of a credential field: base64url text or an array of numbers.
fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => URL_SAFE_NO_PAD.decode(s).unwrap(),
        Value::Array(a) => a.iter().map(|b| b.as_u64().unwrap() as u8).collect(),
        other => panic!("not bytes: {other}"),
    }
}

fn assert_login_failed(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["code"], 13);
    assert!(
        body["message"].as_str().unwrap().contains("WEBAU-3M9si"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn u2f_is_registered_listed_checked_in_a_session_and_removed() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let (session, token) = password_session(&emu, 2).await;
    let mut key = SoftKey::default();
    // Given a U2F key registered and verified by alice herself
    let u2f_id = register_u2f(&emu, &mut key, &alice.user_id, &token).await;
    // Then it is an authentication method and a ready factor with its name
    assert!(
        auth_methods(&emu, &alice.user_id)
            .await
            .contains(&"AUTHENTICATION_METHOD_TYPE_U2F".to_owned())
    );
    let (status, factors) = send(
        Client::new()
            .post(api(
                &emu,
                &format!(
                    "/v2/users/{}/authentication_factors/_search?authFactors=U2F&states=AUTH_FACTOR_STATE_READY",
                    alice.user_id
                ),
            ))
            .bearer_auth(lc(&emu)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(factors["result"][0]["u2f"]["id"], u2f_id.as_str());
    assert_eq!(factors["result"][0]["u2f"]["name"], "Soft key");
    assert_eq!(factors["result"][0]["state"], "AUTH_FACTOR_STATE_READY");
    // When a session asks for a challenge, the options allow that key
    let options = challenge(&emu, &session, "USER_VERIFICATION_REQUIREMENT_DISCOURAGED").await;
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Then a valid assertion is accepted and recorded as a factor
    let assertion = key.get(emu.issuer(), &options).await;
    let (status, body) = check(&emu, &session, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, got) = send(
        Client::new()
            .get(api(&emu, &format!("/v2/sessions/{session}")))
            .bearer_auth(lc(&emu)),
    )
    .await;
    assert!(
        got["session"]["factors"]["webAuthN"]["verifiedAt"].is_string(),
        "{got}"
    );
    assert!(got["session"]["factors"]["password"]["verifiedAt"].is_string());
    // And the same assertion cannot be used again (the challenge is spent)
    let (status, body) = check(&emu, &session, &assertion).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 9);
    // When the key is removed, it is gone
    let (status, _) = send(
        Client::new()
            .delete(api(
                &emu,
                &format!("/v2/users/{}/u2f/{u2f_id}", alice.user_id),
            ))
            .bearer_auth(lc(&emu)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !auth_methods(&emu, &alice.user_id)
            .await
            .contains(&"AUTHENTICATION_METHOD_TYPE_U2F".to_owned())
    );
    let (status, body) = send(
        Client::new()
            .delete(api(
                &emu,
                &format!("/v2/users/{}/u2f/{u2f_id}", alice.user_id),
            ))
            .bearer_auth(lc(&emu)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // And a session can no longer ask for a U2F challenge
    let (status, body) = send(
        Client::new()
            .patch(api(&emu, &format!("/v2/sessions/{session}")))
            .bearer_auth(lc(&emu))
            .json(&json!({"challenges": {"webAuthN": {"domain": "localhost"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_signatures_stale_challenges_and_other_users_keys_are_refused() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let admin = emu.seed_info().users[0].clone();
    let (session, token) = password_session(&emu, 2).await;
    let (_, admin_token) = password_session(&emu, 0).await;
    let mut alice_key = SoftKey::default();
    let mut admin_key = SoftKey::default();
    register_u2f(&emu, &mut alice_key, &alice.user_id, &token).await;
    register_u2f(&emu, &mut admin_key, &admin.user_id, &admin_token).await;
    // A check without a challenge is a failed precondition
    let stale = challenge(&emu, &session, "USER_VERIFICATION_REQUIREMENT_PREFERRED").await;
    let stale_assertion = alice_key.get(emu.issuer(), &stale).await;
    // A wrong signature
    let options = challenge(&emu, &session, "USER_VERIFICATION_REQUIREMENT_PREFERRED").await;
    let mut assertion = alice_key.get(emu.issuer(), &options).await;
    let mut raw = bytes_of(&assertion["response"]["signature"]);
    let last = raw.len() - 1;
    raw[last] ^= 0x01;
    assertion["response"]["signature"] = json!(URL_SAFE_NO_PAD.encode(raw));
    let (status, body) = check(&emu, &session, &assertion).await;
    assert_login_failed(status, &body);
    // An assertion over an earlier challenge
    challenge(&emu, &session, "USER_VERIFICATION_REQUIREMENT_PREFERRED").await;
    let (status, body) = check(&emu, &session, &stale_assertion).await;
    assert_login_failed(status, &body);
    // Another user's key, signing alice's challenge
    let mut options = challenge(&emu, &session, "USER_VERIFICATION_REQUIREMENT_PREFERRED").await;
    let admin_cred_id = admin_key.store.keys().next().unwrap().clone();
    options["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": URL_SAFE_NO_PAD.encode(admin_cred_id)}]);
    let foreign = admin_key.get(emu.issuer(), &options).await;
    let (status, body) = check(&emu, &session, &foreign).await;
    assert_login_failed(status, &body);
    // Failed assertions do not lock the user (as ZITADEL: no WebAuthn lockout)
    let options = challenge(&emu, &session, "USER_VERIFICATION_REQUIREMENT_PREFERRED").await;
    let assertion = alice_key.get(emu.issuer(), &options).await;
    let (status, body) = check(&emu, &session, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A challenge for another RP ID is refused
    let (status, body) = send(
        Client::new()
            .patch(api(&emu, &format!("/v2/sessions/{session}")))
            .bearer_auth(lc(&emu))
            .json(&json!({"challenges": {"webAuthN": {"domain": "example.com"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn users_without_the_permission_cannot_manage_other_users_keys() {
    let emu = start().await;
    let admin = emu.seed_info().users[0].clone();
    let (_, alice_token) = password_session(&emu, 2).await;
    for (path, body) in [
        (format!("/v2/users/{}/u2f", admin.user_id), json!({})),
        (format!("/v2/users/{}/passkeys", admin.user_id), json!({})),
        (
            format!("/v2/users/{}/passkeys/registration_link", admin.user_id),
            json!({"returnCode": {}}),
        ),
    ] {
        let (status, body) = send(
            Client::new()
                .post(api(&emu, &path))
                .bearer_auth(&alice_token)
                .json(&body),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["code"], 7);
    }
    let (status, body) = send(
        Client::new()
            .delete(api(
                &emu,
                &format!("/v2/users/{}/passkeys/1", admin.user_id),
            ))
            .bearer_auth(&alice_token),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_from_a_registration_code_signs_in_without_a_password() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    // Given a registration code returned to the login client
    let (status, link) = send(
        Client::new()
            .post(api(
                &emu,
                &format!("/v2/users/{}/passkeys/registration_link", alice.user_id),
            ))
            .bearer_auth(lc(&emu))
            .json(&json!({"returnCode": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let code = link["code"].clone();
    assert_eq!(code["code"].as_str().unwrap().len(), 12);
    // When a passkey registration starts with the code
    let start_with_code = || {
        Client::new()
            .post(api(&emu, &format!("/v2/users/{}/passkeys", alice.user_id)))
            .bearer_auth(lc(&emu))
            .json(
                &json!({"code": code, "authenticator": "PASSKEY_AUTHENTICATOR_CROSS_PLATFORM",
                          "domain": "localhost"}),
            )
    };
    let (status, reg) = send(start_with_code()).await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    let options = &reg["publicKeyCredentialCreationOptions"];
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["authenticatorAttachment"],
        "cross-platform"
    );
    let passkey_id = reg["passkeyId"].as_str().unwrap().to_owned();
    let mut key = SoftKey::default();
    let cred = key.create(emu.issuer(), options).await;
    let (status, body) = send(
        Client::new()
            .post(api(
                &emu,
                &format!("/v2/users/{}/passkeys/{passkey_id}", alice.user_id),
            ))
            .bearer_auth(lc(&emu))
            .json(&json!({"publicKeyCredential": cred, "passkeyName": "Soft passkey"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Then the code is spent
    let (status, body) = send(start_with_code()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 3);
    // And the passkey is listed
    let (status, list) = send(
        Client::new()
            .post(api(
                &emu,
                &format!("/v2/users/{}/passkeys/_search", alice.user_id),
            ))
            .bearer_auth(lc(&emu))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["result"][0]["id"], passkey_id.as_str());
    assert_eq!(list["result"][0]["name"], "Soft passkey");
    assert_eq!(list["result"][0]["state"], "AUTH_FACTOR_STATE_READY");
    assert!(
        auth_methods(&emu, &alice.user_id)
            .await
            .contains(&"AUTHENTICATION_METHOD_TYPE_PASSKEY".to_owned())
    );
    // When a session with only a user check asks for a passkey challenge
    let (status, s) = send(
        Client::new()
            .post(api(&emu, "/v2/sessions"))
            .bearer_auth(lc(&emu))
            .json(&json!({"checks": {"user": {"userId": alice.user_id}},
                          "challenges": {"webAuthN": {"domain": "localhost",
                              "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    let session = s["sessionId"].as_str().unwrap().to_owned();
    let options = &s["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"];
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let assertion = key.get(emu.issuer(), options).await;
    let (status, body) = check(&emu, &session, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session_token = body["sessionToken"].as_str().unwrap().to_owned();
    let (_, got) = send(
        Client::new()
            .get(api(&emu, &format!("/v2/sessions/{session}")))
            .bearer_auth(lc(&emu)),
    )
    .await;
    assert_eq!(
        got["session"]["factors"]["webAuthN"]["userVerified"], true,
        "{got}"
    );
    assert!(got["session"]["factors"].get("password").is_none());
    // Then the session finishes an OIDC login with amr user + mfa
    let (verifier, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(
            &emu,
            &challenge,
            &format!("openid {ZITADEL_AUD}"),
            &[],
        ))
        .send()
        .await
        .unwrap();
    let ar = query(&location(&emu, &resp), "authRequest").unwrap();
    let (status, cb) = send(
        Client::new()
            .post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
            .bearer_auth(lc(&emu))
            .json(&json!({"session": {"sessionId": session, "sessionToken": session_token}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cb}");
    let code = query(
        &Url::parse(cb["callbackUrl"].as_str().unwrap()).unwrap(),
        "code",
    )
    .unwrap();
    let tokens = exchange(&emu, &code, &verifier).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["amr"], json!(["user", "mfa"]));
    // And a link sent by email lands in the outbox
    let (status, body) = send(
        Client::new()
            .post(api(&emu, &format!("/v2/users/{}/passkeys/registration_link", alice.user_id)))
            .bearer_auth(lc(&emu))
            .json(&json!({"sendLink": {"urlTemplate": "https://app.example/passkey?user={{.UserID}}&id={{.CodeID}}&code={{.Code}}"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("code").is_none());
    let mail = emu
        .outbox()
        .into_iter()
        .rev()
        .find(|m| m.to == "alice@acme.localhost")
        .unwrap();
    assert!(
        mail.text.contains("https://app.example/passkey?user="),
        "{}",
        mail.text
    );
    // And removing the passkey removes the method
    let (status, _) = send(
        Client::new()
            .delete(api(
                &emu,
                &format!("/v2/users/{}/passkeys/{passkey_id}", alice.user_id),
            ))
            .bearer_auth(lc(&emu)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !auth_methods(&emu, &alice.user_id)
            .await
            .contains(&"AUTHENTICATION_METHOD_TYPE_PASSKEY".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn webauthn_credentials_survive_a_restart_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EmulatorConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..EmulatorConfig::ephemeral()
    };
    let first = start_with(config()).await;
    let alice = first.seed_info().users[2].clone();
    let (_, token) = password_session(&first, 2).await;
    let mut key = SoftKey::default();
    register_u2f(&first, &mut key, &alice.user_id, &token).await;
    first.shutdown().await;
    // After a restart (another port, so another origin on the same RP ID)
    let second = start_with(config()).await;
    let (session, _) = password_session(&second, 2).await;
    let options = challenge(
        &second,
        &session,
        "USER_VERIFICATION_REQUIREMENT_DISCOURAGED",
    )
    .await;
    let assertion = key.get(second.issuer(), &options).await;
    let (status, body) = check(&second, &session, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    second.shutdown().await;
}

/// The text between `start` and the next `end` in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {html}"))
        + start.len();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A hosted WebAuthn page: its CSP allows exactly its script by nonce;
/// returns the page and the options of its form.
async fn webauthn_page(client: &Client, url: Url) -> (String, Value) {
    let resp = client.get(url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = resp.text().await.unwrap();
    let nonce = between(&html, "<script nonce=\"", "\"");
    assert!(
        csp.contains(&format!("script-src 'nonce-{nonce}'")),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'unsafe-inline'"));
    assert!(html.contains("src=\"/ui/v2/login/webauthn.js\""));
    let options = serde_json::from_str(&unescape(between(&html, "data-options=\"", "\""))).unwrap();
    (html, options)
}

/// Posts a WebAuthn page's form with `credential`.
async fn post_credential(
    emu: &RunningEmulator,
    client: &Client,
    path: &str,
    html: &str,
    credential: &Value,
) -> reqwest::Response {
    post_form(
        emu,
        client,
        path,
        &[
            ("csrf", &hidden(html, "csrf")),
            ("requestId", &hidden(html, "requestId")),
            ("sessionId", &hidden(html, "sessionId")),
            ("token", &hidden(html, "token")),
            ("credential", &credential.to_string()),
        ],
    )
    .await
}

/// The `amr` of the ID token issued for the code in `callback`.
async fn amr_of(emu: &RunningEmulator, callback: &Url, verifier: &str) -> Value {
    assert!(callback.as_str().starts_with(REDIRECT), "{callback}");
    let tokens = exchange(emu, &query(callback, "code").unwrap(), verifier).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    payload["amr"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn hosted_login_asks_for_the_security_key_after_the_password() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let mut key = SoftKey::default();
    register_u2f(&emu, &mut key, &alice.user_id, &lc(&emu)).await;
    let client = browser();
    let (verifier, challenge) = pkce();
    let next = login_with_password(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[]),
        &alice.login_name,
        &alice.password,
    )
    .await;
    assert!(next.path().ends_with("/ui/v2/login/u2f"), "{next}");
    // Without a passkey there is no passwordless page
    let mut passkey_url = Url::parse(&api(&emu, "/ui/v2/login/passkey")).unwrap();
    passkey_url.set_query(next.query());
    let resp = client.get(passkey_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (html, _) = webauthn_page(&client, next).await;
    assert!(html.contains("Use security key"), "{html}");
    // A credential that does not verify shows the error and a new challenge
    let resp = post_credential(&emu, &client, "/ui/v2/login/u2f", &html, &json!({})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(html.contains("could not be verified"), "{html}");
    let options: Value =
        serde_json::from_str(&unescape(between(&html, "data-options=\"", "\""))).unwrap();
    // A valid assertion finishes the login
    let assertion = key.get(emu.issuer(), &options).await;
    let resp = post_credential(&emu, &client, "/ui/v2/login/u2f", &html, &assertion).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let amr = amr_of(&emu, &location(&emu, &resp), &verifier).await;
    assert_eq!(amr, json!(["pwd", "user", "mfa"]));
    // The script is served with its type
    let resp = client
        .get(api(&emu, "/ui/v2/login/webauthn.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hosted_login_signs_in_with_a_passkey_instead_of_the_password() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let mut key = SoftKey::default();
    let (status, reg) = send(
        Client::new()
            .post(api(&emu, &format!("/v2/users/{}/passkeys", alice.user_id)))
            .bearer_auth(lc(&emu))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    let cred = key
        .create(emu.issuer(), &reg["publicKeyCredentialCreationOptions"])
        .await;
    let (status, body) = send(
        Client::new()
            .post(api(
                &emu,
                &format!(
                    "/v2/users/{}/passkeys/{}",
                    alice.user_id,
                    reg["passkeyId"].as_str().unwrap()
                ),
            ))
            .bearer_auth(lc(&emu))
            .json(&json!({"publicKeyCredential": cred, "passkeyName": "Soft"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The password page offers the passkey (here in German)
    let client = browser();
    let (verifier, challenge) = pkce();
    let (resp, _) = follow(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[("ui_locales", "de")]),
    )
    .await;
    let html = resp.text().await.unwrap();
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/loginname",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("loginName", &alice.login_name),
        ],
    )
    .await;
    let password_url = location(&emu, &resp);
    let html = client
        .get(password_url.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"passkey-login\""), "{html}");
    assert!(html.contains("Mit Passkey anmelden"), "{html}");
    let mut passkey_url = Url::parse(&api(&emu, "/ui/v2/login/passkey")).unwrap();
    passkey_url.set_query(password_url.query());
    let (html, options) = webauthn_page(&client, passkey_url).await;
    assert!(html.contains("lang=\"de\""));
    assert!(html.contains("Melde dich mit einem Passkey"), "{html}");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let assertion = key.get(emu.issuer(), &options).await;
    let resp = post_credential(&emu, &client, "/ui/v2/login/passkey", &html, &assertion).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let amr = amr_of(&emu, &location(&emu, &resp), &verifier).await;
    assert_eq!(amr, json!(["user", "mfa"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn forced_mfa_sets_up_a_security_key_or_a_passkey_in_the_hosted_login() {
    let emu = start().await;
    let (_, manager_token) = password_session(&emu, 1).await;
    let (status, body) = send(
        Client::new()
            .post(api(&emu, "/management/v1/policies/login"))
            .bearer_auth(&manager_token)
            .json(&json!({"allowUsernamePassword": true, "forceMfa": true,
                          "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A display name with markup reaches the options escaped
    let alice_id = emu.seed_info().users[2].user_id.clone();
    let (status, body) = send(
        Client::new()
            .patch(api(&emu, &format!("/v2/users/{alice_id}")))
            .bearer_auth(lc(&emu))
            .json(
                &json!({"human": {"profile": {"givenName": "Alice", "familyName": "Example",
                                                "displayName": "<b>\"Al'ice\"</b>"}}}),
            ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Alice sets up a security key, the admin a passkey
    for (user, path, method) in [
        (2, "u2f/set", "AUTHENTICATION_METHOD_TYPE_U2F"),
        (0, "passkey/set", "AUTHENTICATION_METHOD_TYPE_PASSKEY"),
    ] {
        let user = emu.seed_info().users[user].clone();
        let mut key = SoftKey::default();
        let client = browser();
        let (verifier, challenge) = pkce();
        let start = authorize_url(&emu, &challenge, "openid", &[]);
        let next =
            login_with_password(&emu, &client, start, &user.login_name, &user.password).await;
        assert!(next.path().ends_with("/mfa/set"), "{next}");
        let html = client
            .get(next.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"mfa-u2f\"") && html.contains("id=\"mfa-passkey\""));
        let mut url = Url::parse(&api(&emu, &format!("/ui/v2/login/{path}"))).unwrap();
        url.set_query(next.query());
        let (html, options) = webauthn_page(&client, url).await;
        assert!(html.contains("data-mode=\"create\""));
        assert!(!html.contains("<b>"), "{html}");
        if user.user_id == alice_id {
            assert_eq!(
                options["publicKey"]["user"]["displayName"],
                "<b>\"Al'ice\"</b>"
            );
        }
        let cred = key.create(emu.issuer(), &options).await;
        let resp =
            post_credential(&emu, &client, &format!("/ui/v2/login/{path}"), &html, &cred).await;
        assert!(resp.status().is_redirection(), "{}", resp.status());
        let amr = amr_of(&emu, &location(&emu, &resp), &verifier).await;
        assert_eq!(amr, json!(["pwd", "user", "mfa"]));
        assert!(
            auth_methods(&emu, &user.user_id)
                .await
                .contains(&method.to_owned())
        );
    }
}

/// Sends a passkey registration link to alice by email; returns the link.
async fn mailed_passkey_link(emu: &RunningEmulator, user_id: &str) -> Url {
    let (status, body) = send(
        Client::new()
            .post(api(
                emu,
                &format!("/v2/users/{user_id}/passkeys/registration_link"),
            ))
            .bearer_auth(lc(emu))
            .json(&json!({"sendLink": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mail = emu
        .outbox()
        .into_iter()
        .rev()
        .find(|m| m.subject == "Register a passkey")
        .unwrap();
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap();
    Url::parse(link).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailed_passkey_link_registers_a_passkey_once_without_a_login() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let link = mailed_passkey_link(&emu, &alice.user_id).await;
    assert_eq!(link.path(), "/ui/v2/login/passkey/set");
    assert_eq!(
        query(&link, "userId").as_deref(),
        Some(alice.user_id.as_str())
    );
    let client = browser();
    let (html, options) = webauthn_page(&client, link.clone()).await;
    assert!(html.contains("data-mode=\"create\""), "{html}");
    let form = |html: &str, credential: &Value| {
        vec![
            ("csrf", hidden(html, "csrf")),
            ("userId", hidden(html, "userId")),
            ("orgId", hidden(html, "orgId")),
            ("codeId", hidden(html, "codeId")),
            ("code", hidden(html, "code")),
            ("token", hidden(html, "token")),
            ("credential", credential.to_string()),
        ]
    };
    // A credential that does not verify keeps the code usable
    let resp = client
        .post(api(&emu, "/ui/v2/login/passkey/set"))
        .form(&form(&html, &json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(html.contains("could not be verified"), "{html}");
    let options_after: Value =
        serde_json::from_str(&unescape(between(&html, "data-options=\"", "\""))).unwrap();
    assert_ne!(options, options_after, "a new challenge");
    // Without the CSRF token nothing happens
    let mut no_csrf = form(&html, &json!({}));
    no_csrf.retain(|(k, _)| *k != "csrf");
    let resp = client
        .post(api(&emu, "/ui/v2/login/passkey/set"))
        .form(&no_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // A valid credential registers the passkey
    let mut key = SoftKey::default();
    let cred = key.create(emu.issuer(), &options_after).await;
    let resp = client
        .post(api(&emu, "/ui/v2/login/passkey/set"))
        .form(&form(&html, &cred))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("Passkey registered"));
    let (_, list) = send(
        Client::new()
            .post(api(
                &emu,
                &format!("/v2/users/{}/passkeys/_search", alice.user_id),
            ))
            .bearer_auth(lc(&emu))
            .json(&json!({})),
    )
    .await;
    let ready: Vec<&Value> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "AUTH_FACTOR_STATE_READY")
        .collect();
    assert_eq!(ready.len(), 1, "{list}");
    // The link is spent; a wrong code is refused (here in German)
    let resp = client.get(link.clone()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("invalid, used or expired")
    );
    let mut wrong = link.clone();
    let other = mailed_passkey_link(&emu, &alice.user_id).await;
    wrong.set_query(Some(&format!(
        "userId={}&codeId={}&code=WRONGCODE123",
        alice.user_id,
        query(&other, "codeId").unwrap()
    )));
    let resp = client
        .get(wrong)
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("ungültig"));
    // The other, unused link still works
    let (_, _) = webauthn_page(&client, other).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passkey_signs_in_without_a_login_name_found_by_its_user_handle() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let mut key = SoftKey::default();
    let (status, reg) = send(
        Client::new()
            .post(api(&emu, &format!("/v2/users/{}/passkeys", alice.user_id)))
            .bearer_auth(lc(&emu))
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    let creation = &reg["publicKeyCredentialCreationOptions"]["publicKey"];
    assert_eq!(
        creation["authenticatorSelection"]["residentKey"],
        "required"
    );
    let cred = key
        .create(emu.issuer(), &reg["publicKeyCredentialCreationOptions"])
        .await;
    let (status, body) = send(
        Client::new()
            .post(api(
                &emu,
                &format!(
                    "/v2/users/{}/passkeys/{}",
                    alice.user_id,
                    reg["passkeyId"].as_str().unwrap()
                ),
            ))
            .bearer_auth(lc(&emu))
            .json(&json!({"publicKeyCredential": cred, "passkeyName": "Soft"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The login-name page offers the passkey without a login name
    let client = browser();
    let (verifier, challenge) = pkce();
    let (resp, _) = follow(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[]),
    )
    .await;
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"passkey-discover\""), "{html}");
    let mut url = Url::parse(&api(&emu, "/ui/v2/login/passkey/discover")).unwrap();
    url.query_pairs_mut()
        .append_pair("requestId", &hidden(&html, "requestId"));
    let (html, options) = webauthn_page(&client, url).await;
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let form = |html: &str, credential: &Value| {
        vec![
            ("csrf", hidden(html, "csrf")),
            ("requestId", hidden(html, "requestId")),
            ("token", hidden(html, "token")),
            ("credential", credential.to_string()),
        ]
    };
    // A credential that does not verify shows the error and a new challenge
    let resp = client
        .post(api(&emu, "/ui/v2/login/passkey/discover"))
        .form(&form(&html, &json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(html.contains("could not be verified"), "{html}");
    let options: Value =
        serde_json::from_str(&unescape(between(&html, "data-options=\"", "\""))).unwrap();
    // Another browser cannot use this ceremony. (passkey-rs' memory store
    // cannot discover credentials, so the test names the one to use; the
    // server sees only the assertion with its user handle.)
    let mut discoverable = options.clone();
    discoverable["publicKey"]["allowCredentials"] =
        json!([{"type": "public-key", "id": cred["rawId"]}]);
    let assertion = key.get(emu.issuer(), &discoverable).await;
    assert!(
        !assertion["response"]["userHandle"].is_null(),
        "{assertion}"
    );
    let other = browser();
    let (resp, _) = follow(&emu, &other, authorize_url(&emu, &challenge, "openid", &[])).await;
    let other_html = resp.text().await.unwrap();
    let mut stolen = form(&html, &assertion);
    stolen[0].1 = hidden(&other_html, "csrf");
    let resp = other
        .post(api(&emu, "/ui/v2/login/passkey/discover"))
        .form(&stolen)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // The assertion signs alice in
    let resp = client
        .post(api(&emu, "/ui/v2/login/passkey/discover"))
        .form(&form(&html, &assertion))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let callback = location(&emu, &resp);
    let tokens = exchange(&emu, &query(&callback, "code").unwrap(), &verifier).await;
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(
                tokens["id_token"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["sub"], alice.user_id.as_str());
    assert_eq!(payload["amr"], json!(["user", "mfa"]));
    // The ceremony is used up
    let resp = client
        .post(api(&emu, "/ui/v2/login/passkey/discover"))
        .form(&form(&html, &assertion))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}
