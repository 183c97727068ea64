//! REST API slice: sessions v2, OIDC v2, users read, authorization rules.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use zitadel_emulator::RunningEmulator;

fn api(emu: &RunningEmulator, path: &str) -> String {
    format!("{}{path}", emu.issuer())
}

async fn create_session(emu: &RunningEmulator, login: &str, password: &str) -> reqwest::Response {
    Client::new()
        .post(api(emu, "/v2/sessions"))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(
            &json!({"checks": {"user": {"loginName": login}, "password": {"password": password}}}),
        )
        .send()
        .await
        .unwrap()
}

/// Starts an authorize request and returns the `V2_` auth request id.
async fn auth_request(emu: &RunningEmulator, challenge: &str, scope: &str) -> String {
    let resp = browser()
        .get(authorize_url(emu, challenge, scope, &[]))
        .send()
        .await
        .unwrap();
    let loc = location(emu, &resp);
    let id = query(&loc, "authRequest").unwrap();
    assert!(id.starts_with("V2_"));
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn login_client_finishes_an_auth_request_with_a_session_once() {
    let emu = start().await;
    let (verifier, challenge) = pkce();
    let ar = auth_request(&emu, &challenge, &format!("openid {ZITADEL_AUD}")).await;
    let lc = emu.seed_info().login_client_token.clone();
    // The login client reads the auth request
    let got: Value = Client::new()
        .get(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["authRequest"]["clientId"], "native-app");
    assert_eq!(got["authRequest"]["redirectUri"], REDIRECT);
    // Creates a session with user and password checks (201)
    let resp = create_session(&emu, "alice@acme.localhost", "Password1!").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let s: Value = resp.json().await.unwrap();
    assert!(s["details"]["sequence"].is_string(), "int64 as string");
    // And links it to the auth request
    let body = json!({"session": {"sessionId": s["sessionId"], "sessionToken": s["sessionToken"]}});
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
        .bearer_auth(&lc)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cb: Value = resp.json().await.unwrap();
    let url = url::Url::parse(cb["callbackUrl"].as_str().unwrap()).unwrap();
    assert_eq!(query(&url, "state").as_deref(), Some("st-123"));
    let tokens = exchange(&emu, &query(&url, "code").unwrap(), &verifier).await;
    // A second callback fails with FAILED_PRECONDITION (400)
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
        .bearer_auth(&lc)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], 9);
    // The user's token (with the zitadel audience) reads the user's own record
    let at = tokens["access_token"].as_str().unwrap();
    let me: Value = Client::new()
        .get(api(&emu, "/auth/v1/users/me"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["preferredLoginName"], "alice@acme.localhost");
    assert_eq!(me["user"]["human"]["profile"]["firstName"], "Alice");
    let alice_id = emu.seed_info().users[2].user_id.clone();
    let own = Client::new()
        .get(api(&emu, &format!("/v2/users/{alice_id}")))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let own: Value = own.json().await.unwrap();
    assert_eq!(own["user"]["human"]["email"]["isVerified"], true);
    assert!(
        own["user"]["human"]["profile"].get("nickName").is_none(),
        "zero values omitted"
    );
    // But not somebody else's (403, code 7)
    let admin_id = emu.seed_info().users[0].user_id.clone();
    let resp = Client::new()
        .get(api(&emu, &format!("/v2/users/{admin_id}")))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["code"], 7);
    assert_eq!(err["details"][0]["id"], "AUTH-5mWD2");
    assert_eq!(
        err["details"][0]["@type"],
        "type.googleapis.com/zitadel.v1.ErrorDetail"
    );
    assert_eq!(err["message"], "No matching permissions found (AUTH-5mWD2)");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_counts_failed_attempts() {
    let emu = start().await;
    for attempt in 1..=2 {
        let resp = create_session(&emu, "alice@acme.localhost", "wrong").await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["code"], 3);
        assert_eq!(
            err["details"][0]["@type"],
            "type.googleapis.com/zitadel.v1.CredentialsCheckError"
        );
        assert_eq!(err["details"][0]["id"], "COMMAND-3M0fs");
        assert_eq!(err["details"][0]["failedAttempts"], attempt);
    }
    let resp = create_session(&emu, "nobody@acme.localhost", "x").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], 5);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_rejects_missing_tokens_wrong_audience_and_missing_permissions() {
    let emu = start().await;
    // No token: 401, code 16
    let resp = Client::new()
        .post(api(&emu, "/v2/sessions"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], 16);
    // A user token without the zitadel audience: 401 invalid audience
    let tokens = login_and_exchange(&emu, &browser(), "openid").await;
    let resp = Client::new()
        .get(api(&emu, "/auth/v1/users/me"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["details"][0]["id"],
        "APP-Zxfako"
    );
    // An end user may not create sessions: 403
    let client = browser();
    let (verifier, challenge) = pkce();
    let alice = emu.seed_info().users[2].clone();
    let cb = login_with_password(
        &emu,
        &client,
        authorize_url(&emu, &challenge, &format!("openid {ZITADEL_AUD}"), &[]),
        &alice.login_name,
        &alice.password,
    )
    .await;
    let tokens = exchange(&emu, &query(&cb, "code").unwrap(), &verifier).await;
    let resp = Client::new()
        .post(api(&emu, "/v2/sessions"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Malformed JSON: 400, code 3
    let resp = Client::new()
        .post(api(&emu, "/v2/sessions"))
        .bearer_auth(&emu.seed_info().login_client_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], 3);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn set_session_rotates_the_token_and_delete_ends_derived_tokens() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let resp = Client::new()
        .post(api(&emu, "/v2/sessions"))
        .bearer_auth(&lc)
        .json(&json!({"checks": {"user": {"login_name": "admin@acme.localhost"}}}))
        .send()
        .await
        .unwrap();
    let s: Value = resp.json().await.unwrap();
    let id = s["sessionId"].as_str().unwrap().to_owned();
    let first = s["sessionToken"].as_str().unwrap().to_owned();
    let resp = Client::new()
        .patch(api(&emu, &format!("/v2/sessions/{id}")))
        .bearer_auth(&lc)
        .json(&json!({"checks": {"password": {"password": "Password1!"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let second = resp.json::<Value>().await.unwrap()["sessionToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    let got: Value = Client::new()
        .get(api(&emu, &format!("/v2/sessions/{id}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(got["session"]["factors"]["password"]["verifiedAt"].is_string());
    assert_eq!(
        got["session"]["factors"]["user"]["loginName"],
        "admin@acme.localhost"
    );
    // Finish an auth request with it, then delete the session
    let (verifier, challenge) = pkce();
    let ar = auth_request(&emu, &challenge, "openid").await;
    let cb: Value = Client::new()
        .post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
        .bearer_auth(&lc)
        .json(&json!({"session": {"sessionId": id, "sessionToken": first}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cb["code"], 7, "the rotated-out token is refused: {cb}");
    let cb: Value = Client::new()
        .post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
        .bearer_auth(&lc)
        .json(&json!({"session": {"sessionId": id, "sessionToken": second}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = url::Url::parse(cb["callbackUrl"].as_str().unwrap()).unwrap();
    let tokens = exchange(&emu, &query(&url, "code").unwrap(), &verifier).await;
    let resp = Client::new()
        .delete(api(&emu, &format!("/v2/sessions/{id}")))
        .bearer_auth(&lc)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let info = Client::new()
        .get(api(&emu, "/oidc/v1/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    let resp = Client::new()
        .get(api(&emu, &format!("/v2/sessions/{id}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_client_approves_a_device_authorization() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let auth = device_authorization(&emu).await;
    let code = auth["user_code"].as_str().unwrap();
    let got: Value = Client::new()
        .get(api(&emu, &format!("/v2/oidc/device_authorization/{code}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let req = &got["deviceAuthorizationRequest"];
    assert_eq!(req["clientId"], "native-app");
    assert_eq!(req["projectName"], "Demo");
    let s: Value = create_session(&emu, "alice@acme.localhost", "Password1!")
        .await
        .json()
        .await
        .unwrap();
    let resp = Client::new()
        .post(api(
            &emu,
            &format!(
                "/v2/oidc/device_authorization/{}",
                req["id"].as_str().unwrap()
            ),
        ))
        .bearer_auth(&lc)
        .json(&json!({"session": {"sessionId": s["sessionId"], "sessionToken": s["sessionToken"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({}));
    let resp = token(
        &emu,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", auth["device_code"].as_str().unwrap()),
            ("client_id", "native-app"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_client_creates_a_user_whose_email_code_goes_to_the_outbox() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let org = emu.seed_info().org_id.clone();
    // Given a new user created with sendCode
    let body = json!({"organizationId": org, "human": {
        "profile": {"givenName": "Bob", "familyName": "Builder"},
        "email": {"email": "bob@example.com", "sendCode": {"urlTemplate": "https://app/verify?u={{.UserID}}&c={{.Code}}"}},
        "password": {"password": "Secret1!x", "changeRequired": false}}});
    let resp = Client::new()
        .post(api(&emu, "/v2/users/new"))
        .bearer_auth(&lc)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let created: Value = resp.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created.get("emailCode").is_none());
    // Then the outbox has the code for that address
    let outbox: Value = Client::new()
        .get(api(&emu, "/_emulator/outbox?to=bob@example.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let msg = &outbox["messages"][0];
    let code = msg["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(
        msg["text"]
            .as_str()
            .unwrap()
            .contains(&format!("https://app/verify?u={id}&c={code}"))
    );
    // A wrong code is refused, the right one verifies; resend afterwards has no pending code
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{id}/email/verify")))
        .bearer_auth(&lc)
        .json(&json!({"verificationCode": "WRONG1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{id}/email/verify")))
        .bearer_auth(&lc)
        .json(&json!({"verificationCode": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{id}/email/resend")))
        .bearer_auth(&lc)
        .json(&json!({"returnCode": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], 9);
    // The new user can log in (username defaults to the email)
    let s = create_session(&emu, "bob@example.com", "Secret1!x").await;
    assert_eq!(s.status(), StatusCode::CREATED);
    // Duplicates get 409, weak passwords 400, returnCode returns the code
    let resp = Client::new()
        .post(api(&emu, "/v2/users/new"))
        .bearer_auth(&lc)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let weak = json!({"organizationId": org, "human": {"profile": {"givenName": "C", "familyName": "D"}, "email": {"email": "c@example.com"}, "password": {"password": "short"}}});
    let resp = Client::new()
        .post(api(&emu, "/v2/users/new"))
        .bearer_auth(&lc)
        .json(&weak)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let deprecated = json!({"organization": {"orgDomain": "acme.localhost"}, "profile": {"given_name": "E", "family_name": "F"}, "email": {"email": "e@example.com", "return_code": {}}});
    let resp = Client::new()
        .post(api(&emu, "/v2/users/human"))
        .bearer_auth(&lc)
        .json(&deprecated)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let added: Value = resp.json().await.unwrap();
    assert!(added["userId"].is_string());
    assert_eq!(added["emailCode"].as_str().unwrap().len(), 6);
    // An end user cannot create users
    let alice = create_session(&emu, "alice@acme.localhost", "Password1!")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let resp = Client::new()
        .post(api(&emu, "/v2/users/new"))
        .bearer_auth(alice["sessionToken"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_need_policy_read_and_end_users_use_the_auth_v1_policies() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let org = emu.seed_info().org_id.clone();
    let resp = Client::new()
        .get(api(
            &emu,
            &format!("/v2/settings/password/complexity?ctx.orgId={org}"),
        ))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["settings"]["minLength"], "8", "uint64 as string");
    assert_eq!(v["settings"]["requiresSymbol"], true);
    assert_eq!(
        v["settings"]["resourceOwnerType"],
        "RESOURCE_OWNER_TYPE_INSTANCE"
    );
    let login: Value = Client::new()
        .get(api(&emu, "/v2/settings/login?ctx.instance=true"))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["settings"]["allowRegister"], true);
    assert!(
        login["settings"].get("forceMfa").is_none(),
        "false is omitted"
    );
    let legal: Value = Client::new()
        .get(api(&emu, "/v2/settings/legal_support"))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        legal["settings"]["tosLink"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    // An end user has no policy.read but can read the auth v1 policies
    let alice = create_session(&emu, "alice@acme.localhost", "Password1!")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let token = alice["sessionToken"].as_str().unwrap();
    let resp = Client::new()
        .get(api(&emu, "/v2/settings/password/complexity"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let mine: Value = Client::new()
        .get(api(&emu, "/auth/v1/policies/passwords/complexity"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["policy"]["hasUppercase"], true);
    assert_eq!(mine["policy"]["isDefault"], true);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_update_themselves_and_reset_passwords_with_a_code() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let alice_id = emu.seed_info().users[2].user_id.clone();
    let alice = create_session(&emu, "alice@acme.localhost", "Password1!")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let token = alice["sessionToken"].as_str().unwrap().to_owned();
    let patch = |body: Value, bearer: String| {
        let url = api(&emu, &format!("/v2/users/{alice_id}"));
        async move {
            Client::new()
                .patch(url)
                .bearer_auth(bearer)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    // Profile and email change by the user herself; the new email gets a code
    let resp = patch(json!({"human": {"profile": {"nickName": "Al"}, "email": {"email": "al@example.com", "returnCode": {}}}}), token.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["emailCode"].as_str().unwrap().len(), 6);
    assert!(v["changeDate"].is_string());
    let user: Value = Client::new()
        .get(api(&emu, &format!("/v2/users/{alice_id}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["user"]["human"]["profile"]["nickName"], "Al");
    assert_eq!(user["user"]["human"]["email"]["email"], "al@example.com");
    assert!(user["user"]["human"]["email"].get("isVerified").is_none());
    // Marking it verified needs user.write, which the user lacks
    let resp = patch(
        json!({"human": {"email": {"email": "al@example.com", "isVerified": true}}}),
        token.clone(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Password change needs the current password
    let resp = patch(json!({"human": {"password": {"password": {"password": "N3w-password"}, "currentPassword": "wrong"}}}), token.clone()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = patch(
        json!({"human": {"password": {"password": {"password": "N3w-password"}}}}),
        token.clone(),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "self without current password"
    );
    let resp = patch(json!({"human": {"password": {"password": {"password": "N3w-password"}, "currentPassword": "Password1!"}}}), token.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Reset by email code through the login client (deprecated SetPassword form)
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{alice_id}/password_reset")))
        .bearer_auth(&lc)
        .json(&json!({"sendLink": {"notificationType": "NOTIFICATION_TYPE_Email"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let outbox: Value = Client::new()
        .get(api(&emu, "/_emulator/outbox?to=al@example.com"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reset = outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"] == "Reset password")
        .unwrap();
    let code = reset["code"].as_str().unwrap();
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{alice_id}/password")))
        .bearer_auth(&lc)
        .json(&json!({"newPassword": {"password": "An0ther-one"}, "verificationCode": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        create_session(&emu, "alice@acme.localhost", "An0ther-one")
            .await
            .status(),
        StatusCode::CREATED
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn service_users_authenticate_with_secret_pat_and_key() {
    use base64::Engine as _;
    use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let org = emu.seed_info().org_id.clone();
    let created: Value = Client::new().post(api(&emu, "/v2/users/new")).bearer_auth(&lc).json(&json!({"organizationId": org, "username": "svc", "machine": {"name": "Service", "description": "test"}})).send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let me = |token: String| {
        let url = api(&emu, "/auth/v1/users/me");
        async move {
            Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    // Client credentials
    let secret: Value = Client::new()
        .post(api(&emu, &format!("/v2/users/{id}/secret")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = secret["clientSecret"].as_str().unwrap().to_owned();
    let resp = Client::new()
        .post(api(&emu, "/oauth/v2/token"))
        .basic_auth("svc", Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", &format!("openid {ZITADEL_AUD}")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let t: Value = resp.json().await.unwrap();
    let resp = me(t["access_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["user"]["machine"]["name"],
        "Service"
    );
    let resp = Client::new()
        .post(api(&emu, "/oauth/v2/token"))
        .basic_auth("svc", Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // PAT, then removed
    let pat: Value = Client::new()
        .post(api(&emu, &format!("/v2/users/{id}/pats")))
        .bearer_auth(&lc)
        .json(&json!({"expirationDate": "2099-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me(pat["token"].as_str().unwrap().to_owned()).await.status(),
        StatusCode::OK
    );
    let resp = Client::new()
        .delete(api(
            &emu,
            &format!("/v2/users/{id}/pats/{}", pat["tokenId"].as_str().unwrap()),
        ))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        me(pat["token"].as_str().unwrap().to_owned()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Key file and the JWT-bearer grant
    let key: Value = Client::new()
        .post(api(&emu, &format!("/v2/users/{id}/keys")))
        .bearer_auth(&lc)
        .json(&json!({"expirationDate": "2099-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(key["keyContent"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(file["type"], "serviceaccount");
    assert_eq!(file["userId"], id.as_str());
    let private = rsa::RsaPrivateKey::from_pkcs1_pem(file["key"].as_str().unwrap()).unwrap();
    let encoding =
        jsonwebtoken::EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign = |aud: &str| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(file["keyId"].as_str().unwrap().to_owned());
        jsonwebtoken::encode(
            &header,
            &json!({"iss": id, "sub": id, "aud": aud, "iat": now, "exp": now + 600}),
            &encoding,
        )
        .unwrap()
    };
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let scope = format!("openid {ZITADEL_AUD}");
    let resp = token(
        &emu,
        &[
            ("grant_type", grant),
            ("assertion", &sign(emu.issuer())),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let t: Value = resp.json().await.unwrap();
    assert_eq!(
        me(t["access_token"].as_str().unwrap().to_owned())
            .await
            .status(),
        StatusCode::OK
    );
    let resp = token(
        &emu,
        &[
            ("grant_type", grant),
            ("assertion", &sign("https://other.example")),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let user: Value = Client::new()
        .get(api(&emu, &format!("/v2/users/{id}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["user"]["machine"]["hasSecret"], true);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn totp_is_registered_verified_and_checked_in_sessions_and_the_hosted_login() {
    let emu = start().await;
    let alice = emu.seed_info().users[2].clone();
    let s = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let token = s["sessionToken"].as_str().unwrap().to_owned();
    // Given a TOTP registered and verified by the user herself
    let reg: Value = Client::new()
        .post(api(&emu, &format!("/v2/users/{}/totp", alice.user_id)))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = reg["secret"].as_str().unwrap().to_owned();
    assert!(reg["uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let resp = Client::new()
        .post(api(
            &emu,
            &format!("/v2/users/{}/totp/verify", alice.user_id),
        ))
        .bearer_auth(&token)
        .json(&json!({"code": "000000x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = Client::new()
        .post(api(
            &emu,
            &format!("/v2/users/{}/totp/verify", alice.user_id),
        ))
        .bearer_auth(&token)
        .json(&json!({"code": totp_now(&secret)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Then a session can check it
    let lc = emu.seed_info().login_client_token.clone();
    let resp = Client::new()
        .patch(api(
            &emu,
            &format!("/v2/sessions/{}", s["sessionId"].as_str().unwrap()),
        ))
        .bearer_auth(&lc)
        .json(&json!({"checks": {"totp": {"code": totp_now(&secret)}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let got: Value = Client::new()
        .get(api(
            &emu,
            &format!("/v2/sessions/{}", s["sessionId"].as_str().unwrap()),
        ))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(got["session"]["factors"]["totp"]["verifiedAt"].is_string());
    // And the hosted login asks for the code after the password
    let client = browser();
    let (verifier, challenge) = pkce();
    let html = alice_at_page(&emu, &client, &challenge, "/ui/v2/login/otp/time-based").await;
    let form = |code: String| {
        vec![
            ("csrf", hidden(&html, "csrf")),
            ("requestId", hidden(&html, "requestId")),
            ("sessionId", hidden(&html, "sessionId")),
            ("code", code),
        ]
    };
    let resp = client
        .post(api(&emu, "/ui/v2/login/otp/time-based"))
        .form(&form("123".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = client
        .post(api(&emu, "/ui/v2/login/otp/time-based"))
        .form(&form(totp_now(&secret)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let tokens = exchange(
        &emu,
        &query(&location(&emu, &resp), "code").unwrap(),
        &verifier,
    )
    .await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            id_token.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["amr"], json!(["pwd", "otp", "mfa"]));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn org_policies_drive_lockout_complexity_and_registration() {
    let emu = start().await;
    let manager = create_session(&emu, "manager@acme.localhost", "Password1!")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let mt = manager["sessionToken"].as_str().unwrap().to_owned();
    let org = emu.seed_info().org_id.clone();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let req = Client::new()
            .request(method, api(&emu, path))
            .bearer_auth(&mt)
            .header("x-zitadel-orgid", &org);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        async move { req.send().await.unwrap() }
    };
    // Lockout: a custom policy of 2 attempts; a second create is a conflict
    let resp = call(
        reqwest::Method::PUT,
        "/management/v1/policies/lockout",
        Some(json!({"maxPasswordAttempts": 2})),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "update without a custom policy"
    );
    let resp = call(
        reqwest::Method::POST,
        "/management/v1/policies/lockout",
        Some(json!({"maxPasswordAttempts": 2})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(
        reqwest::Method::POST,
        "/management/v1/policies/lockout",
        Some(json!({"maxPasswordAttempts": 2})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let got: Value = call(
        reqwest::Method::GET,
        "/management/v1/policies/lockout",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(got["policy"]["maxPasswordAttempts"], "2");
    assert!(got.get("isDefault").is_none());
    let lc = emu.seed_info().login_client_token.clone();
    let v2: Value = Client::new()
        .get(api(&emu, &format!("/v2/settings/lockout?ctx.orgId={org}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v2["settings"]["resourceOwnerType"],
        "RESOURCE_OWNER_TYPE_ORG"
    );
    // Two wrong passwords lock the user
    let first: Value = create_session(&emu, "alice@acme.localhost", "wrong")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["code"], 3);
    let second: Value = create_session(&emu, "alice@acme.localhost", "wrong")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["code"], 9);
    assert_eq!(second["details"][0]["failedAttempts"], 2);
    let resp = create_session(&emu, "alice@acme.localhost", "Password1!").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let alice_id = emu.seed_info().users[2].user_id.clone();
    let user: Value = Client::new()
        .get(api(&emu, &format!("/v2/users/{alice_id}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["user"]["state"], "USER_STATE_LOCKED");
    // The manager unlocks her; a second unlock is a precondition failure
    let resp = call(
        reqwest::Method::POST,
        &format!("/v2/users/{alice_id}/unlock"),
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(
        reqwest::Method::POST,
        &format!("/v2/users/{alice_id}/unlock"),
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        create_session(&emu, "alice@acme.localhost", "Password1!")
            .await
            .status(),
        StatusCode::CREATED
    );
    // Complexity: a longer minimum applies to new users; reset restores the default
    let resp = call(reqwest::Method::POST, "/management/v1/policies/password/complexity", Some(json!({"minLength": "12", "hasUppercase": true, "hasLowercase": true, "hasNumber": true, "hasSymbol": true}))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json!({"organizationId": org, "human": {"profile": {"givenName": "P", "familyName": "Q"}, "email": {"email": "pq@example.com", "isVerified": true}, "password": {"password": "Short1!x"}}});
    let resp = Client::new()
        .post(api(&emu, "/v2/users/new"))
        .bearer_auth(&lc)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let mine: Value = Client::new()
        .get(api(&emu, "/auth/v1/policies/passwords/complexity"))
        .bearer_auth(&mt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["policy"]["minLength"], "12");
    let resp = call(
        reqwest::Method::DELETE,
        "/management/v1/policies/password/complexity",
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = Client::new()
        .post(api(&emu, "/v2/users/new"))
        .bearer_auth(&lc)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Login policy without registration: the hosted registration page refuses
    let resp = call(
        reqwest::Method::POST,
        "/management/v1/policies/login",
        Some(json!({"allowUsernamePassword": true, "allowRegister": false})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, challenge) = pkce();
    let (resp, _) = follow(
        &emu,
        &browser(),
        authorize_url(&emu, &challenge, "openid", &[("prompt", "create")]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // An end user cannot write policies
    let alice = create_session(&emu, "alice@acme.localhost", "Password1!")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let resp = Client::new()
        .delete(api(&emu, "/management/v1/policies/login"))
        .bearer_auth(alice["sessionToken"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn otp_email_challenges_checks_search_and_auth_methods() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let alice = emu.seed_info().users[2].clone();
    // Given OTP email enabled by the user herself
    let s: Value = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json()
        .await
        .unwrap();
    let token = s["sessionToken"].as_str().unwrap().to_owned();
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{}/otp_email", alice.user_id)))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let methods: Value = Client::new()
        .get(api(
            &emu,
            &format!("/v2/users/{}/authentication_methods", alice.user_id),
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        methods["authMethodTypes"],
        json!([
            "AUTHENTICATION_METHOD_TYPE_PASSWORD",
            "AUTHENTICATION_METHOD_TYPE_OTP_EMAIL"
        ])
    );
    // When a session asks for a returned challenge, then checks it
    let sid = s["sessionId"].as_str().unwrap();
    let resp: Value = Client::new()
        .patch(api(&emu, &format!("/v2/sessions/{sid}")))
        .bearer_auth(&lc)
        .json(&json!({"challenges": {"otpEmail": {"returnCode": {}}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = resp["challenges"]["otpEmail"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    let bad = Client::new()
        .patch(api(&emu, &format!("/v2/sessions/{sid}")))
        .bearer_auth(&lc)
        .json(&json!({"checks": {"otpEmail": {"code": "00000000"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let ok = Client::new()
        .patch(api(&emu, &format!("/v2/sessions/{sid}")))
        .bearer_auth(&lc)
        .json(&json!({"checks": {"otpEmail": {"code": code}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // Then the session shows the factor, and search finds it by user
    let found: Value = Client::new()
        .post(api(&emu, "/v2/sessions/search"))
        .bearer_auth(&lc)
        .json(&json!({"query": {"limit": 10}, "queries": [{"userIdQuery": {"id": alice.user_id}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["details"]["totalResult"], "1");
    assert!(found["sessions"][0]["factors"]["otpEmail"]["verifiedAt"].is_string());
    // A plain user sees only her own sessions
    let admin = emu.seed_info().users[0].clone();
    create_session(&emu, &admin.login_name, &admin.password).await;
    // (SetSession rotated the first token; take a fresh session's token)
    let fresh: Value = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json()
        .await
        .unwrap();
    let mine: Value = Client::new()
        .post(api(&emu, "/v2/sessions/search"))
        .bearer_auth(fresh["sessionToken"].as_str().unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        mine["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["factors"]["user"]["id"] == alice.user_id.as_str())
    );
    let resp = Client::new()
        .post(api(&emu, "/v2/sessions/search"))
        .bearer_auth(&lc)
        .json(&json!({"query": {"limit": 5000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // And the hosted login asks for an emailed code after the password
    let client = browser();
    let (verifier, challenge) = pkce();
    let html = alice_at_page(&emu, &client, &challenge, "/ui/v2/login/otp/email").await;
    let outbox: Value = Client::new()
        .get(api(
            &emu,
            &format!("/_emulator/outbox?to={}", alice.login_name),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = outbox["messages"].as_array().unwrap().last().unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = vec![
        ("csrf", hidden(&html, "csrf")),
        ("requestId", hidden(&html, "requestId")),
        ("sessionId", hidden(&html, "sessionId")),
        ("code", code),
    ];
    let resp = client
        .post(api(&emu, "/ui/v2/login/otp/email"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    exchange(
        &emu,
        &query(&location(&emu, &resp), "code").unwrap(),
        &verifier,
    )
    .await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn orgs_grants_and_members_follow_the_manager_roles() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let token = |login: &'static str| {
        let emu = &emu;
        async move {
            create_session(emu, login, "Password1!")
                .await
                .json::<Value>()
                .await
                .unwrap()["sessionToken"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let admin = token("admin@acme.localhost").await;
    let manager = token("manager@acme.localhost").await;
    // Only IAM_OWNER may create orgs (201); an ORG_OWNER may not
    let body = json!({"name": "Globex Corp", "admins": [{"human": {"profile": {"givenName": "G", "familyName": "O"}, "email": {"email": "g@globex.example", "returnCode": {}}}}]});
    let resp = Client::new()
        .post(api(&emu, "/v2/organizations"))
        .bearer_auth(&manager)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = Client::new()
        .post(api(&emu, "/v2/organizations"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert!(created["organizationId"].is_string());
    assert_eq!(
        created["createdAdmins"][0]["emailCode"]
            .as_str()
            .unwrap()
            .len(),
        6
    );
    let found: Value = Client::new().post(api(&emu, "/v2/organizations/_search")).bearer_auth(&admin).json(&json!({"queries": [{"nameQuery": {"name": "globex", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["result"][0]["primaryDomain"], "globex-corp.localhost");
    // The ACME manager sees only ACME
    let mine: Value = Client::new()
        .post(api(&emu, "/v2/organizations/_search"))
        .bearer_auth(&manager)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["details"]["totalResult"], "1");
    // Grants: the manager grants alice the admin role on the Demo project
    let alice = emu.seed_info().users[2].user_id.clone();
    let project = emu.seed_info().project_id.clone();
    let resp = Client::new()
        .post(api(&emu, &format!("/management/v1/users/{alice}/grants")))
        .bearer_auth(&manager)
        .json(&json!({"projectId": project, "roleKeys": ["nope"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = Client::new()
        .post(api(&emu, &format!("/management/v1/users/{alice}/grants")))
        .bearer_auth(&manager)
        .json(&json!({"projectId": project, "roleKeys": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::CONFLICT,
        "alice already has a grant on the project"
    );
    let grants: Value = Client::new()
        .post(api(&emu, "/management/v1/users/grants/_search"))
        .bearer_auth(&manager)
        .json(&json!({"queries": [{"userIdQuery": {"userId": alice}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grant_id = grants["result"][0]["id"].as_str().unwrap().to_owned();
    let resp = Client::new()
        .put(api(
            &emu,
            &format!("/management/v1/users/{alice}/grants/{grant_id}"),
        ))
        .bearer_auth(&manager)
        .json(&json!({"roleKeys": ["admin", "user"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The new role reaches the token's role claims
    let s: Value = create_session(&emu, "alice@acme.localhost", "Password1!")
        .await
        .json()
        .await
        .unwrap();
    let (verifier, challenge) = pkce();
    let ar = {
        let resp = browser()
            .get(authorize_url(
                &emu,
                &challenge,
                "openid urn:zitadel:iam:org:projects:roles",
                &[],
            ))
            .send()
            .await
            .unwrap();
        query(&location(&emu, &resp), "authRequest").unwrap()
    };
    let cb: Value = Client::new()
        .post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
        .bearer_auth(&lc)
        .json(&json!({"session": {"sessionId": s["sessionId"], "sessionToken": s["sessionToken"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = query(
        &url::Url::parse(cb["callbackUrl"].as_str().unwrap()).unwrap(),
        "code",
    )
    .unwrap();
    let tokens = exchange(&emu, &code, &verifier).await;
    let info: Value = Client::new()
        .get(api(&emu, "/oidc/v1/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let roles = info["urn:zitadel:iam:org:project:roles"]
        .as_object()
        .unwrap();
    assert!(roles.contains_key("admin") && roles.contains_key("user"));
    // Members: the manager makes alice an ORG_USER_MANAGER, who may then read users
    let alice_token = token("alice@acme.localhost").await;
    let admin_id = emu.seed_info().users[0].user_id.clone();
    let resp = Client::new()
        .get(api(&emu, &format!("/v2/users/{admin_id}")))
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = Client::new()
        .post(api(&emu, "/management/v1/orgs/me/members"))
        .bearer_auth(&manager)
        .json(&json!({"userId": alice, "roles": ["ORG_USER_MANAGER"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = Client::new()
        .get(api(&emu, &format!("/v2/users/{admin_id}")))
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let members: Value = Client::new()
        .post(api(&emu, "/management/v1/orgs/me/members/_search"))
        .bearer_auth(&manager)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        members["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["userId"] == alice.as_str() && m["roles"] == json!(["ORG_USER_MANAGER"]))
    );
    let resp = Client::new()
        .delete(api(
            &emu,
            &format!("/management/v1/orgs/me/members/{alice}"),
        ))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn phone_verification_and_otp_sms_in_sessions_and_the_hosted_login() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let alice = emu.seed_info().users[2].clone();
    let uid = alice.user_id.clone();
    let s: Value = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json()
        .await
        .unwrap();
    let token = s["sessionToken"].as_str().unwrap().to_owned();
    let post = |path: String, body: Value, bearer: String| {
        let url = api(&emu, &path);
        async move {
            Client::new()
                .post(url)
                .bearer_auth(bearer)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    // OTP SMS needs a verified phone
    let resp = post(format!("/v2/users/{uid}/otp_sms"), json!({}), token.clone()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = post(
        format!("/v2/users/{uid}/phone"),
        json!({"phone": "not a number"}),
        token.clone(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // The phone code goes out by SMS (outbox), then verifies
    let resp = post(
        format!("/v2/users/{uid}/phone"),
        json!({"phone": "+41 79 123 45 67", "sendCode": {}}),
        token.clone(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let outbox: Value = Client::new()
        .get(api(&emu, "/_emulator/outbox?to=%2B41791234567"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["messages"][0]["channel"], "sms");
    let code = outbox["messages"][0]["code"].as_str().unwrap().to_owned();
    let resp = post(
        format!("/v2/users/{uid}/phone/verify"),
        json!({"verificationCode": code}),
        token.clone(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = post(format!("/v2/users/{uid}/otp_sms"), json!({}), token.clone()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let user: Value = Client::new()
        .get(api(&emu, &format!("/v2/users/{uid}")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        user["user"]["human"]["phone"],
        json!({"phone": "+41791234567", "isVerified": true})
    );
    // A session challenge returns the code, the check accepts it
    let sid = s["sessionId"].as_str().unwrap();
    let ch: Value = Client::new()
        .patch(api(&emu, &format!("/v2/sessions/{sid}")))
        .bearer_auth(&lc)
        .json(&json!({"challenges": {"otpSms": {"returnCode": true}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = ch["challenges"]["otpSms"].as_str().unwrap().to_owned();
    let resp = Client::new()
        .patch(api(&emu, &format!("/v2/sessions/{sid}")))
        .bearer_auth(&lc)
        .json(&json!({"checks": {"otpSms": {"code": code}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The hosted login sends a code by SMS after the password
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
    assert!(next.path().ends_with("/ui/v2/login/otp/sms"), "{next}");
    let html = client.get(next).send().await.unwrap().text().await.unwrap();
    let outbox: Value = Client::new()
        .get(api(&emu, "/_emulator/outbox?to=%2B41791234567"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = outbox["messages"].as_array().unwrap().last().unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = vec![
        ("csrf", hidden(&html, "csrf")),
        ("requestId", hidden(&html, "requestId")),
        ("sessionId", hidden(&html, "sessionId")),
        ("code", code),
    ];
    let resp = client
        .post(api(&emu, "/ui/v2/login/otp/sms"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    exchange(
        &emu,
        &query(&location(&emu, &resp), "code").unwrap(),
        &verifier,
    )
    .await;
    // Removing the phone removes OTP SMS too
    let resp = Client::new()
        .delete(api(&emu, &format!("/v2/users/{uid}/phone")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let methods: Value = Client::new()
        .get(api(
            &emu,
            &format!("/v2/users/{uid}/authentication_methods"),
        ))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        methods["authMethodTypes"],
        json!(["AUTHENTICATION_METHOD_TYPE_PASSWORD"])
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn error_messages_follow_accept_language_but_ids_stay() {
    let emu = start().await;
    let resp = Client::new()
        .post(api(&emu, "/v2/sessions"))
        .bearer_auth(&emu.seed_info().login_client_token)
        .header("accept-language", "de-CH, de;q=0.9")
        .json(&json!({"checks": {"user": {"loginName": "nobody@acme.localhost"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(
        err["message"],
        "Benutzer konnte nicht gefunden werden (QUERY-Dfbg2)"
    );
    assert_eq!(err["details"][0]["id"], "QUERY-Dfbg2");
    // The auth interceptor's errors stay English, as in ZITADEL
    let resp = Client::new()
        .get(api(&emu, "/auth/v1/users/me"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["message"],
        "auth header missing (AUTH-7fs1e)"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idp_intent_with_the_test_idp_registers_links_and_logs_in() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let org = emu.seed_info().org_id.clone();
    // The login settings list the test IdP
    let idps: Value = Client::new()
        .get(api(&emu, "/v2/settings/login/idps"))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let idp_id = idps["identityProviders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(idps["identityProviders"][0]["name"], "Test IdP");
    let start_intent = || {
        let (emu, lc, idp_id) = (&emu, lc.clone(), idp_id.clone());
        async move {
            let v: Value = Client::new().post(api(emu, "/v2/idp_intents")).bearer_auth(lc).json(&json!({"idpId": idp_id, "urls": {"successUrl": "http://localhost:7777/ok", "failureUrl": "com.example.app:/failed"}})).send().await.unwrap().json().await.unwrap();
            url::Url::parse(v["authUrl"].as_str().unwrap()).unwrap()
        }
    };
    // Log in at the test IdP in a browser; the emulator's /idps/callback sends us to the success URL
    let idp_login = |auth_url: url::Url, action: &'static str| {
        let emu = &emu;
        async move {
            let client = browser();
            let html = client
                .get(auth_url.clone())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains("Test IdP"));
            let state = hidden(&html, "state");
            let resp = client
                .post(api(emu, "/_emulator/test-idp/authorize"))
                .form(&[
                    ("state", state.as_str()),
                    ("sub", "ext-42"),
                    ("username", "ext.user"),
                    ("email", "ext@idp.example"),
                    ("givenName", "Ext"),
                    ("familyName", "User"),
                    ("action", action),
                ])
                .send()
                .await
                .unwrap();
            let callback = location(emu, &resp);
            if action == "cancel" {
                return callback;
            }
            assert_eq!(callback.path(), "/idps/callback");
            let resp = client.get(callback).send().await.unwrap();
            location(emu, &resp)
        }
    };
    let failed = idp_login(start_intent().await, "cancel").await;
    assert_eq!(query(&failed, "error").as_deref(), Some("access_denied"));
    let success = idp_login(start_intent().await, "login").await;
    assert!(success.as_str().starts_with("http://localhost:7777/ok?"));
    assert!(query(&success, "user").is_none(), "not linked yet");
    let (intent_id, intent_token) = (
        query(&success, "id").unwrap(),
        query(&success, "token").unwrap(),
    );
    // Retrieve: no ZITADEL user yet, a prefilled AddHumanUser request instead
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/idp_intents/{intent_id}")))
        .bearer_auth(&lc)
        .json(&json!({"idpIntentToken": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let info: Value = Client::new()
        .post(api(&emu, &format!("/v2/idp_intents/{intent_id}")))
        .bearer_auth(&lc)
        .json(&json!({"idpIntentToken": intent_token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["idpInformation"]["userId"], "ext-42");
    assert_eq!(
        info["idpInformation"]["rawInformation"]["email"],
        "ext@idp.example"
    );
    assert!(info.get("userId").is_none());
    // Register with the link (deprecated AddHumanUser takes the prefilled request as is)
    let mut add = info["addHumanUser"].clone();
    add["organization"] = json!({"orgId": org});
    let created: Value = Client::new()
        .post(api(&emu, "/v2/users/human"))
        .bearer_auth(&lc)
        .json(&add)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = created["userId"].as_str().unwrap().to_owned();
    let links: Value = Client::new()
        .post(api(&emu, &format!("/v2/users/{user_id}/links/_search")))
        .bearer_auth(&lc)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(links["result"][0]["userId"], "ext-42");
    // A second IdP login now names the user, and a session can check the intent
    let success = idp_login(start_intent().await, "login").await;
    assert_eq!(query(&success, "user").as_deref(), Some(user_id.as_str()));
    let resp = Client::new().post(api(&emu, "/v2/sessions")).bearer_auth(&lc).json(&json!({"checks": {"user": {"userId": user_id}, "idpIntent": {"idpIntentId": query(&success, "id"), "idpIntentToken": query(&success, "token")}}})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let s: Value = resp.json().await.unwrap();
    let got: Value = Client::new()
        .get(api(
            &emu,
            &format!("/v2/sessions/{}", s["sessionId"].as_str().unwrap()),
        ))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(got["session"]["factors"]["intent"]["verifiedAt"].is_string());
    // And the session finishes an auth request (amr "fed")
    let (verifier, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(&emu, &challenge, "openid", &[]))
        .send()
        .await
        .unwrap();
    let ar = query(&location(&emu, &resp), "authRequest").unwrap();
    let cb: Value = Client::new()
        .post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}")))
        .bearer_auth(&lc)
        .json(&json!({"session": {"sessionId": s["sessionId"], "sessionToken": s["sessionToken"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tokens = exchange(
        &emu,
        &query(
            &url::Url::parse(cb["callbackUrl"].as_str().unwrap()).unwrap(),
            "code",
        )
        .unwrap(),
        &verifier,
    )
    .await;
    let payload: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
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
    assert_eq!(payload["amr"], json!(["fed"]));
    // Unlinking works
    let resp = Client::new()
        .delete(api(
            &emu,
            &format!("/v2/users/{user_id}/links/{idp_id}/ext-42"),
        ))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_memberships_permissions_and_user_deletion() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let alice = emu.seed_info().users[2].clone();
    let uid = alice.user_id.clone();
    let s: Value = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json()
        .await
        .unwrap();
    let token = s["sessionToken"].as_str().unwrap().to_owned();
    // Metadata by the user herself; values are base64
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{uid}/metadata")))
        .bearer_auth(&token)
        .json(&json!({"metadata": [{"key": "plan", "value": "cHJv"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{uid}/metadata")))
        .bearer_auth(&token)
        .json(&json!({"metadata": [{"key": "bad", "value": "%%%"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let md: Value = Client::new()
        .post(api(&emu, &format!("/v2/users/{uid}/metadata/search")))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(md["metadata"][0]["key"], "plan");
    assert_eq!(md["metadata"][0]["value"], "cHJv");
    // It reaches userinfo with the metadata scope
    let (verifier, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(
            &emu,
            &challenge,
            "openid urn:zitadel:iam:user:metadata",
            &[],
        ))
        .send()
        .await
        .unwrap();
    let ar = query(&location(&emu, &resp), "authRequest").unwrap();
    let fresh: Value = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json()
        .await
        .unwrap();
    let cb: Value = Client::new().post(api(&emu, &format!("/v2/oidc/auth_requests/{ar}"))).bearer_auth(&lc).json(&json!({"session": {"sessionId": fresh["sessionId"], "sessionToken": fresh["sessionToken"]}})).send().await.unwrap().json().await.unwrap();
    let tokens = exchange(
        &emu,
        &query(
            &url::Url::parse(cb["callbackUrl"].as_str().unwrap()).unwrap(),
            "code",
        )
        .unwrap(),
        &verifier,
    )
    .await;
    let info: Value = Client::new()
        .get(api(&emu, "/oidc/v1/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["urn:zitadel:iam:user:metadata"]["plan"], "cHJv");
    let resp = Client::new()
        .delete(api(&emu, &format!("/v2/users/{uid}/metadata?keys=plan")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Memberships and permissions of the caller
    let manager: Value = create_session(&emu, "manager@acme.localhost", "Password1!")
        .await
        .json()
        .await
        .unwrap();
    let mt = manager["sessionToken"].as_str().unwrap().to_owned();
    let ms: Value = Client::new()
        .post(api(&emu, "/auth/v1/memberships/me/_search"))
        .bearer_auth(&mt)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ms["result"][0]["roles"], json!(["ORG_OWNER"]));
    assert_eq!(ms["result"][0]["orgId"], emu.seed_info().org_id.as_str());
    let ps: Value = Client::new()
        .post(api(&emu, "/auth/v1/permissions/zitadel/me/_search"))
        .bearer_auth(&mt)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ps: Vec<String> = serde_json::from_value(ps["result"].clone()).unwrap();
    assert!(ps.contains(&"user.write".to_owned()) && !ps.contains(&"org.create".to_owned()));
    // Deleting yourself needs user.self.delete; the manager may delete
    let resp = Client::new()
        .delete(api(&emu, &format!("/v2/users/{uid}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = Client::new()
        .delete(api(&emu, &format!("/v2/users/{uid}")))
        .bearer_auth(&mt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = Client::new()
        .get(api(&emu, "/oidc/v1/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        create_session(&emu, &alice.login_name, &alice.password)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_codes_are_generated_once_and_used_once() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let alice = emu.seed_info().users[2].clone();
    let uid = alice.user_id.clone();
    let s: Value = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json()
        .await
        .unwrap();
    let token = s["sessionToken"].as_str().unwrap().to_owned();
    let resp = Client::new()
        .post(api(&emu, &format!("/v2/users/{uid}/recovery_codes")))
        .bearer_auth(&token)
        .json(&json!({"count": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let codes: Vec<String> =
        serde_json::from_value(resp.json::<Value>().await.unwrap()["recoveryCodes"].clone())
            .unwrap();
    assert_eq!(codes.len(), 3);
    let again = Client::new()
        .post(api(&emu, &format!("/v2/users/{uid}/recovery_codes")))
        .bearer_auth(&token)
        .json(&json!({"count": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let sid = s["sessionId"].as_str().unwrap();
    let check = |code: String| {
        let url = api(&emu, &format!("/v2/sessions/{sid}"));
        let lc = lc.clone();
        async move {
            Client::new()
                .patch(url)
                .bearer_auth(lc)
                .json(&json!({"checks": {"recoveryCode": {"code": code}}}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(check(codes[0].clone()).await, StatusCode::OK);
    assert_eq!(
        check(codes[0].clone()).await,
        StatusCode::BAD_REQUEST,
        "single use"
    );
    let resp = Client::new()
        .delete(api(&emu, &format!("/v2/users/{uid}/recovery_codes")))
        .bearer_auth(&lc)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        check(codes[1].clone()).await,
        StatusCode::BAD_REQUEST,
        "removed"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_users_filters_and_respects_user_read() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let all: Value = Client::new()
        .post(api(&emu, "/v2/users"))
        .bearer_auth(&lc)
        .json(&json!({"query": {"limit": 100, "asc": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        all["details"]["totalResult"], "4",
        "three humans and the login client"
    );
    let humans: Value = Client::new().post(api(&emu, "/v2/users")).bearer_auth(&lc).json(&json!({"queries": [{"typeQuery": {"type": "TYPE_HUMAN"}}, {"emailQuery": {"emailAddress": "ALICE@", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})).send().await.unwrap().json().await.unwrap();
    assert_eq!(humans["details"]["totalResult"], "1");
    assert_eq!(
        humans["result"][0]["preferredLoginName"],
        "alice@acme.localhost"
    );
    // A plain user sees only herself
    let s: Value = create_session(&emu, "alice@acme.localhost", "Password1!")
        .await
        .json()
        .await
        .unwrap();
    let mine: Value = Client::new()
        .post(api(&emu, "/v2/users"))
        .bearer_auth(s["sessionToken"].as_str().unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["details"]["totalResult"], "1");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forced_mfa_sets_up_totp_in_the_hosted_login() {
    let emu = start().await;
    let manager: Value = create_session(&emu, "manager@acme.localhost", "Password1!")
        .await
        .json()
        .await
        .unwrap();
    let resp = Client::new()
        .post(api(&emu, "/management/v1/policies/login"))
        .bearer_auth(manager["sessionToken"].as_str().unwrap())
        .json(&json!({"allowUsernamePassword": true, "allowRegister": true, "forceMfa": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Given a user without a second factor, the login asks to set one up
    let alice = emu.seed_info().users[2].clone();
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
    assert!(next.path().ends_with("/ui/v2/login/mfa/set"), "{next}");
    let html = client.get(next).send().await.unwrap().text().await.unwrap();
    let start = html.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let secret = html[start..start + 32].to_owned();
    let form = |code: String| {
        vec![
            ("csrf", hidden(&html, "csrf")),
            ("requestId", hidden(&html, "requestId")),
            ("sessionId", hidden(&html, "sessionId")),
            ("action", "totp".to_owned()),
            ("code", code),
        ]
    };
    let resp = client
        .post(api(&emu, "/ui/v2/login/mfa/set"))
        .form(&form("000000".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = client
        .post(api(&emu, "/ui/v2/login/mfa/set"))
        .form(&form(totp_now(&secret)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    exchange(
        &emu,
        &query(&location(&emu, &resp), "code").unwrap(),
        &verifier,
    )
    .await;
    // Then the user has TOTP
    let methods: Value = Client::new()
        .get(api(
            &emu,
            &format!("/v2/users/{}/authentication_methods", alice.user_id),
        ))
        .bearer_auth(&emu.seed_info().login_client_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        methods["authMethodTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("AUTHENTICATION_METHOD_TYPE_TOTP"))
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_one_time_codes_lock_the_user_at_max_otp_attempts() {
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let manager: Value = create_session(&emu, "manager@acme.localhost", "Password1!")
        .await
        .json()
        .await
        .unwrap();
    let resp = Client::new()
        .post(api(&emu, "/management/v1/policies/lockout"))
        .bearer_auth(manager["sessionToken"].as_str().unwrap())
        .json(&json!({"maxOtpAttempts": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let alice = emu.seed_info().users[2].clone();
    let s: Value = create_session(&emu, &alice.login_name, &alice.password)
        .await
        .json()
        .await
        .unwrap();
    let token = s["sessionToken"].as_str().unwrap().to_owned();
    let reg: Value = Client::new()
        .post(api(&emu, &format!("/v2/users/{}/totp", alice.user_id)))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = reg["secret"].as_str().unwrap().to_owned();
    Client::new()
        .post(api(
            &emu,
            &format!("/v2/users/{}/totp/verify", alice.user_id),
        ))
        .bearer_auth(&token)
        .json(&json!({"code": totp_now(&secret)}))
        .send()
        .await
        .unwrap();
    let sid = s["sessionId"].as_str().unwrap();
    let check = |code: String| {
        let url = api(&emu, &format!("/v2/sessions/{sid}"));
        let lc = lc.clone();
        async move {
            Client::new()
                .patch(url)
                .bearer_auth(lc)
                .json(&json!({"checks": {"totp": {"code": code}}}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let first = check("000000".into()).await;
    assert_eq!(first["code"], 3);
    assert_eq!(first["details"][0]["failedAttempts"], 1);
    let second = check("000000".into()).await;
    assert_eq!(second["code"], 9, "locked at the limit: {second}");
    // Even the right code is refused now
    let third = check(totp_now(&secret)).await;
    assert_eq!(third["code"], 9);
    emu.shutdown().await;
}

/// Sends a JSON API request; returns the status and the JSON body (`null`
/// when there is none).
async fn call_api(
    emu: &RunningEmulator,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Client::new().request(method, api(emu, path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The session token of a user signed in with the seed password.
async fn session_token(emu: &RunningEmulator, login: &str) -> String {
    let s: Value = create_session(emu, login, "Password1!")
        .await
        .json()
        .await
        .unwrap();
    s["sessionToken"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn label_policy_preview_is_activated_into_branding_settings_and_the_login() {
    use reqwest::Method;
    let emu = start().await;
    let org = emu.seed_info().org_id.clone();
    let lc = emu.seed_info().login_client_token.clone();
    let manager = session_token(&emu, "manager@acme.localhost").await;
    let branding = format!("/v2/settings/branding?ctx.orgId={org}");
    // The instance default
    let (status, v) = call_api(&emu, Method::GET, &branding, Some(&lc), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["settings"]["lightTheme"]["primaryColor"], "#5469d4");
    assert_eq!(v["settings"]["darkTheme"]["backgroundColor"], "#111827");
    assert_eq!(
        v["settings"]["resourceOwnerType"],
        "RESOURCE_OWNER_TYPE_INSTANCE"
    );
    // Updating without a custom policy is NOT_FOUND; a bad colour is refused
    let path = "/management/v1/policies/label";
    let (status, e) = call_api(&emu, Method::PUT, path, Some(&manager), Some(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(e["message"].as_str().unwrap().contains("(Org-0K9dq)"));
    let (status, e) = call_api(
        &emu,
        Method::POST,
        path,
        Some(&manager),
        Some(json!({"primaryColor": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("(POLICY-391dG)"));
    // The manager adds a preview: the active policy stays the default
    let body = json!({"primaryColor": "#ff6600", "backgroundColor": "#ffffff", "themeMode": "THEME_MODE_DARK", "hideLoginNameSuffix": true});
    let (status, _) = call_api(&emu, Method::POST, path, Some(&manager), Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call_api(&emu, Method::POST, path, Some(&manager), Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, active) = call_api(&emu, Method::GET, path, Some(&manager), None).await;
    assert_eq!(active["policy"]["primaryColor"], "#5469d4");
    assert_eq!(active["isDefault"], true);
    let (_, preview) = call_api(
        &emu,
        Method::GET,
        "/management/v1/policies/label/_preview",
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(preview["policy"]["primaryColor"], "#ff6600");
    assert_eq!(preview["policy"]["themeMode"], "THEME_MODE_DARK");
    assert!(preview["policy"].get("isDefault").is_none());
    // Activated, it is the org's branding in settings v2 and the hosted login
    let (status, _) = call_api(
        &emu,
        Method::POST,
        "/management/v1/policies/label/_activate",
        Some(&manager),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, v) = call_api(&emu, Method::GET, &branding, Some(&lc), None).await;
    assert_eq!(v["settings"]["lightTheme"]["primaryColor"], "#ff6600");
    assert_eq!(v["settings"]["lightTheme"]["backgroundColor"], "#ffffff");
    assert!(v["settings"]["darkTheme"].get("primaryColor").is_none());
    assert_eq!(v["settings"]["hideLoginNameSuffix"], true);
    assert_eq!(v["settings"]["themeMode"], "THEME_MODE_DARK");
    assert_eq!(
        v["settings"]["resourceOwnerType"],
        "RESOURCE_OWNER_TYPE_ORG"
    );
    let (_, instance) = call_api(
        &emu,
        Method::GET,
        "/v2/settings/branding?ctx.instance=true",
        Some(&lc),
        None,
    )
    .await;
    assert_eq!(
        instance["settings"]["lightTheme"]["primaryColor"],
        "#5469d4"
    );
    let (_, challenge) = pkce();
    let (page, _) = follow(
        &emu,
        &browser(),
        authorize_url(&emu, &challenge, "openid", &[]),
    )
    .await;
    assert!(page.text().await.unwrap().contains("background:#ff6600"));
    // An end user may neither read nor write it; no token is 401
    let alice = session_token(&emu, "alice@acme.localhost").await;
    let (status, e) = call_api(&emu, Method::GET, &branding, Some(&alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["code"], 7);
    let (status, _) = call_api(&emu, Method::DELETE, path, Some(&alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = call_api(&emu, Method::GET, path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(e["code"], 16);
    // Reset: the default again, and a second reset is NOT_FOUND
    let (status, _) = call_api(&emu, Method::DELETE, path, Some(&manager), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, v) = call_api(&emu, Method::GET, &branding, Some(&lc), None).await;
    assert_eq!(v["settings"]["lightTheme"]["primaryColor"], "#5469d4");
    let (status, _) = call_api(&emu, Method::DELETE, path, Some(&manager), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seed_colour_is_the_orgs_branding_and_domain_and_security_settings_are_read() {
    use reqwest::Method;
    let seed: zitadel_emulator::Seed = serde_json::from_value(
        json!({"org": {"name": "Globex", "domain": "globex.localhost", "primaryColor": "#123abc"}}),
    )
    .unwrap();
    let emu = start_with(zitadel_emulator::EmulatorConfig {
        seed: Some(seed),
        ..zitadel_emulator::EmulatorConfig::ephemeral()
    })
    .await;
    let org = emu.seed_info().org_id.clone();
    let lc = emu.seed_info().login_client_token.clone();
    let (_, v) = call_api(
        &emu,
        Method::GET,
        &format!("/v2/settings/branding?ctx.orgId={org}"),
        Some(&lc),
        None,
    )
    .await;
    assert_eq!(v["settings"]["lightTheme"]["primaryColor"], "#123abc");
    assert_eq!(
        v["settings"]["resourceOwnerType"],
        "RESOURCE_OWNER_TYPE_ORG"
    );
    // Its custom policy exists already: PUT changes the preview, the seed
    // colour stays active until activation
    let admin = session_token(&emu, "admin@globex.localhost").await;
    let path = "/management/v1/policies/label";
    let (status, _) = call_api(&emu, Method::POST, path, Some(&admin), Some(json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = call_api(
        &emu,
        Method::PUT,
        path,
        Some(&admin),
        Some(json!({"primaryColor": "#000"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, active) = call_api(&emu, Method::GET, path, Some(&admin), None).await;
    assert_eq!(active["policy"]["primaryColor"], "#123abc");
    // Domain settings: ZITADEL's defaults
    let (status, d) = call_api(
        &emu,
        Method::GET,
        &format!("/v2/settings/domain?ctx.orgId={org}"),
        Some(&lc),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["settings"]["requireOrgDomainVerification"], true);
    assert!(d["settings"].get("loginNameIncludesDomain").is_none());
    // Security settings need iam.policy.read: the login client has it, an
    // org owner not
    let (status, s) = call_api(&emu, Method::GET, "/v2/settings/security", Some(&lc), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["settings"], json!({"embeddedIframe": {}}));
    let manager = session_token(&emu, "manager@globex.localhost").await;
    let (status, e) = call_api(
        &emu,
        Method::GET,
        "/v2/settings/security",
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["code"], 7);
    emu.shutdown().await;
}

/// The `field` of every item of the list `list` (none when it is absent).
fn strings(v: &Value, list: &str, field: &str) -> Vec<String> {
    v[list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|item| item[field].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The last outbox message to `to`.
fn last_mail(emu: &RunningEmulator, to: &str) -> zitadel_emulator::OutboxMessage {
    emu.outbox()
        .into_iter()
        .rev()
        .find(|m| m.to == to)
        .expect("a message")
}

#[tokio::test(flavor = "multi_thread")]
async fn invite_codes_are_sent_resent_returned_and_verified_once() {
    use reqwest::Method;
    let emu = start().await;
    let org = emu.seed_info().org_id.clone();
    let manager = session_token(&emu, "manager@acme.localhost").await;
    let (status, created) = call_api(&emu, Method::POST, "/v2/users/new", Some(&manager), Some(json!({"organizationId": org, "human": {"profile": {"givenName": "Ivy", "familyName": "Invited"}, "email": {"email": "ivy@example.com", "returnCode": {}}}}))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let ivy = created["id"].as_str().unwrap().to_owned();
    let invite = format!("/v2/users/{ivy}/invite_code");
    // Without a token 401; a plain user may not invite (403, code 7)
    let (status, _) = call_api(&emu, Method::POST, &invite, None, Some(json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let alice = session_token(&emu, "alice@acme.localhost").await;
    let (status, e) = call_api(&emu, Method::POST, &invite, Some(&alice), Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["code"], 7);
    // The manager sends one: the mail has the code and the link
    let body = json!({"sendCode": {"urlTemplate": "https://app.example/invite?u={{.UserID}}&c={{.Code}}", "applicationName": "Demo"}});
    let (status, v) = call_api(&emu, Method::POST, &invite, Some(&manager), Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(v.get("inviteCode").is_none());
    let first = last_mail(&emu, "ivy@example.com");
    let first_code = first.code.clone().unwrap();
    assert!(first.subject.contains("Demo"));
    assert!(first.text.contains(&format!(
        "https://app.example/invite?u={ivy}&c={first_code}"
    )));
    // A resend (the user herself may) sends a new code; the old one is void
    let (status, _) = call_api(
        &emu,
        Method::POST,
        &format!("{invite}/resend"),
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let second = last_mail(&emu, "ivy@example.com");
    assert_ne!(second.id, first.id);
    assert!(
        second.text.contains("https://app.example/invite"),
        "template kept"
    );
    let verify = format!("{invite}/verify");
    let (status, e) = call_api(
        &emu,
        Method::POST,
        &verify,
        Some(&alice),
        Some(json!({"verificationCode": first_code})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("(COMMAND-Wgn4q)"));
    let (status, _) = call_api(
        &emu,
        Method::POST,
        &verify,
        Some(&alice),
        Some(json!({"verificationCode": second.code.unwrap()})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, user) = call_api(
        &emu,
        Method::GET,
        &format!("/v2/users/{ivy}"),
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(user["user"]["human"]["email"]["isVerified"], true);
    // A returned code comes back in the response and cannot be resent
    let (_, v) = call_api(
        &emu,
        Method::POST,
        &invite,
        Some(&manager),
        Some(json!({"returnCode": {}})),
    )
    .await;
    assert_eq!(v["inviteCode"].as_str().unwrap().len(), 6);
    let (status, e) = call_api(
        &emu,
        Method::POST,
        &format!("{invite}/resend"),
        Some(&manager),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["code"], 9);
    assert!(e["message"].as_str().unwrap().contains("(COMMAND-Wr3gq)"));
    // A user with a password is initialised already
    let alice_id = emu.seed_info().users[2].user_id.clone();
    let (status, e) = call_api(
        &emu,
        Method::POST,
        &format!("/v2/users/{alice_id}/invite_code"),
        Some(&manager),
        Some(json!({"returnCode": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("(COMMAND-EF34g)"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pats_and_keys_are_listed_filtered_sorted_and_paged_for_readers() {
    use reqwest::Method;
    let emu = start().await;
    let org = emu.seed_info().org_id.clone();
    let manager = session_token(&emu, "manager@acme.localhost").await;
    let (_, m) = call_api(
        &emu,
        Method::POST,
        "/v2/users/new",
        Some(&manager),
        Some(json!({"organizationId": org, "username": "robot", "machine": {"name": "Robot"}})),
    )
    .await;
    let robot = m["id"].as_str().unwrap().to_owned();
    let mut pat_ids = Vec::new();
    for date in ["2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z"] {
        let (_, p) = call_api(
            &emu,
            Method::POST,
            &format!("/v2/users/{robot}/pats"),
            Some(&manager),
            Some(json!({"expirationDate": date})),
        )
        .await;
        pat_ids.push(p["tokenId"].as_str().unwrap().to_owned());
    }
    let (_, k) = call_api(
        &emu,
        Method::POST,
        &format!("/v2/users/{robot}/keys"),
        Some(&manager),
        Some(json!({"expirationDate": "2030-06-01T00:00:00Z"})),
    )
    .await;
    let key_id = k["keyId"].as_str().unwrap().to_owned();
    // The robot's PATs, sorted by expiration, descending by default
    let body = json!({"filters": [{"userIdFilter": {"id": robot}}], "sortingColumn": "PERSONAL_ACCESS_TOKEN_FIELD_NAME_EXPIRATION_DATE"});
    let (status, v) = call_api(
        &emu,
        Method::POST,
        "/v2/users/pats/search",
        Some(&manager),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["pagination"]["totalResult"], "2");
    assert_eq!(v["pagination"]["appliedLimit"], "100");
    assert_eq!(v["result"][0]["id"], pat_ids[1].as_str());
    assert_eq!(v["result"][0]["userId"], robot.as_str());
    assert_eq!(v["result"][0]["organizationId"], org.as_str());
    assert_eq!(v["result"][0]["expirationDate"], "2031-01-01T00:00:00Z");
    // Paged: offset 1, limit 1, ascending; and a date filter
    let body = json!({"pagination": {"offset": "1", "limit": 1, "asc": true}, "filters": [{"userIdFilter": {"id": robot}}], "sortingColumn": "PERSONAL_ACCESS_TOKEN_FIELD_NAME_EXPIRATION_DATE"});
    let (_, v) = call_api(
        &emu,
        Method::POST,
        "/v2/users/pats/search",
        Some(&manager),
        Some(body),
    )
    .await;
    assert_eq!(v["pagination"]["totalResult"], "2");
    assert_eq!(v["result"].as_array().unwrap().len(), 1);
    assert_eq!(v["result"][0]["id"], pat_ids[1].as_str());
    let body = json!({"filters": [{"expirationDateFilter": {"timestamp": "2030-06-01T00:00:00Z", "method": "TIMESTAMP_FILTER_METHOD_BEFORE"}}]});
    let (_, v) = call_api(
        &emu,
        Method::POST,
        "/v2/users/pats/search",
        Some(&manager),
        Some(body),
    )
    .await;
    assert_eq!(v["result"][0]["id"], pat_ids[0].as_str());
    assert_eq!(v["pagination"]["totalResult"], "1");
    // Keys by id
    let body = json!({"filters": [{"keyIdFilter": {"id": key_id}}]});
    let (status, v) = call_api(
        &emu,
        Method::POST,
        "/v2/users/keys/search",
        Some(&manager),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["pagination"]["totalResult"], "1");
    assert_eq!(v["result"][0]["userId"], robot.as_str());
    // A plain user reads no one else's credentials; no token is 401
    let alice = session_token(&emu, "alice@acme.localhost").await;
    let (status, v) = call_api(
        &emu,
        Method::POST,
        "/v2/users/pats/search",
        Some(&alice),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(v.get("result").is_none(), "{v}");
    let (status, _) = call_api(
        &emu,
        Method::POST,
        "/v2/users/keys/search",
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call_api(
        &emu,
        Method::POST,
        "/v2/users/keys/search",
        Some(&manager),
        Some(json!({"pagination": {"limit": 5000}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_users_combines_and_or_not_state_and_phone_queries_with_sorting_and_paging() {
    use reqwest::Method;
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let alice_id = emu.seed_info().users[2].user_id.clone();
    let admin_id = emu.seed_info().users[0].user_id.clone();
    let (status, _) = call_api(
        &emu,
        Method::POST,
        &format!("/v2/users/{alice_id}/phone"),
        Some(&lc),
        Some(json!({"phone": "+41791234567", "isVerified": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call_api(
        &emu,
        Method::POST,
        &format!("/v2/users/{admin_id}/lock"),
        Some(&lc),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let list = |body: Value| call_api(&emu, Method::POST, "/v2/users", Some(&lc), Some(body));
    let names = |v: &Value| strings(v, "result", "username");
    // or: alice or manager, sorted by user name ascending
    let (_, v) = list(json!({"query": {"asc": true}, "sortingColumn": "USER_FIELD_NAME_USER_NAME", "queries": [{"orQuery": {"queries": [{"userNameQuery": {"userName": "alice", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}, {"userNameQuery": {"userName": "manager", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]}}]})).await;
    assert_eq!(names(&v), ["alice", "manager"]);
    assert_eq!(v["sortingColumn"], "USER_FIELD_NAME_USER_NAME");
    // not: humans that are not alice, descending by default
    let (_, v) = list(json!({"sortingColumn": "USER_FIELD_NAME_USER_NAME", "queries": [{"typeQuery": {"type": "TYPE_HUMAN"}}, {"notQuery": {"query": {"inUserIdsQuery": {"userIds": [alice_id]}}}}]})).await;
    assert_eq!(names(&v), ["manager", "admin"]);
    // and + state: the locked admin; phone
    let (_, v) = list(json!({"queries": [{"andQuery": {"queries": [{"typeQuery": {"type": "TYPE_HUMAN"}}, {"stateQuery": {"state": "USER_STATE_LOCKED"}}]}}]})).await;
    assert_eq!(names(&v), ["admin"]);
    let (_, v) = list(json!({"queries": [{"phoneQuery": {"number": "+4179", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]})).await;
    assert_eq!(names(&v), ["alice"]);
    // Paging: the total counts all matches, the page only `limit` from `offset`
    let (_, v) = list(json!({"query": {"offset": "1", "limit": 2, "asc": true}, "sortingColumn": "USER_FIELD_NAME_USER_NAME"})).await;
    assert_eq!(v["details"]["totalResult"], "4");
    assert_eq!(names(&v), ["alice", "login-client"]);
    let (_, v) = list(json!({"query": {"offset": "10"}})).await;
    assert_eq!(v["details"]["totalResult"], "4");
    assert!(v.get("result").is_none());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_keep_metadata_and_user_agent_and_search_by_agent_and_dates() {
    use reqwest::Method;
    let emu = start().await;
    let lc = emu.seed_info().login_client_token.clone();
    let ua = json!({"fingerprintId": "fp-1", "ip": "192.0.2.7", "description": "Firefox on Linux", "header": {"user-agent": {"values": ["Mozilla/5.0"]}}});
    let (status, s) = call_api(&emu, Method::POST, "/v2/sessions", Some(&lc), Some(json!({"checks": {"user": {"loginName": "alice@acme.localhost"}}, "metadata": {"device_name": "bGFwdG9w", "app": "ZGVtbw=="}, "userAgent": ua, "lifetime": "600s"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    let sid = s["sessionId"].as_str().unwrap().to_owned();
    let stoken = s["sessionToken"].as_str().unwrap().to_owned();
    let (_, other) = call_api(&emu, Method::POST, "/v2/sessions", Some(&lc), Some(json!({"checks": {"user": {"loginName": "manager@acme.localhost"}}, "userAgent": {"fingerprintId": "fp-2"}}))).await;
    let other_id = other["sessionId"].as_str().unwrap().to_owned();
    let (_, got) = call_api(
        &emu,
        Method::GET,
        &format!("/v2/sessions/{sid}"),
        Some(&lc),
        None,
    )
    .await;
    let session = &got["session"];
    assert_eq!(
        session["metadata"],
        json!({"device_name": "bGFwdG9w", "app": "ZGVtbw=="}),
        "map keys kept as sent"
    );
    assert_eq!(session["userAgent"], ua);
    assert!(session["expirationDate"].is_string());
    // SetSession: a new value, and an empty one removes the key
    let (status, _) = call_api(
        &emu,
        Method::PATCH,
        &format!("/v2/sessions/{sid}"),
        Some(&lc),
        Some(json!({"metadata": {"app": "", "step": "Mg=="}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, got) = call_api(
        &emu,
        Method::GET,
        &format!("/v2/sessions/{sid}"),
        Some(&lc),
        None,
    )
    .await;
    assert_eq!(
        got["session"]["metadata"],
        json!({"device_name": "bGFwdG9w", "step": "Mg=="})
    );
    // Metadata that is not base64 is refused
    let (status, e) = call_api(
        &emu,
        Method::PATCH,
        &format!("/v2/sessions/{sid}"),
        Some(&lc),
        Some(json!({"metadata": {"x": "not base64!"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["code"], 3);
    // Search by fingerprint, by creation date, sorted ascending
    let search = |body: Value| {
        call_api(
            &emu,
            Method::POST,
            "/v2/sessions/search",
            Some(&lc),
            Some(body),
        )
    };
    let ids = |v: &Value| strings(v, "sessions", "id");
    let (_, v) = search(json!({"queries": [{"userAgentQuery": {"fingerprintId": "fp-1"}}]})).await;
    assert_eq!(ids(&v), [sid.as_str()]);
    let (_, v) = search(json!({"query": {"asc": true}, "sortingColumn": "SESSION_FIELD_NAME_CREATION_DATE", "queries": [{"creationDateQuery": {"creationDate": "2000-01-01T00:00:00Z", "method": "TIMESTAMP_QUERY_METHOD_GREATER"}}, {"idsQuery": {"ids": [sid, other_id]}}]})).await;
    assert_eq!(ids(&v), [sid.clone(), other_id.clone()]);
    let (_, v) = search(json!({"queries": [{"idsQuery": {"ids": [sid, other_id]}}]})).await;
    assert_eq!(
        ids(&v),
        [other_id.clone(), sid.clone()],
        "descending by default"
    );
    let (_, v) = search(json!({"queries": [{"expirationDateQuery": {"expirationDate": "2999-01-01T00:00:00Z", "method": "TIMESTAMP_QUERY_METHOD_LESS"}}]})).await;
    assert_eq!(
        ids(&v),
        [sid.as_str()],
        "only sessions with a lifetime expire"
    );
    let (status, _) =
        search(json!({"queries": [{"creationDateQuery": {"creationDate": "yesterday"}}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // An empty fingerprint is the caller's own user agent: the session token's
    let (_, s) = call_api(
        &emu,
        Method::PATCH,
        &format!("/v2/sessions/{sid}"),
        Some(&lc),
        Some(json!({})),
    )
    .await;
    let alice_token = s["sessionToken"].as_str().unwrap().to_owned();
    assert_ne!(alice_token, stoken);
    let (status, v) = call_api(
        &emu,
        Method::POST,
        "/v2/sessions/search",
        Some(&alice_token),
        Some(json!({"queries": [{"userAgentQuery": {}}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&v), [sid.as_str()]);
    // A PAT has no user agent
    let (status, e) = search(json!({"queries": [{"userAgentQuery": {"fingerprintId": ""}}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["code"], 3);
    // Without a token 401
    let (status, _) = call_api(
        &emu,
        Method::POST,
        "/v2/sessions/search",
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_down_adds_five_seconds_to_the_device_polling_interval() {
    let emu = start().await;
    let auth = device_authorization(&emu).await;
    assert_eq!(auth["interval"], 5);
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", auth["device_code"].as_str().unwrap()),
        ("client_id", "native-app"),
    ];
    let poll = || async {
        let v: Value = token(&emu, &form).await.json().await.unwrap();
        v["error"].as_str().unwrap().to_owned()
    };
    // Two quick polls: the second is too fast
    assert_eq!(poll().await, "authorization_pending");
    assert_eq!(poll().await, "slow_down");
    // After the old interval (5 s) but before the new one (10 s): still too fast
    tokio::time::sleep(std::time::Duration::from_millis(6_100)).await;
    assert_eq!(poll().await, "slow_down");
    emu.shutdown().await;
}
