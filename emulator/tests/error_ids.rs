//! Error bodies that carry ZITADEL's own error ids and texts (see the list
//! in the README): users v2, sessions, auth requests and org policies.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use zitadel_emulator::RunningEmulator;

/// Sends a request with the login-client token; returns status, error id and message.
async fn call(
    emu: &RunningEmulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String, String) {
    call_as(
        emu,
        &emu.seed_info().login_client_token,
        method,
        path,
        body,
        None,
    )
    .await
}

async fn call_as(
    emu: &RunningEmulator,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    language: Option<&str>,
) -> (StatusCode, String, String) {
    let mut req = Client::new()
        .request(method, format!("{}{path}", emu.issuer()))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(l) = language {
        req = req.header("Accept-Language", l);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    (
        status,
        v["details"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        v["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn new_user(org: &str, username: &str, password: &str) -> Value {
    json!({"organizationId": org, "username": username, "human": {
        "profile": {"givenName": "E", "familyName": "Ids"},
        "email": {"email": format!("{username}@example.com"), "isVerified": true},
        "password": {"password": password}}})
}

#[tokio::test(flavor = "multi_thread")]
async fn user_errors_carry_zitadel_ids_and_texts() {
    let emu = start().await;
    let org = emu.seed_info().org_id.clone();
    // Password complexity, in ZITADEL's order of checks
    for (password, id, text) in [
        (
            "Sh0rt!",
            "COMMA-HuJf6",
            "Password is too short (COMMA-HuJf6)",
        ),
        (
            "NOLOWER1!",
            "COMMA-co3Xw",
            "Password must contain lower case (COMMA-co3Xw)",
        ),
        (
            "noupper1!",
            "COMMA-VoaRj",
            "Password must contain upper case (COMMA-VoaRj)",
        ),
        (
            "NoNumber!",
            "COMMA-ZBv4H",
            "Password must contain number (COMMA-ZBv4H)",
        ),
        (
            "NoSymbol1",
            "COMMA-ZDLwA",
            "Password must contain symbol (COMMA-ZDLwA)",
        ),
    ] {
        let (status, got, message) = call(
            &emu,
            Method::POST,
            "/v2/users/new",
            Some(new_user(&org, "eve", password)),
        )
        .await;
        assert_eq!(
            (status, got.as_str(), message.as_str()),
            (StatusCode::BAD_REQUEST, id, text)
        );
    }
    let (status, _, _) = call(
        &emu,
        Method::POST,
        "/v2/users/new",
        Some(new_user(&org, "eve", "Passw0rd!x")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A taken username: ZITADEL's unique-constraint error, German on request
    let (status, id, message) = call(
        &emu,
        Method::POST,
        "/v2/users/new",
        Some(new_user(&org, "eve", "Passw0rd!x")),
    )
    .await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::CONFLICT,
            "V3-DKcYh",
            "User already exists (V3-DKcYh)"
        )
    );
    let lc = emu.seed_info().login_client_token.clone();
    let (_, _, message) = call_as(
        &emu,
        &lc,
        Method::POST,
        "/v2/users/new",
        Some(new_user(&org, "eve", "Passw0rd!x")),
        Some("de"),
    )
    .await;
    assert_eq!(message, "Benutzer existiert bereits (V3-DKcYh)");
    // State changes (user v2 commands)
    let users: Value = Client::new()
        .post(format!("{}/v2/users", emu.issuer()))
        .bearer_auth(&lc)
        .json(&json!({"queries": [{"userNameQuery": {"userName": "eve"}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let eve = users["result"][0]["userId"].as_str().unwrap().to_owned();
    let state = |action: &'static str| {
        let (emu, eve) = (&emu, eve.clone());
        async move {
            call(
                emu,
                Method::POST,
                &format!("/v2/users/{eve}/{action}"),
                Some(json!({})),
            )
            .await
        }
    };
    assert_eq!(state("unlock").await.1, "COMMAND-olb9vb0oca");
    assert_eq!(state("reactivate").await.1, "COMMAND-s5qqcz97hf");
    assert_eq!(state("lock").await.0, StatusCode::OK);
    let (status, id, message) = state("lock").await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "COMMAND-lgws8wtsqf",
            "User is not active or initial (COMMAND-lgws8wtsqf)"
        )
    );
    assert_eq!(state("unlock").await.0, StatusCode::OK);
    assert_eq!(state("deactivate").await.0, StatusCode::OK);
    assert_eq!(state("deactivate").await.1, "COMMAND-5gunjw0cd7");
    assert_eq!(state("reactivate").await.0, StatusCode::OK);
    let (status, id, _) = call(&emu, Method::POST, "/v2/users/404/lock", Some(json!({}))).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::NOT_FOUND, "COMMAND-450yxuqrh1")
    );
    // Email codes: resend without a pending code, then an empty and a wrong code
    let (status, id, _) = call(
        &emu,
        Method::POST,
        &format!("/v2/users/{eve}/email/resend"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "EMAIL-5w5ilin4yt")
    );
    let patch = json!({"human": {"email": {"email": "eve2@example.com", "returnCode": {}}}});
    let (status, _, _) = call(
        &emu,
        Method::PATCH,
        &format!("/v2/users/{eve}"),
        Some(patch),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, id, _) = call(
        &emu,
        Method::POST,
        &format!("/v2/users/{eve}/email/verify"),
        Some(json!({"verificationCode": ""})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-Fia4a")
    );
    let (status, id, message) = call(
        &emu,
        Method::POST,
        &format!("/v2/users/{eve}/email/verify"),
        Some(json!({"verificationCode": "WRONG1"})),
    )
    .await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "COMMAND-eis9R",
            "Code is invalid (COMMAND-eis9R)"
        )
    );
    // A locked user: the session user check refuses her (untranslated key),
    // a password check on her existing session says she is locked
    let checks = json!({"checks": {"user": {"loginName": "eve@acme.localhost"}, "password": {"password": "Passw0rd!x"}}});
    let s: Value = Client::new()
        .post(format!("{}/v2/sessions", emu.issuer()))
        .bearer_auth(&lc)
        .json(&checks)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = s["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(state("lock").await.0, StatusCode::OK);
    let (status, id, message) = call(&emu, Method::POST, "/v2/sessions", Some(checks)).await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "SESSION-Gj4ko",
            "Errors.User.NotActive (SESSION-Gj4ko)"
        )
    );
    let password = json!({"checks": {"password": {"password": "Passw0rd!x"}}});
    let (status, id, _) = call(
        &emu,
        Method::PATCH,
        &format!("/v2/sessions/{sid}"),
        Some(password),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-JLK35")
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn session_auth_request_and_policy_errors_carry_zitadel_ids() {
    let emu = start().await;
    let (status, id, message) = call(&emu, Method::GET, "/v2/sessions/404", None).await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::NOT_FOUND,
            "QUERY-SFeaa",
            "Session does not exist (QUERY-SFeaa)"
        )
    );
    let (status, id, _) = call(&emu, Method::GET, "/v2/oidc/auth_requests/V2_404", None).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::NOT_FOUND, "QUERY-Thee9")
    );
    let (status, id, _) = call(
        &emu,
        Method::POST,
        "/v2/oidc/auth_requests/V2_404",
        Some(json!({"session": {"sessionId": "1", "sessionToken": "t"}})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::NOT_FOUND, "COMMAND-jae5P")
    );
    // Org login policy: update and reset without a custom policy, add twice
    let admin = &emu.seed_info().users[0];
    let s: Value = Client::new()
        .post(format!("{}/v2/sessions", emu.issuer()))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(&json!({"checks": {"user": {"loginName": admin.login_name}, "password": {"password": admin.password}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = s["sessionToken"].as_str().unwrap().to_owned();
    let policy = json!({"allowUsernamePassword": true});
    let login = "/management/v1/policies/login";
    let (status, id, message) =
        call_as(&emu, &at, Method::PUT, login, Some(policy.clone()), None).await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::NOT_FOUND,
            "Org-M0sif",
            "Login Policy not found (Org-M0sif)"
        )
    );
    assert_eq!(
        call_as(&emu, &at, Method::DELETE, login, None, None)
            .await
            .1,
        "Org-GHB37"
    );
    let unknown_idp = json!({"allowUsernamePassword": true, "idps": [{"idpId": "404", "ownerType": "IDP_OWNER_TYPE_ORG"}]});
    let (status, id, _) = call_as(&emu, &at, Method::POST, login, Some(unknown_idp), None).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "Org-FEd32")
    );
    assert_eq!(
        call_as(&emu, &at, Method::POST, login, Some(policy.clone()), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call_as(&emu, &at, Method::POST, login, Some(policy), None)
            .await
            .1,
        "Org-Dgfb2"
    );
    let (status, id, _) = call_as(
        &emu,
        &at,
        Method::PUT,
        "/management/v1/policies/password/complexity",
        Some(json!({"minLength": "8"})),
        None,
    )
    .await;
    assert_eq!((status, id.as_str()), (StatusCode::NOT_FOUND, "ORG-Dgs3g"));
    let (status, id, _) = call_as(
        &emu,
        &at,
        Method::PUT,
        "/management/v1/policies/lockout",
        Some(json!({"maxPasswordAttempts": 3})),
        None,
    )
    .await;
    assert_eq!((status, id.as_str()), (StatusCode::NOT_FOUND, "ORG-ADfs1"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idp_intent_and_link_errors_carry_zitadel_ids() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].user_id.clone();
    let urls =
        json!({"successUrl": "http://localhost:7777/ok", "failureUrl": "http://localhost:7777/no"});
    let (status, id, _) = call(
        &emu,
        Method::POST,
        "/v2/idp_intents",
        Some(json!({"idpId": "404", "urls": urls})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-39n221fs")
    );
    let (status, id, _) = call(
        &emu,
        Method::POST,
        &format!("/v2/users/{alice}/links"),
        Some(json!({"idpLink": {"idpId": "404", "userId": "ext", "userName": "ext"}})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-39nfs")
    );
    // The token is checked before the intent: unknown intents and wrong or
    // empty tokens are PERMISSION_DENIED
    let (status, id, message) = call(
        &emu,
        Method::POST,
        "/v2/idp_intents/404",
        Some(json!({"idpIntentToken": "x"})),
    )
    .await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::FORBIDDEN,
            "CRYPTO-Sf4gt",
            "Intent Token is invalid (CRYPTO-Sf4gt)"
        )
    );
    let (status, id, _) = call(
        &emu,
        Method::POST,
        "/v2/idp_intents/404",
        Some(json!({"idpIntentToken": ""})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::FORBIDDEN, "CRYPTO-Sfefs")
    );
    // An intent that has not succeeded (started, not finished at the IdP)
    let idps: Value = Client::new()
        .get(format!("{}/v2/settings/login/idps", emu.issuer()))
        .bearer_auth(&emu.seed_info().login_client_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let idp = idps["identityProviders"][0]["id"].as_str().unwrap();
    let started: Value = Client::new()
        .post(format!("{}/v2/idp_intents", emu.issuer()))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(&json!({"idpId": idp, "urls": urls}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let intent = query(
        &url::Url::parse(started["authUrl"].as_str().unwrap()).unwrap(),
        "state",
    )
    .unwrap();
    let (status, id, message) = call(
        &emu,
        Method::POST,
        &format!("/v2/idp_intents/{intent}"),
        Some(json!({"idpIntentToken": "t"})),
    )
    .await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "IDP-nme4gszsvx",
            "Intent has not succeeded (IDP-nme4gszsvx)"
        )
    );
    let check = json!({"checks": {"user": {"userId": alice}, "idpIntent": {"idpIntentId": intent, "idpIntentToken": "t"}}});
    let (status, id, _) = call(&emu, Method::POST, "/v2/sessions", Some(check)).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-Df4bw")
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn second_factor_errors_carry_zitadel_ids() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let uid = alice.user_id.clone();
    let totp = format!("/v2/users/{uid}/totp");
    let (status, id, _) = call(&emu, Method::DELETE, &totp, None).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::NOT_FOUND, "COMMAND-Hd9sd")
    );
    let (status, id, _) = call(
        &emu,
        Method::POST,
        &format!("{totp}/verify"),
        Some(json!({"code": "123456"})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::NOT_FOUND, "COMMAND-3Mif9s")
    );
    assert_eq!(
        call(&emu, Method::POST, &totp, Some(json!({}))).await.0,
        StatusCode::OK
    );
    let (status, id, message) = call(
        &emu,
        Method::POST,
        &format!("{totp}/verify"),
        Some(json!({"code": "abcdef"})),
    )
    .await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "EVENT-8isk2",
            "Invalid code (EVENT-8isk2)"
        )
    );
    // A session TOTP check before the TOTP is ready
    let s =
        json!({"checks": {"user": {"loginName": alice.login_name}, "totp": {"code": "123456"}}});
    let (status, id, _) = call(&emu, Method::POST, "/v2/sessions", Some(s)).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-3Mif9s")
    );
    // OTP email: added twice, removed twice
    let otp_email = format!("/v2/users/{uid}/otp_email");
    assert_eq!(
        call(&emu, Method::POST, &otp_email, Some(json!({})))
            .await
            .0,
        StatusCode::OK
    );
    let (status, id, message) = call(&emu, Method::POST, &otp_email, Some(json!({}))).await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::CONFLICT,
            "COMMAND-MKL2s",
            "Multifactor OTP (OneTimePassword) is already set up (COMMAND-MKL2s)"
        )
    );
    assert_eq!(
        call(&emu, Method::DELETE, &otp_email, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&emu, Method::DELETE, &otp_email, None).await.1,
        "COMMAND-b312D"
    );
    // OTP SMS without a verified phone
    let otp_sms = format!("/v2/users/{uid}/otp_sms");
    let (status, id, _) = call(&emu, Method::POST, &otp_sms, Some(json!({}))).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-Q54j2")
    );
    let (status, id, _) = call(&emu, Method::DELETE, &otp_sms, None).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::NOT_FOUND, "COMMAND-Sr3h3")
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn org_member_errors_carry_zitadel_ids() {
    let emu = start().await;
    let manager = &emu.seed_info().users[1];
    let s: Value = Client::new()
        .post(format!("{}/v2/sessions", emu.issuer()))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(&json!({"checks": {"user": {"loginName": manager.login_name}, "password": {"password": manager.password}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mt = s["sessionToken"].as_str().unwrap().to_owned();
    let alice = emu.seed_info().users[2].user_id.clone();
    let members = "/management/v1/orgs/me/members";
    let add = |user: &str, roles: Value| json!({"userId": user, "roles": roles});
    let (status, id, _) = call_as(
        &emu,
        &mt,
        Method::POST,
        members,
        Some(add(&alice, json!([]))),
        None,
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "ORG-4Mlfs")
    );
    let (status, id, message) = call_as(
        &emu,
        &mt,
        Method::POST,
        members,
        Some(add(&alice, json!(["IAM_OWNER"]))),
        None,
    )
    .await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "Org-4N8es",
            "Errors.Org.MemberInvalid (Org-4N8es)"
        )
    );
    let (status, id, _) = call_as(
        &emu,
        &mt,
        Method::POST,
        members,
        Some(add("404", json!(["ORG_OWNER"]))),
        None,
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "ORG-GoXOn")
    );
    assert_eq!(
        call_as(
            &emu,
            &mt,
            Method::POST,
            members,
            Some(add(&alice, json!(["ORG_OWNER"]))),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, id, _) = call_as(
        &emu,
        &mt,
        Method::POST,
        members,
        Some(add(&alice, json!(["ORG_OWNER"]))),
        None,
    )
    .await;
    assert_eq!((status, id.as_str()), (StatusCode::CONFLICT, "ORG-poWwe"));
    let (status, id, _) = call_as(
        &emu,
        &mt,
        Method::PUT,
        &format!("{members}/{alice}"),
        Some(json!({"roles": ["PROJECT_OWNER"]})),
        None,
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "IAM-m9fG8")
    );
    let (status, id, _) = call_as(
        &emu,
        &mt,
        Method::PUT,
        &format!("{members}/404"),
        Some(json!({"roles": ["ORG_OWNER"]})),
        None,
    )
    .await;
    assert_eq!((status, id.as_str()), (StatusCode::NOT_FOUND, "Org-D8JxR"));
    // Removing is idempotent
    assert_eq!(
        call_as(
            &emu,
            &mt,
            Method::DELETE,
            &format!("{members}/{alice}"),
            None,
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call_as(
            &emu,
            &mt,
            Method::DELETE,
            &format!("{members}/{alice}"),
            None,
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn service_user_errors_carry_zitadel_ids() {
    let emu = start().await;
    let org = emu.seed_info().org_id.clone();
    let created: Value = Client::new()
        .post(format!("{}/v2/users/new", emu.issuer()))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(&json!({"organizationId": org, "username": "svc-ids", "machine": {"name": "svc"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = format!("/v2/users/{id}/secret");
    let (status, err, message) = call(&emu, Method::DELETE, &secret, None).await;
    assert_eq!(
        (status, err.as_str(), message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "COMMAND-coi82n",
            "Secret doesn't exist (COMMAND-coi82n)"
        )
    );
    assert_eq!(
        call(&emu, Method::POST, &secret, Some(json!({}))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&emu, Method::DELETE, &secret, None).await.0,
        StatusCode::OK
    );
    let (status, err, message) = call(
        &emu,
        Method::DELETE,
        &format!("/v2/users/{id}/pats/404"),
        None,
    )
    .await;
    assert_eq!(
        (status, err.as_str(), message.as_str()),
        (
            StatusCode::NOT_FOUND,
            "COMMAND-4m77G",
            "Personal Access Token not found (COMMAND-4m77G)"
        )
    );
    let (status, err, message) = call(
        &emu,
        Method::DELETE,
        &format!("/v2/users/{id}/keys/404"),
        None,
    )
    .await;
    assert_eq!(
        (status, err.as_str(), message.as_str()),
        (
            StatusCode::NOT_FOUND,
            "COMMAND-4m77G",
            "Machine key not found (COMMAND-4m77G)"
        )
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_authorization_errors_carry_zitadel_ids() {
    let emu = start().await;
    let (status, id, message) = call(
        &emu,
        Method::GET,
        "/v2/oidc/device_authorization/NOPE-NOPE",
        None,
    )
    .await;
    assert_eq!(
        (status, id.as_str(), message.as_str()),
        (
            StatusCode::NOT_FOUND,
            "QUERY-Sah9a",
            "Device Authorization Request does not exist (QUERY-Sah9a)"
        )
    );
    let (status, id, _) = call(
        &emu,
        Method::POST,
        "/v2/oidc/device_authorization/404",
        Some(json!({"deny": {}})),
    )
    .await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::NOT_FOUND, "COMMAND-Hief9")
    );
    // Denied once, a second answer is refused
    let dev: Value = Client::new()
        .post(format!("{}/oauth/v2/device_authorization", emu.issuer()))
        .form(&[("client_id", "native-app"), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Value = Client::new()
        .get(format!(
            "{}/v2/oidc/device_authorization/{}",
            emu.issuer(),
            dev["user_code"].as_str().unwrap()
        ))
        .bearer_auth(&emu.seed_info().login_client_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!(
        "/v2/oidc/device_authorization/{}",
        got["deviceAuthorizationRequest"]["id"].as_str().unwrap()
    );
    assert_eq!(
        call(&emu, Method::POST, &path, Some(json!({"deny": {}})))
            .await
            .0,
        StatusCode::OK
    );
    let (status, id, _) = call(&emu, Method::POST, &path, Some(json!({"deny": {}}))).await;
    assert_eq!(
        (status, id.as_str()),
        (StatusCode::BAD_REQUEST, "COMMAND-GEJL3")
    );
    emu.shutdown().await;
}
