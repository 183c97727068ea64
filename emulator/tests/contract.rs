//! Contract: every REST route the emulator serves exists, with the same
//! method, among the `google.api.http` rules of ZITADEL's official protos
//! (`shared/zitadel-api/proto`, beside the repository), and the emulator
//! really routes it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
#[path = "common/soft_key.rs"]
mod soft_key;

use std::collections::BTreeSet;

use common::*;
use reqwest::{Client, Method};
use serde_json::{Value, json};
use soft_key::SoftKey;
use zitadel_emulator::contract::{self, Contract, Violation};

/// ZITADEL's protos (`shared/zitadel-api/proto` beside the repository).
fn protos() -> Contract {
    Contract::load(&contract::default_proto_dir()).unwrap()
}

#[test]
fn proto_parser_finds_known_rules() {
    let protos = protos();
    assert!(
        protos.routes().count() > 300,
        "only {} rules found",
        protos.routes().count()
    );
    assert!(protos.has_route("POST", "/v2/sessions"));
    assert!(protos.has_route("GET", "/auth/v1/users/me"));
    assert!(protos.has_route("POST", "/management/v1/users/{user_id}/grants"));
}

#[test]
fn every_served_route_is_a_proto_http_rule() {
    let protos = protos();
    let missing: Vec<_> = zitadel_emulator::API_ROUTES
        .iter()
        .filter(|(m, p)| !protos.has_route(m, p))
        .collect();
    assert!(missing.is_empty(), "routes not in the protos: {missing:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_listed_route_is_routed_by_the_emulator() {
    let emu = start().await;
    for (method, path) in zitadel_emulator::API_ROUTES {
        let concrete = contract::normalize_template(path).replace("{}", "x");
        let resp = Client::new()
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{concrete}", emu.issuer()),
            )
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let fallback = status == 404 && body["details"] == json!([]);
        assert!(
            !fallback && status != 405,
            "{method} {path} is not routed ({status} {body})"
        );
        assert_eq!(status, 401, "{method} {path} must require a token");
    }
    emu.shutdown().await;
}

#[test]
fn the_rules_name_request_and_response_messages() {
    let protos = protos();
    assert_eq!(
        protos.messages_of("POST", "/v2/sessions"),
        Some((
            "zitadel.session.v2.CreateSessionRequest",
            "zitadel.session.v2.CreateSessionResponse"
        ))
    );
    assert_eq!(
        protos.messages_of("POST", "/v2/users/new").map(|m| m.1),
        Some("zitadel.user.v2.CreateUserResponse")
    );
    assert_eq!(
        protos
            .messages_of("GET", "/auth/v1/users/me?x=1")
            .map(|m| m.1),
        Some("zitadel.auth.v1.GetMyUserResponse")
    );
}

#[test]
fn request_checks_find_unknown_fields_numeric_int64_and_unknown_enum_names() {
    let protos = protos();
    let ok = json!({"query": {"offset": "0", "limit": 10, "asc": false},
        "sortingColumn": "USER_FIELD_NAME_USER_NAME"});
    let problems = protos.check_request("POST", "/v2/users", &ok);
    assert!(problems.is_empty(), "{problems:?}");
    let bad = json!({"query": {"offset": 5}, "sortingColumn": "USER_NAME", "bogus": 1});
    let problems = protos.check_request("POST", "/v2/users", &bad);
    assert_eq!(problems.len(), 3, "{problems:?}");
    // GetUserByID has no body rule.
    let problems = protos.check_request("GET", "/v2/users/1", &json!({"a": 1}));
    assert_eq!(problems.len(), 1, "{problems:?}");
}

/// An emulator that logs its requests; the log is in the returned directory.
async fn start_with_request_log() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    zitadel_emulator::RunningEmulator,
) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let emu = start_with(zitadel_emulator::EmulatorConfig {
        request_log: Some(log.clone()),
        ..zitadel_emulator::EmulatorConfig::ephemeral()
    })
    .await;
    (dir, log, emu)
}

/// Runs many API calls with the request log on, then checks every 2xx JSON
/// response of a REST route against the response message of its proto rule,
/// and the JSON body the scenario sent against the rule's request message.
#[tokio::test(flavor = "multi_thread")]
async fn api_responses_match_the_proto_messages() {
    let (_dir, log, emu) = start_with_request_log().await;
    let lc = emu.seed_info().login_client_token.clone();
    let org = emu.seed_info().org_id.clone();
    let alice = emu.seed_info().users[2].clone();
    let url = |p: &str| format!("{}{p}", emu.issuer());
    let http = Client::new();
    let send = |m: Method, p: String, token: String, body: Option<Value>| {
        let req = http.request(m, url(&p)).bearer_auth(token);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{p}: {status} {v}");
            v
        }
    };
    // Sessions and the auth request
    let s = send(Method::POST, "/v2/sessions".into(), lc.clone(), Some(json!({"checks": {"user": {"loginName": alice.login_name}, "password": {"password": alice.password}}}))).await;
    let sid = s["sessionId"].as_str().unwrap().to_owned();
    let s2 = send(
        Method::PATCH,
        format!("/v2/sessions/{sid}"),
        lc.clone(),
        Some(json!({"lifetime": "3600s", "metadata": {"k": "dg=="}})),
    )
    .await;
    let stoken = s2["sessionToken"].as_str().unwrap().to_owned();
    send(Method::GET, format!("/v2/sessions/{sid}"), lc.clone(), None).await;
    let ua = send(Method::POST, "/v2/sessions".into(), lc.clone(), Some(json!({"checks": {"user": {"loginName": alice.login_name}}, "userAgent": {"fingerprintId": "fp", "ip": "192.0.2.1", "description": "d", "header": {"user-agent": {"values": ["x"]}}}}))).await;
    let ua = ua["sessionId"].as_str().unwrap().to_owned();
    send(Method::GET, format!("/v2/sessions/{ua}"), lc.clone(), None).await;
    send(
        Method::POST,
        "/v2/sessions/search".into(),
        lc.clone(),
        Some(json!({"query": {"limit": 10}})),
    )
    .await;
    let (_, challenge) = pkce();
    let resp = browser()
        .get(authorize_url(
            &emu,
            &challenge,
            "openid",
            &[("login_hint", "alice@acme.localhost"), ("ui_locales", "de")],
        ))
        .send()
        .await
        .unwrap();
    let ar = query(&location(&emu, &resp), "authRequest").unwrap();
    send(
        Method::GET,
        format!("/v2/oidc/auth_requests/{ar}"),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::POST,
        format!("/v2/oidc/auth_requests/{ar}"),
        lc.clone(),
        Some(json!({"session": {"sessionId": sid, "sessionToken": stoken}})),
    )
    .await;
    // Users
    let created = send(Method::POST, "/v2/users/new".into(), lc.clone(), Some(json!({"organizationId": org, "human": {"profile": {"givenName": "C", "familyName": "T"}, "email": {"email": "ct@example.com", "returnCode": {}}, "password": {"password": "Passw0rd!x"}}}))).await;
    let uid = created["id"].as_str().unwrap().to_owned();
    send(Method::POST, "/v2/users/human".into(), lc.clone(), Some(json!({"organization": {"orgId": org}, "profile": {"givenName": "D", "familyName": "T"}, "email": {"email": "dt@example.com", "isVerified": true}}))).await;
    send(Method::GET, format!("/v2/users/{uid}"), lc.clone(), None).await;
    send(Method::PATCH, format!("/v2/users/{uid}"), lc.clone(), Some(json!({"human": {"profile": {"nickName": "ct"}, "email": {"email": "ct2@example.com", "returnCode": {}}}}))).await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/email/resend"),
        lc.clone(),
        Some(json!({"returnCode": {}})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/email/send"),
        lc.clone(),
        Some(json!({"sendCode": {}})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/password_reset"),
        lc.clone(),
        Some(json!({"returnCode": {}})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/totp"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::GET,
        format!("/v2/users/{uid}/authentication_methods"),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/lock"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/unlock"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    send(Method::GET, "/auth/v1/users/me".into(), lc.clone(), None).await;
    send(
        Method::POST,
        "/v2/users".into(),
        lc.clone(),
        Some(json!({"query": {"limit": 10}})),
    )
    .await;
    let inv = send(Method::POST, "/v2/users/new".into(), lc.clone(), Some(json!({"organizationId": org, "human": {"profile": {"givenName": "I", "familyName": "V"}, "email": {"email": "iv@example.com"}}}))).await;
    let inv = inv["id"].as_str().unwrap().to_owned();
    send(
        Method::POST,
        format!("/v2/users/{inv}/invite_code"),
        lc.clone(),
        Some(json!({"sendCode": {"applicationName": "Demo"}})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{inv}/invite_code/resend"),
        lc.clone(),
        None,
    )
    .await;
    let code = send(
        Method::POST,
        format!("/v2/users/{inv}/invite_code"),
        lc.clone(),
        Some(json!({"returnCode": {}})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{inv}/invite_code/verify"),
        lc.clone(),
        Some(json!({"verificationCode": code["inviteCode"]})),
    )
    .await;
    send(
        Method::POST,
        "/v2/users".into(),
        lc.clone(),
        Some(json!({"query": {"offset": "1", "limit": 2}, "sortingColumn": "USER_FIELD_NAME_EMAIL", "queries": [{"orQuery": {"queries": [{"notQuery": {"query": {"stateQuery": {"state": "USER_STATE_LOCKED"}}}}, {"phoneQuery": {"number": "+41"}}]}}]})),
    )
    .await;
    // Service user credentials
    let m = send(
        Method::POST,
        "/v2/users/new".into(),
        lc.clone(),
        Some(json!({"organizationId": org, "username": "svc", "machine": {"name": "svc"}})),
    )
    .await;
    let mid = m["id"].as_str().unwrap().to_owned();
    send(
        Method::POST,
        format!("/v2/users/{mid}/secret"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    let pat = send(
        Method::POST,
        format!("/v2/users/{mid}/pats"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    for list in ["pats", "keys"] {
        send(
            Method::POST,
            format!("/v2/users/{list}/search"),
            lc.clone(),
            Some(json!({"filters": [{"userIdFilter": {"id": mid}}]})),
        )
        .await;
    }
    send(
        Method::DELETE,
        format!("/v2/users/{mid}/pats/{}", pat["tokenId"].as_str().unwrap()),
        lc.clone(),
        None,
    )
    .await;
    send(Method::GET, format!("/v2/users/{mid}"), lc.clone(), None).await;
    // Settings and policies
    for p in [
        "login",
        "password/complexity",
        "legal_support",
        "lockout",
        "branding",
        "domain",
    ] {
        send(
            Method::GET,
            format!("/v2/settings/{p}?ctx.orgId={org}"),
            lc.clone(),
            None,
        )
        .await;
    }
    // The security settings are the instance's: no `ctx`.
    send(
        Method::GET,
        "/v2/settings/security".into(),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::GET,
        "/auth/v1/policies/passwords/complexity".into(),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::GET,
        "/auth/v1/policies/login".into(),
        lc.clone(),
        None,
    )
    .await;
    let admin = send(
        Method::POST,
        "/v2/sessions".into(),
        lc.clone(),
        Some(json!({"checks": {"user": {"loginName": "admin@acme.localhost"}}})),
    )
    .await;
    let at = admin["sessionToken"].as_str().unwrap().to_owned();
    send(
        Method::POST,
        "/management/v1/policies/lockout".into(),
        at.clone(),
        Some(json!({"maxPasswordAttempts": 5})),
    )
    .await;
    let label = "/management/v1/policies/label".to_owned();
    let body = json!({"primaryColor": "#ff6600", "themeMode": "THEME_MODE_DARK"});
    send(Method::POST, label.clone(), at.clone(), Some(body.clone())).await;
    send(Method::PUT, label.clone(), at.clone(), Some(body)).await;
    send(
        Method::POST,
        format!("{label}/_activate"),
        at.clone(),
        Some(json!({})),
    )
    .await;
    for p in [
        "login",
        "password/complexity",
        "lockout",
        "label",
        "label/_preview",
    ] {
        send(
            Method::GET,
            format!("/management/v1/policies/{p}"),
            at.clone(),
            None,
        )
        .await;
    }
    send(Method::DELETE, label, at.clone(), None).await;
    // Orgs, grants, members
    send(
        Method::POST,
        "/v2/organizations".into(),
        at.clone(),
        Some(json!({"name": "Initech", "admins": [{"userId": uid}]})),
    )
    .await;
    send(
        Method::POST,
        "/v2/organizations/_search".into(),
        at.clone(),
        Some(json!({})),
    )
    .await;
    let project = emu.seed_info().project_id.clone();
    let g = send(
        Method::POST,
        format!("/management/v1/users/{uid}/grants"),
        at.clone(),
        Some(json!({"projectId": project, "roleKeys": ["user"]})),
    )
    .await;
    let gid = g["userGrantId"].as_str().unwrap().to_owned();
    send(
        Method::GET,
        format!("/management/v1/users/{uid}/grants/{gid}"),
        at.clone(),
        None,
    )
    .await;
    send(
        Method::PUT,
        format!("/management/v1/users/{uid}/grants/{gid}"),
        at.clone(),
        Some(json!({"roleKeys": ["admin"]})),
    )
    .await;
    send(
        Method::POST,
        "/management/v1/users/grants/_search".into(),
        at.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::DELETE,
        format!("/management/v1/users/{uid}/grants/{gid}"),
        at.clone(),
        None,
    )
    .await;
    send(
        Method::POST,
        "/management/v1/orgs/me/members".into(),
        at.clone(),
        Some(json!({"userId": uid, "roles": ["ORG_USER_MANAGER"]})),
    )
    .await;
    send(
        Method::PUT,
        format!("/management/v1/orgs/me/members/{uid}"),
        at.clone(),
        Some(json!({"roles": ["ORG_OWNER"]})),
    )
    .await;
    send(
        Method::POST,
        "/management/v1/orgs/me/members/_search".into(),
        at.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::DELETE,
        format!("/management/v1/orgs/me/members/{uid}"),
        at.clone(),
        None,
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/metadata"),
        lc.clone(),
        Some(json!({"metadata": [{"key": "k", "value": "dg=="}]})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/metadata/search"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::DELETE,
        format!("/v2/users/{uid}/metadata?keys=k"),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::POST,
        "/auth/v1/memberships/me/_search".into(),
        at.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::POST,
        "/auth/v1/permissions/zitadel/me/_search".into(),
        at.clone(),
        Some(json!({})),
    )
    .await;
    // IdPs and intents (start only; the browser part is in tests/api.rs)
    let idps = send(
        Method::GET,
        "/v2/settings/login/idps".into(),
        lc.clone(),
        None,
    )
    .await;
    let idp_id = idps["identityProviders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    send(Method::POST, "/v2/idp_intents".into(), lc.clone(), Some(json!({"idpId": idp_id, "urls": {"successUrl": "http://localhost/ok", "failureUrl": "http://localhost/no"}}))).await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/links"),
        lc.clone(),
        Some(json!({"idpLink": {"idpId": idp_id, "userId": "ext-1", "userName": "ext"}})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{uid}/links/_search"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::DELETE,
        format!("/v2/users/{uid}/links/{idp_id}/ext-1"),
        lc.clone(),
        None,
    )
    .await;
    // Device authorization through the API
    let dev = device_authorization(&emu).await;
    let got = send(
        Method::GET,
        format!(
            "/v2/oidc/device_authorization/{}",
            dev["user_code"].as_str().unwrap()
        ),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::POST,
        format!(
            "/v2/oidc/device_authorization/{}",
            got["deviceAuthorizationRequest"]["id"].as_str().unwrap()
        ),
        lc.clone(),
        Some(json!({"deny": {}})),
    )
    .await;
    // WebAuthn: a U2F key and a passkey of alice, registered and used
    let aid = alice.user_id.clone();
    let mut key = SoftKey::default();
    let reg = send(
        Method::POST,
        format!("/v2/users/{aid}/u2f"),
        lc.clone(),
        Some(json!({"domain": "localhost"})),
    )
    .await;
    let u2f_id = reg["u2fId"].as_str().unwrap().to_owned();
    let cred = key
        .create(emu.issuer(), &reg["publicKeyCredentialCreationOptions"])
        .await;
    send(
        Method::POST,
        format!("/v2/users/{aid}/u2f/{u2f_id}"),
        lc.clone(),
        Some(json!({"publicKeyCredential": cred, "tokenName": "key"})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{aid}/authentication_factors/_search"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    send(
        Method::GET,
        format!("/v2/users/{aid}/authentication_methods"),
        lc.clone(),
        None,
    )
    .await;
    let link = send(
        Method::POST,
        format!("/v2/users/{aid}/passkeys/registration_link"),
        lc.clone(),
        Some(json!({"returnCode": {}})),
    )
    .await;
    let code = link["code"].clone();
    let reg = send(
        Method::POST,
        format!("/v2/users/{aid}/passkeys"),
        lc.clone(),
        Some(json!({"code": code, "domain": "localhost"})),
    )
    .await;
    let passkey_id = reg["passkeyId"].as_str().unwrap().to_owned();
    let cred = key
        .create(emu.issuer(), &reg["publicKeyCredentialCreationOptions"])
        .await;
    send(
        Method::POST,
        format!("/v2/users/{aid}/passkeys/{passkey_id}"),
        lc.clone(),
        Some(json!({"publicKeyCredential": cred, "passkeyName": "passkey"})),
    )
    .await;
    send(
        Method::POST,
        format!("/v2/users/{aid}/passkeys/_search"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    let ws = send(Method::POST, "/v2/sessions".into(), lc.clone(), Some(json!({"checks": {"user": {"userId": aid}}, "challenges": {"webAuthN": {"domain": "localhost", "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"}}}))).await;
    let wsid = ws["sessionId"].as_str().unwrap().to_owned();
    let assertion = key
        .get(
            emu.issuer(),
            &ws["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"],
        )
        .await;
    send(
        Method::PATCH,
        format!("/v2/sessions/{wsid}"),
        lc.clone(),
        Some(json!({"checks": {"webAuthN": {"credentialAssertionData": assertion}}})),
    )
    .await;
    let ch = send(
        Method::PATCH,
        format!("/v2/sessions/{wsid}"),
        lc.clone(),
        Some(json!({"challenges": {"webAuthN": {"domain": "localhost"}}})),
    )
    .await;
    assert!(ch["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"].is_object());
    send(
        Method::GET,
        format!("/v2/sessions/{wsid}"),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::DELETE,
        format!("/v2/users/{aid}/u2f/{u2f_id}"),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::DELETE,
        format!("/v2/users/{aid}/passkeys/{passkey_id}"),
        lc.clone(),
        None,
    )
    .await;
    send(
        Method::DELETE,
        format!("/v2/sessions/{sid}"),
        lc.clone(),
        Some(json!({})),
    )
    .await;
    management_calls(&emu, &at).await;
    emu.shutdown().await;

    let protos = protos();
    let mut problems = Vec::new();
    let mut checked = BTreeSet::new();
    for entry in contract::read_request_log(&log).unwrap() {
        if !(200..300).contains(&entry.status) || !contract::is_api_path(&entry.path) {
            continue;
        }
        let (_, response) = protos
            .messages_of(&entry.method, &entry.path)
            .unwrap_or_else(|| panic!("no rule for {} {}", entry.method, entry.path));
        checked.insert(response.to_owned());
        problems.extend(protos.check_response(&entry.method, &entry.path, &entry.response_body));
    }
    // Every request of the scenario, whatever its status, keeps to the
    // request messages.
    problems.extend(contract::check_request_log(&log, &contract::default_proto_dir()).unwrap());
    assert!(
        checked.len() >= 30,
        "only {} response types checked: {checked:?}",
        checked.len()
    );
    assert!(problems.is_empty(), "{}", contract::report(&problems));
}

/// Management v1 IdP templates, login-policy IdPs and factors and project
/// roles (the request log of the scenario records them).
async fn management_calls(emu: &zitadel_emulator::RunningEmulator, token: &str) {
    let http = Client::new();
    let call = |m: Method, p: String, body: Option<Value>| {
        let req = http
            .request(m, format!("{}{p}", emu.issuer()))
            .bearer_auth(token);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{p}: {status} {v}");
            v
        }
    };
    let options = json!({"isLinkingAllowed": true, "autoLinking": "AUTO_LINKING_OPTION_USERNAME"});
    let oidc = call(Method::POST, "/management/v1/idps/generic_oidc".into(), Some(json!({"name": "OIDC", "issuer": format!("{}/_emulator/test-idp", emu.issuer()), "clientId": "c", "clientSecret": "s", "scopes": ["openid"], "providerOptions": options, "isIdTokenMapping": true}))).await;
    let oidc_id = oidc["id"].as_str().unwrap().to_owned();
    call(Method::PUT, format!("/management/v1/idps/generic_oidc/{oidc_id}"), Some(json!({"name": "OIDC 2", "issuer": "https://idp.example.com", "clientId": "c", "usePkce": true}))).await;
    let oauth = call(Method::POST, "/management/v1/idps/oauth".into(), Some(json!({"name": "OAuth", "clientId": "c", "clientSecret": "s", "authorizationEndpoint": "https://o.example.com/a", "tokenEndpoint": "https://o.example.com/t", "userEndpoint": "https://o.example.com/u", "scopes": ["read"], "idAttribute": "id", "providerOptions": options}))).await;
    let oauth_id = oauth["id"].as_str().unwrap().to_owned();
    call(Method::PUT, format!("/management/v1/idps/oauth/{oauth_id}"), Some(json!({"name": "OAuth 2", "clientId": "c", "authorizationEndpoint": "https://o.example.com/a", "tokenEndpoint": "https://o.example.com/t", "userEndpoint": "https://o.example.com/u", "idAttribute": "sub"}))).await;
    call(
        Method::GET,
        format!("/management/v1/idps/templates/{oauth_id}"),
        None,
    )
    .await;
    call(Method::POST, "/management/v1/idps/templates/_search".into(), Some(json!({"query": {"limit": 10}, "queries": [{"idpNameQuery": {"name": "o", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]}))).await;
    // The scenario created the org's custom lockout policy only; add a login policy
    call(Method::POST, "/management/v1/policies/login".into(), Some(json!({"allowUsernamePassword": true, "allowExternalIdp": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "idps": [{"idpId": oidc_id, "ownerType": "IDP_OWNER_TYPE_ORG"}], "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_OTP_SMS"], "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"]}))).await;
    call(
        Method::POST,
        "/management/v1/policies/login/idps".into(),
        Some(json!({"idpId": oauth_id, "ownerType": "IDP_OWNER_TYPE_ORG"})),
    )
    .await;
    call(
        Method::POST,
        "/management/v1/policies/login/idps/_search".into(),
        Some(json!({"query": {"offset": "0", "limit": 10}})),
    )
    .await;
    call(
        Method::DELETE,
        format!("/management/v1/policies/login/idps/{oauth_id}"),
        None,
    )
    .await;
    // The factors of the login policy
    for (list, add, factor) in [
        (
            "second_factors",
            "second_factors",
            "SECOND_FACTOR_TYPE_OTP_SMS",
        ),
        (
            "auth_factors",
            "multi_factors",
            "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION",
        ),
    ] {
        let base = "/management/v1/policies/login";
        call(Method::DELETE, format!("{base}/{add}/{factor}"), None).await;
        call(
            Method::POST,
            format!("{base}/{add}"),
            Some(json!({"type": factor})),
        )
        .await;
        call(
            Method::POST,
            format!("{base}/{list}/_search"),
            Some(json!({})),
        )
        .await;
    }
    call(
        Method::DELETE,
        format!("/management/v1/idps/templates/{oauth_id}"),
        None,
    )
    .await;
    // Project roles
    let roles = format!(
        "/management/v1/projects/{}/roles",
        emu.seed_info().project_id
    );
    call(
        Method::POST,
        roles.clone(),
        Some(json!({"roleKey": "editor", "displayName": "Editor", "group": "g"})),
    )
    .await;
    call(
        Method::POST,
        format!("{roles}/_bulk"),
        Some(json!({"roles": [{"key": "viewer", "displayName": "Viewer"}]})),
    )
    .await;
    call(
        Method::PUT,
        format!("{roles}/editor"),
        Some(json!({"displayName": "Editor 2"})),
    )
    .await;
    call(Method::POST, format!("{roles}/_search"), Some(json!({"queries": [{"keyQuery": {"key": "e", "method": "TEXT_QUERY_METHOD_CONTAINS"}}]}))).await;
    call(Method::DELETE, format!("{roles}/viewer"), None).await;
}

/// Writes request log lines as the emulator does and checks them.
fn check_log(entries: &[Value]) -> Vec<Violation> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&log, text).unwrap();
    contract::check_request_log(&log, &contract::default_proto_dir()).unwrap()
}

fn entry(method: &str, path: &str, body: Value) -> Value {
    json!({"method": method, "path": path, "status": 200, "request_body": body,
        "response_body": null})
}

#[test]
fn a_request_log_of_good_requests_has_no_violation() {
    let violations = check_log(&[
        entry(
            "POST",
            "/v2/sessions",
            json!({"checks": {"user": {"loginName": "alice@acme.localhost"},
                "password": {"password": "[redacted]"}}, "lifetime": "3600s"}),
        ),
        entry("GET", "/v2/sessions/123", Value::Null),
        entry(
            "POST",
            "/v2/users",
            json!({"query": {"offset": "10", "limit": 5},
                "sortingColumn": "USER_FIELD_NAME_CREATION_DATE"}),
        ),
        entry("GET", "/v2/settings/login?ctx.orgId=1", Value::Null),
        // Outside the proto contract: not checked.
        entry(
            "POST",
            "/oauth/v2/token",
            json!({"grant_type": "refresh_token"}),
        ),
        entry("GET", "/ui/v2/login/login?authRequest=V2_1", Value::Null),
    ]);
    assert!(violations.is_empty(), "{}", contract::report(&violations));
}

#[test]
fn a_request_log_reports_unknown_fields_wrong_types_unknown_enums_and_routes() {
    let violations = check_log(&[
        entry(
            "POST",
            "/v2/sessions",
            json!({"checks": {"user": {"loginName": "a", "nickName": "b"}}}),
        ),
        entry("POST", "/v2/users", json!({"query": {"offset": 10}})),
        entry("POST", "/v2/users", json!({"sortingColumn": "BY_NAME"})),
        entry("POST", "/v2/no/such/route", json!({})),
        entry("PUT", "/v2/sessions", json!({})),
        entry("GET", "/v2/settings/login?ctx.orgID=1", Value::Null),
    ]);
    let found: Vec<(&str, &str, &str)> = violations
        .iter()
        .map(|v| (v.method.as_str(), v.path.as_str(), v.problem.as_str()))
        .collect();
    assert_eq!(violations.len(), 6, "{}", contract::report(&violations));
    assert_eq!(
        found[0],
        (
            "POST",
            "/v2/sessions",
            "body.checks.user.nickName: no field nickName in zitadel.session.v2.CheckUser"
        )
    );
    assert_eq!(
        found[1].2, "body.query.offset: 10 is not a JSON uint64",
        "int64 must be a string"
    );
    assert!(
        found[2].2.starts_with(
            "body.sortingColumn: \"BY_NAME\" is not a JSON zitadel.user.v2.UserFieldName"
        ),
        "{}",
        found[2].2
    );
    assert_eq!(
        found[3],
        (
            "POST",
            "/v2/no/such/route",
            "no HTTP rule in the protos for this path"
        )
    );
    assert!(
        found[4].2.starts_with("no PUT rule for this path"),
        "{}",
        found[4].2
    );
    assert!(
        found[5].2.starts_with("query ctx.orgID: no field orgID"),
        "{}",
        found[5].2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_style_traffic_through_the_emulator_log_is_checked_against_the_protos() {
    let (_dir, log, emu) = start_with_request_log().await;
    let alice = emu.seed_info().users[2].clone();
    let good = json!({"checks": {"user": {"loginName": alice.login_name},
        "password": {"password": alice.password}}});
    let bad = json!({"checks": {"user": {"login_name_typo": alice.login_name}}});
    for body in [good, bad] {
        Client::new()
            .post(format!("{}/v2/sessions", emu.issuer()))
            .bearer_auth(&emu.seed_info().login_client_token)
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    emu.shutdown().await;
    let violations = contract::check_request_log(&log, &contract::default_proto_dir()).unwrap();
    assert_eq!(violations.len(), 1, "{}", contract::report(&violations));
    assert_eq!(
        violations[0].problem,
        "body.checks.user.login_name_typo: no field login_name_typo in zitadel.session.v2.CheckUser"
    );
}
