//! Management v1: org IdP templates, the IdPs of the login policy, and
//! project roles, with their authorization rules and error paths.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use zitadel_emulator::RunningEmulator;

fn api(emu: &RunningEmulator, path: &str) -> String {
    format!("{}{path}", emu.issuer())
}

/// A session token of a seed user (index into `seed_info().users`).
async fn token_of(emu: &RunningEmulator, user: usize) -> String {
    let u = emu.seed_info().users[user].clone();
    let s: Value = Client::new()
        .post(api(emu, "/v2/sessions"))
        .bearer_auth(&emu.seed_info().login_client_token)
        .json(&json!({"checks": {"user": {"loginName": u.login_name}, "password": {"password": u.password}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s["sessionToken"].as_str().unwrap().to_owned()
}

/// Sends a request; returns the status and the JSON body.
async fn call(
    emu: &RunningEmulator,
    token: Option<&str>,
    method: Method,
    path: &str,
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

fn error_id(body: &Value) -> &str {
    body["details"][0]["id"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn org_owners_create_read_list_update_and_delete_org_idp_templates() {
    let emu = start().await;
    let manager = token_of(&emu, 1).await;
    let alice = token_of(&emu, 2).await;
    let oidc = json!({"name": "Corp OIDC", "issuer": "https://idp.example.com", "clientId": "c1",
        "clientSecret": "s1", "scopes": ["openid", "email"],
        "providerOptions": {"isLinkingAllowed": true, "isCreationAllowed": true, "autoLinking": "AUTO_LINKING_OPTION_EMAIL"},
        "isIdTokenMapping": true});
    // Without a token: 401; without org.idp.write: 403 code 7
    let (status, _) = call(
        &emu,
        None,
        Method::POST,
        "/management/v1/idps/generic_oidc",
        Some(oidc.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = call(
        &emu,
        Some(&alice),
        Method::POST,
        "/management/v1/idps/generic_oidc",
        Some(oidc.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], 7);
    // A missing issuer is an invalid argument
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/idps/generic_oidc",
        Some(json!({"name": "x", "clientId": "c", "clientSecret": "s"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], 3);
    // The org owner creates a generic OIDC IdP
    let (status, created) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/idps/generic_oidc",
        Some(oidc),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["details"]["sequence"].is_string());
    let (status, got) = call(
        &emu,
        Some(&manager),
        Method::GET,
        &format!("/management/v1/idps/templates/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let idp = &got["idp"];
    assert_eq!(idp["name"], "Corp OIDC");
    assert_eq!(idp["type"], "PROVIDER_TYPE_OIDC");
    assert_eq!(idp["owner"], "IDP_OWNER_TYPE_ORG");
    assert_eq!(idp["state"], "IDP_STATE_ACTIVE");
    assert_eq!(idp["config"]["oidc"]["issuer"], "https://idp.example.com");
    assert_eq!(idp["config"]["oidc"]["isIdTokenMapping"], true);
    assert_eq!(
        idp["config"]["options"]["autoLinking"],
        "AUTO_LINKING_OPTION_EMAIL"
    );
    assert!(
        idp["config"]["oidc"].get("clientSecret").is_none(),
        "the secret is never returned"
    );
    // And a generic OAuth IdP
    let oauth = json!({"name": "Corp OAuth", "clientId": "c2", "clientSecret": "s2",
        "authorizationEndpoint": "https://oauth.example.com/authorize", "tokenEndpoint": "https://oauth.example.com/token",
        "userEndpoint": "https://oauth.example.com/user", "idAttribute": "id", "scopes": ["read"]});
    let (status, created) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/idps/oauth",
        Some(oauth.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let oauth_id = created["id"].as_str().unwrap().to_owned();
    // The list holds the org's IdPs and the instance's test IdP; queries narrow it
    let (status, list) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/idps/templates/_search",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["details"]["totalResult"], "3");
    let (_, list) = call(&emu, Some(&manager), Method::POST, "/management/v1/idps/templates/_search",
        Some(json!({"queries": [{"idpNameQuery": {"name": "corp", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}, {"ownerTypeQuery": {"ownerType": "IDP_OWNER_TYPE_ORG"}}]}))).await;
    assert_eq!(list["details"]["totalResult"], "2");
    let (_, list) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/idps/templates/_search",
        Some(json!({"queries": [{"idpIdQuery": {"id": oauth_id}}]})),
    )
    .await;
    assert_eq!(
        list["result"][0]["config"]["oauth"]["userEndpoint"],
        "https://oauth.example.com/user"
    );
    // Updates: an empty secret keeps the old one; the kind must match
    let (status, _) = call(&emu, Some(&manager), Method::PUT, &format!("/management/v1/idps/generic_oidc/{id}"),
        Some(json!({"name": "Corp SSO", "issuer": "https://sso.example.com", "clientId": "c1", "usePkce": true}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, got) = call(
        &emu,
        Some(&manager),
        Method::GET,
        &format!("/management/v1/idps/templates/{id}"),
        None,
    )
    .await;
    assert_eq!(got["idp"]["name"], "Corp SSO");
    assert_eq!(got["idp"]["config"]["oidc"]["usePkce"], true);
    assert!(
        got["idp"]["config"]["oidc"]
            .get("isIdTokenMapping")
            .is_none()
    );
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        &format!("/management/v1/idps/oauth/{id}"),
        Some(oauth),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Reading needs org.idp.read
    let (status, _) = call(
        &emu,
        Some(&alice),
        Method::GET,
        &format!("/management/v1/idps/templates/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The instance IdP is listed but neither read by id nor deleted through
    // the org (as in ZITADEL); the org's can be deleted, once
    let test_idp = list_test_idp(&emu, &manager).await;
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::GET,
        &format!("/management/v1/idps/templates/{test_idp}"),
        None,
    )
    .await;
    assert_eq!(
        (status, error_id(&body)),
        (StatusCode::NOT_FOUND, "QUERY-rhR2o")
    );
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("/management/v1/idps/templates/{test_idp}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &emu,
        Some(&alice),
        Method::DELETE,
        &format!("/management/v1/idps/templates/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("/management/v1/idps/templates/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::GET,
        &format!("/management/v1/idps/templates/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], 5);
    emu.shutdown().await;
}

async fn list_test_idp(emu: &RunningEmulator, token: &str) -> String {
    let (_, list) = call(
        emu,
        Some(token),
        Method::POST,
        "/management/v1/idps/templates/_search",
        Some(json!({"queries": [{"ownerTypeQuery": {"ownerType": "IDP_OWNER_TYPE_SYSTEM"}}]})),
    )
    .await;
    assert_eq!(list["result"][0]["name"], "Test IdP");
    list["result"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn idps_activated_in_the_org_login_policy_reach_the_settings_the_intents_and_the_hosted_login()
 {
    let emu = start().await;
    let manager = token_of(&emu, 1).await;
    let alice = token_of(&emu, 2).await;
    let lc = emu.seed_info().login_client_token.clone();
    let org = emu.seed_info().org_id.clone();
    // An OAuth IdP served by the emulator's test IdP, and one out of reach
    let local = json!({"name": "Local OAuth", "clientId": "c", "clientSecret": "s",
        "authorizationEndpoint": format!("{}/_emulator/test-idp/authorize", emu.issuer()),
        "tokenEndpoint": format!("{}/_emulator/test-idp/token", emu.issuer()),
        "userEndpoint": format!("{}/_emulator/test-idp/user", emu.issuer()), "idAttribute": "sub",
        "providerOptions": {"isLinkingAllowed": true, "isCreationAllowed": true, "isAutoCreation": true}});
    let (_, created) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/idps/oauth",
        Some(local),
    )
    .await;
    let local_id = created["id"].as_str().unwrap().to_owned();
    let remote = json!({"name": "Remote OAuth", "clientId": "rc", "clientSecret": "s",
        "authorizationEndpoint": "https://oauth.example.com/authorize", "tokenEndpoint": "https://oauth.example.com/token",
        "userEndpoint": "https://oauth.example.com/user", "idAttribute": "id", "scopes": ["read", "email"]});
    let (_, created) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/idps/oauth",
        Some(remote),
    )
    .await;
    let remote_id = created["id"].as_str().unwrap().to_owned();
    let (_, created) = call(&emu, Some(&manager), Method::POST, "/management/v1/idps/generic_oidc",
        Some(json!({"name": "Remote OIDC", "issuer": "https://oidc.example.com", "clientId": "c", "clientSecret": "s"}))).await;
    let oidc_id = created["id"].as_str().unwrap().to_owned();
    let add = |id: &str, owner: &str| json!({"idpId": id, "ownerType": owner});
    // Activation needs a custom login policy of the org
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/policies/login/idps",
        Some(add(&local_id, "IDP_OWNER_TYPE_ORG")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_id(&body), "Org-Ffgw2");
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/policies/login",
        Some(
            json!({"allowUsernamePassword": true, "allowExternalIdp": true, "allowRegister": true}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A custom policy starts without IdPs: the instance's test IdP is gone
    let (_, active) = call(
        &emu,
        Some(&lc),
        Method::GET,
        &format!("/v2/settings/login/idps?ctx.orgId={org}"),
        None,
    )
    .await;
    assert!(active.get("identityProviders").is_none(), "{active}");
    // 401, 403, 400 (owner type), 400 (unknown IdP), then 200 and 409
    let (status, _) = call(
        &emu,
        None,
        Method::POST,
        "/management/v1/policies/login/idps",
        Some(add(&local_id, "IDP_OWNER_TYPE_ORG")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = call(
        &emu,
        Some(&alice),
        Method::POST,
        "/management/v1/policies/login/idps",
        Some(add(&local_id, "IDP_OWNER_TYPE_ORG")),
    )
    .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!(7))
    );
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/policies/login/idps",
        Some(json!({"idpId": local_id})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/policies/login/idps",
        Some(add(&local_id, "IDP_OWNER_TYPE_SYSTEM")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_id(&body), "Org-3N9fs");
    for id in [&local_id, &remote_id, &oidc_id] {
        let (status, body) = call(
            &emu,
            Some(&manager),
            Method::POST,
            "/management/v1/policies/login/idps",
            Some(add(id, "IDP_OWNER_TYPE_ORG")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/policies/login/idps",
        Some(add(&local_id, "IDP_OWNER_TYPE_ORG")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_id(&body), "Org-2B0ps");
    let (status, list) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/policies/login/idps/_search",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["details"]["totalResult"], "3");
    assert_eq!(list["result"][0]["idpName"], "Local OAuth");
    assert_eq!(list["result"][2]["idpType"], "IDP_TYPE_OIDC");
    // The v2 login settings of the org list them
    let (_, active) = call(
        &emu,
        Some(&lc),
        Method::GET,
        &format!("/v2/settings/login/idps?ctx.orgId={org}"),
        None,
    )
    .await;
    let names: Vec<&str> = active["identityProviders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Local OAuth", "Remote OAuth", "Remote OIDC"]);
    assert_eq!(
        active["identityProviders"][0]["options"]["isCreationAllowed"],
        true
    );
    assert_eq!(
        active["identityProviders"][2]["type"],
        "IDENTITY_PROVIDER_TYPE_OIDC"
    );
    // Intents: the local IdP runs on the test IdP page; the remote OAuth
    // IdP's authUrl is its configured endpoint; remote OIDC cannot start
    let intent = |id: &str| json!({"idpId": id, "urls": {"successUrl": "http://localhost:7777/ok", "failureUrl": "http://localhost:7777/no"}});
    let (status, started) = call(
        &emu,
        Some(&lc),
        Method::POST,
        "/v2/idp_intents",
        Some(intent(&local_id)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let auth_url = url::Url::parse(started["authUrl"].as_str().unwrap()).unwrap();
    assert_eq!(auth_url.path(), "/_emulator/test-idp/authorize");
    let page = browser()
        .get(auth_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Test IdP"));
    let (_, started) = call(
        &emu,
        Some(&lc),
        Method::POST,
        "/v2/idp_intents",
        Some(intent(&remote_id)),
    )
    .await;
    let auth_url = url::Url::parse(started["authUrl"].as_str().unwrap()).unwrap();
    assert!(
        auth_url
            .as_str()
            .starts_with("https://oauth.example.com/authorize?")
    );
    assert_eq!(query(&auth_url, "client_id").as_deref(), Some("rc"));
    assert_eq!(query(&auth_url, "scope").as_deref(), Some("read email"));
    assert_eq!(
        query(&auth_url, "redirect_uri"),
        Some(format!("{}/idps/callback", emu.issuer()))
    );
    let (status, _) = call(
        &emu,
        Some(&lc),
        Method::POST,
        "/v2/idp_intents",
        Some(intent(&oidc_id)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The hosted login for the org shows a button per active IdP; the local one signs in
    let client = browser();
    let (verifier, challenge) = pkce();
    let (resp, _) = follow(
        &emu,
        &client,
        authorize_url(
            &emu,
            &challenge,
            &format!("openid urn:zitadel:iam:org:id:{org}"),
            &[],
        ),
    )
    .await;
    let html = resp.text().await.unwrap();
    assert!(html.contains("Local OAuth") && html.contains("Remote OIDC"));
    assert!(!html.contains("Test IdP"));
    let resp = post_form(
        &emu,
        &client,
        "/ui/v2/login/idp/start",
        &[
            ("csrf", &hidden(&html, "csrf")),
            ("requestId", &hidden(&html, "requestId")),
            ("idpId", &local_id),
        ],
    )
    .await;
    let (resp, _) = follow(&emu, &client, location(&emu, &resp)).await;
    let page = resp.text().await.unwrap();
    let resp = post_form(
        &emu,
        &client,
        "/_emulator/test-idp/authorize",
        &[
            ("state", &hidden(&page, "state")),
            ("sub", "ext-9"),
            ("username", "ext.nine"),
            ("email", "nine@idp.example"),
            ("givenName", "Nine"),
            ("familyName", "Ext"),
            ("action", "login"),
        ],
    )
    .await;
    let (resp, url) = follow(&emu, &client, location(&emu, &resp)).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert!(url.as_str().starts_with(REDIRECT), "{url}");
    exchange(&emu, &query(&url, "code").unwrap(), &verifier).await;
    // Removal: 403 for a plain user, 200, then 404
    let (status, _) = call(
        &emu,
        Some(&alice),
        Method::DELETE,
        &format!("/management/v1/policies/login/idps/{remote_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("/management/v1/policies/login/idps/{remote_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("/management/v1/policies/login/idps/{remote_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_id(&body), "Org-39fjs");
    // Deleting an IdP removes it from the policy
    call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("/management/v1/idps/templates/{oidc_id}"),
        None,
    )
    .await;
    let (_, list) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/policies/login/idps/_search",
        Some(json!({})),
    )
    .await;
    assert_eq!(list["details"]["totalResult"], "1");
    // Without a custom policy there is nothing to remove from
    call(
        &emu,
        Some(&manager),
        Method::DELETE,
        "/management/v1/policies/login",
        None,
    )
    .await;
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("/management/v1/policies/login/idps/{local_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_id(&body), "Org-GVDfe");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn project_roles_are_managed_by_org_owners_and_removal_strips_them_from_grants() {
    let emu = start().await;
    let manager = token_of(&emu, 1).await;
    let alice = token_of(&emu, 2).await;
    let project = emu.seed_info().project_id.clone();
    let alice_id = emu.seed_info().users[2].user_id.clone();
    let roles = format!("/management/v1/projects/{project}/roles");
    let role = json!({"roleKey": "editor", "displayName": "Editor", "group": "content"});
    // 401, 403 code 7, 400 (precondition) for an unknown project, 400 without a display name
    let (status, _) = call(&emu, None, Method::POST, &roles, Some(role.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = call(&emu, Some(&alice), Method::POST, &roles, Some(role.clone())).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!(7))
    );
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/projects/404/roles",
        Some(role.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::POST,
        &roles,
        Some(json!({"roleKey": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Add, then 409 for the same key
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::POST,
        &roles,
        Some(role.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["details"]["sequence"].is_string());
    let (status, body) = call(&emu, Some(&manager), Method::POST, &roles, Some(role)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], 6);
    assert_eq!(error_id(&body), "V3-DKcYh");
    // Bulk: all or nothing
    let (status, _) = call(&emu, Some(&manager), Method::POST, &format!("{roles}/_bulk"),
        Some(json!({"roles": [{"key": "viewer", "displayName": "Viewer"}, {"key": "user", "displayName": "User"}]}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = call(&emu, Some(&manager), Method::POST, &format!("{roles}/_bulk"),
        Some(json!({"roles": [{"key": "viewer", "displayName": "Viewer"}, {"key": "auditor", "displayName": "Auditor", "group": "compliance"}]}))).await;
    assert_eq!(status, StatusCode::OK);
    // Search: all, then by key
    let (status, list) = call(
        &emu,
        Some(&manager),
        Method::POST,
        &format!("{roles}/_search"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<&str> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["admin", "user", "editor", "viewer", "auditor"]);
    assert_eq!(list["result"][0]["displayName"], "admin");
    let (_, list) = call(&emu, Some(&manager), Method::POST, &format!("{roles}/_search"),
        Some(json!({"queries": [{"keyQuery": {"key": "edit", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]}))).await;
    assert_eq!(list["details"]["totalResult"], "1");
    assert_eq!(list["result"][0]["group"], "content");
    // A plain user cannot even read them
    let (status, _) = call(
        &emu,
        Some(&alice),
        Method::POST,
        &format!("{roles}/_search"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Update: display name and group; unknown key → 404
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        &format!("{roles}/editor"),
        Some(json!({"displayName": "Content editor"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = call(&emu, Some(&manager), Method::POST, &format!("{roles}/_search"),
        Some(json!({"queries": [{"displayNameQuery": {"displayName": "content editor", "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}]}))).await;
    assert_eq!(list["result"][0]["key"], "editor");
    assert!(list["result"][0].get("group").is_none());
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        &format!("{roles}/nope"),
        Some(json!({"displayName": "Nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_id(&body), "COMMAND-vv8M9");
    // An update without a change is refused, as in ZITADEL
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        &format!("{roles}/editor"),
        Some(json!({"displayName": "Content editor"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_id(&body), "COMMAND-5M0cs");
    // User grants validate against the roles, including new ones
    let (_, grants) = call(
        &emu,
        Some(&manager),
        Method::POST,
        "/management/v1/users/grants/_search",
        Some(json!({"queries": [{"userIdQuery": {"userId": alice_id}}]})),
    )
    .await;
    let grant_id = grants["result"][0]["id"].as_str().unwrap().to_owned();
    let grant = format!("/management/v1/users/{alice_id}/grants/{grant_id}");
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        &grant,
        Some(json!({"roleKeys": ["user", "editor"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        &grant,
        Some(json!({"roleKeys": ["user", "ghost"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_id(&body), "COMMAND-mm9F4");
    // Removing a role removes it from the grants that hold it
    let (status, _) = call(
        &emu,
        Some(&alice),
        Method::DELETE,
        &format!("{roles}/editor"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("{roles}/editor"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, got) = call(&emu, Some(&manager), Method::GET, &grant, None).await;
    assert_eq!(got["userGrant"]["roleKeys"], json!(["user"]));
    let (status, body) = call(
        &emu,
        Some(&manager),
        Method::DELETE,
        &format!("{roles}/editor"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_id(&body), "COMMAND-m9vMf");
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        &grant,
        Some(json!({"roleKeys": ["editor"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    emu.shutdown().await;
}

const SECOND_FACTORS: &str = "/management/v1/policies/login/second_factors";
const MULTI_FACTORS: &str = "/management/v1/policies/login/multi_factors";

/// A POST with a token; the status and the JSON body.
async fn post_as(
    emu: &RunningEmulator,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    call(emu, Some(token), Method::POST, path, Some(body)).await
}

/// A DELETE with a token; the status and the JSON body.
async fn delete_as(emu: &RunningEmulator, token: &str, path: &str) -> (StatusCode, Value) {
    call(emu, Some(token), Method::DELETE, path, None).await
}

/// The `result` of a factor list (`second_factors` or `auth_factors`).
async fn factors(emu: &RunningEmulator, token: &str, list: &str) -> Value {
    let (status, body) = post_as(
        emu,
        token,
        &format!("/management/v1/policies/login/{list}/_search"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["result"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn org_owners_list_add_and_remove_the_second_and_multi_factors_of_the_login_policy() {
    let emu = start().await;
    let manager = token_of(&emu, 1).await;
    let alice = token_of(&emu, 2).await;
    let org = emu.seed_info().org_id.clone();
    // The instance default: TOTP, security keys, codes by email and SMS; passkeys
    assert_eq!(
        factors(&emu, &manager, "second_factors").await,
        json!([
            "SECOND_FACTOR_TYPE_OTP",
            "SECOND_FACTOR_TYPE_U2F",
            "SECOND_FACTOR_TYPE_OTP_EMAIL",
            "SECOND_FACTOR_TYPE_OTP_SMS"
        ])
    );
    assert_eq!(
        factors(&emu, &manager, "auth_factors").await,
        json!(["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"])
    );
    let otp = json!({"type": "SECOND_FACTOR_TYPE_OTP"});
    // Without a token: 401; without policy.write: 403 code 7
    let (status, _) = call(&emu, None, Method::POST, SECOND_FACTORS, Some(otp.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let path = format!("{SECOND_FACTORS}/_search");
    let (status, body) = post_as(&emu, &alice, &path, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], 7);
    let (status, body) = post_as(&emu, &alice, SECOND_FACTORS, otp.clone()).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!(7))
    );
    // The default policy cannot be changed: the org needs a custom one
    let (status, body) = post_as(&emu, &manager, SECOND_FACTORS, otp.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_id(&body), "EMU-LPF01");
    // A custom policy with its own factors
    let policy = json!({"allowUsernamePassword": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
        "secondFactors": ["SECOND_FACTOR_TYPE_OTP"], "multiFactors": []});
    let (status, body) = post_as(&emu, &manager, "/management/v1/policies/login", policy).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        factors(&emu, &manager, "second_factors").await,
        json!(["SECOND_FACTOR_TYPE_OTP"])
    );
    assert_eq!(factors(&emu, &manager, "auth_factors").await, Value::Null);
    // Add: once; twice is 409
    let u2f = json!({"type": "SECOND_FACTOR_TYPE_U2F"});
    let (status, body) = post_as(&emu, &manager, SECOND_FACTORS, u2f.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["details"]["sequence"].is_string());
    let (status, body) = post_as(&emu, &manager, SECOND_FACTORS, u2f).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        (body["code"].clone(), error_id(&body)),
        (json!(6), "Org-2B0ps")
    );
    let (status, _) = post_as(
        &emu,
        &manager,
        SECOND_FACTORS,
        json!({"type": "SECOND_FACTOR_TYPE_UNSPECIFIED"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Remove: a listed one; one not listed is 404
    let path = format!("{SECOND_FACTORS}/SECOND_FACTOR_TYPE_OTP_SMS");
    let (status, body) = delete_as(&emu, &manager, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_id(&body), "Org-3M9od");
    let path = format!("{SECOND_FACTORS}/SECOND_FACTOR_TYPE_OTP");
    let (status, _) = delete_as(&emu, &manager, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        factors(&emu, &manager, "second_factors").await,
        json!(["SECOND_FACTOR_TYPE_U2F"])
    );
    // Multi factors the same way
    let passkey = json!({"type": "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"});
    let (status, _) = post_as(&emu, &manager, MULTI_FACTORS, passkey.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post_as(&emu, &manager, MULTI_FACTORS, passkey).await;
    assert_eq!(
        (status, error_id(&body)),
        (StatusCode::CONFLICT, "Org-3M9od")
    );
    assert_eq!(
        factors(&emu, &manager, "auth_factors").await,
        json!(["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"])
    );
    // The policy and the v2 login settings report the lists; PUT keeps them
    let (status, _) = call(
        &emu,
        Some(&manager),
        Method::PUT,
        "/management/v1/policies/login",
        Some(json!({"allowUsernamePassword": true, "forceMfa": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = call(
        &emu,
        Some(&manager),
        Method::GET,
        "/management/v1/policies/login",
        None,
    )
    .await;
    assert_eq!(
        body["policy"]["secondFactors"],
        json!(["SECOND_FACTOR_TYPE_U2F"])
    );
    assert_eq!(
        body["policy"]["multiFactors"],
        json!(["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"])
    );
    let path = format!("/v2/settings/login?ctx.orgId={org}");
    let (_, body) = call(&emu, Some(&manager), Method::GET, &path, None).await;
    assert_eq!(
        body["settings"]["secondFactors"],
        json!(["SECOND_FACTOR_TYPE_U2F"])
    );
    let path = format!("{MULTI_FACTORS}/MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION");
    let (status, _) = delete_as(&emu, &manager, &path).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = delete_as(&emu, &manager, &path).await;
    assert_eq!(
        (status, error_id(&body)),
        (StatusCode::NOT_FOUND, "Org-3M9df")
    );
    // Resetting the policy brings back the default's factors
    let (status, _) = delete_as(&emu, &manager, "/management/v1/policies/login").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        factors(&emu, &manager, "second_factors")
            .await
            .as_array()
            .unwrap()
            .len(),
        4
    );
    emu.shutdown().await;
}

/// Registers and verifies a TOTP for a seed user; returns the secret.
async fn register_totp(emu: &RunningEmulator, user: usize) -> String {
    let token = token_of(emu, user).await;
    let user_id = emu.seed_info().users[user].user_id.clone();
    let path = format!("/v2/users/{user_id}/totp");
    let (status, reg) = post_as(emu, &token, &path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    let secret = reg["secret"].as_str().unwrap().to_owned();
    let path = format!("/v2/users/{user_id}/totp/verify");
    let code = json!({"code": totp_now(&secret)});
    let (status, body) = post_as(emu, &token, &path, code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    secret
}

/// Runs the hosted login as alice up to the page after her password; returns
/// the browser and that URL.
async fn login_alice(emu: &RunningEmulator) -> (Client, url::Url) {
    let alice = emu.seed_info().users[2].clone();
    let client = browser();
    let (_, challenge) = pkce();
    let start = authorize_url(emu, &challenge, "openid", &[]);
    let next = login_with_password(emu, &client, start, &alice.login_name, &alice.password).await;
    (client, next)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hosted_login_asks_only_for_second_factors_the_login_policy_allows() {
    let emu = start().await;
    let manager = token_of(&emu, 1).await;
    let secret = register_totp(&emu, 2).await;
    // With TOTP allowed (the default) alice is asked for the code
    let (_, next) = login_alice(&emu).await;
    assert!(next.path().ends_with("/otp/time-based"), "{next}");
    // Without SECOND_FACTOR_TYPE_OTP in the org's policy she is not
    let (status, _) = post_as(
        &emu,
        &manager,
        "/management/v1/policies/login",
        json!({"allowUsernamePassword": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("{SECOND_FACTORS}/SECOND_FACTOR_TYPE_OTP");
    let (status, _) = delete_as(&emu, &manager, &path).await;
    assert_eq!(status, StatusCode::OK);
    let (_, next) = login_alice(&emu).await;
    assert!(next.as_str().starts_with(REDIRECT), "{next}");
    assert!(query(&next, "code").is_some(), "{next}");
    // Forced MFA counts her as without a second factor: the set-up offers
    // only the allowed types (no TOTP; no passkey without the multi factor)
    let path = format!("{MULTI_FACTORS}/MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION");
    let (status, _) = delete_as(&emu, &manager, &path).await;
    assert_eq!(status, StatusCode::OK);
    let policy = json!({"allowUsernamePassword": true, "forceMfa": true,
        "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED"});
    let path = "/management/v1/policies/login";
    let (status, _) = call(&emu, Some(&manager), Method::PUT, path, Some(policy)).await;
    assert_eq!(status, StatusCode::OK);
    let (client, next) = login_alice(&emu).await;
    assert!(next.path().ends_with("/mfa/set"), "{next}");
    let html = client.get(next).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"mfa-u2f\""), "{html}");
    assert!(!html.contains("totp-secret"), "{html}");
    assert!(!html.contains("id=\"mfa-passkey\""), "{html}");
    // and the TOTP page refuses her code
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("requestId", hidden(&html, "requestId")),
        ("sessionId", hidden(&html, "sessionId")),
        ("code", totp_now(&secret)),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = post_form(&emu, &client, "/ui/v2/login/otp/time-based", &form).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Allowing TOTP again: her TOTP was kept and is asked for
    let (status, _) = post_as(
        &emu,
        &manager,
        SECOND_FACTORS,
        json!({"type": "SECOND_FACTOR_TYPE_OTP"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, next) = login_alice(&emu).await;
    assert!(next.path().ends_with("/otp/time-based"), "{next}");
    emu.shutdown().await;
}
