//! OpenID provider flows over real loopback sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Client, StatusCode};
use serde_json::Value;

async fn get_json(url: &str) -> Value {
    Client::new()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn verify_id_token(emu: &zitadel_emulator::RunningEmulator, id_token: &str) -> Value {
    let jwks = get_json(&format!("{}/oauth/v2/keys", emu.issuer())).await;
    let kid = jsonwebtoken::decode_header(id_token).unwrap().kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("kid in JWKS");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[emu.issuer()]);
    validation.set_audience(&["native-app"]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_lists_zitadel_endpoint_paths() {
    // Given a running emulator
    let emu = start().await;
    // When the discovery document is fetched
    let d = get_json(&format!(
        "{}/.well-known/openid-configuration",
        emu.issuer()
    ))
    .await;
    // Then it names ZITADEL's default paths
    let i = emu.issuer();
    assert_eq!(d["issuer"], i);
    assert_eq!(
        d["authorization_endpoint"],
        format!("{i}/oauth/v2/authorize")
    );
    assert_eq!(d["token_endpoint"], format!("{i}/oauth/v2/token"));
    assert_eq!(d["userinfo_endpoint"], format!("{i}/oidc/v1/userinfo"));
    assert_eq!(
        d["end_session_endpoint"],
        format!("{i}/oidc/v1/end_session")
    );
    assert_eq!(d["jwks_uri"], format!("{i}/oauth/v2/keys"));
    assert_eq!(d["revocation_endpoint"], format!("{i}/oauth/v2/revoke"));
    assert_eq!(
        d["introspection_endpoint"],
        format!("{i}/oauth/v2/introspect")
    );
    assert_eq!(
        d["device_authorization_endpoint"],
        format!("{i}/oauth/v2/device_authorization")
    );
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn code_flow_with_pkce_issues_a_verifiable_id_token() {
    let emu = start().await;
    let client = browser();
    // Given a login through the hosted pages with the zitadel audience scope
    let (verifier, challenge) = pkce();
    let start = authorize_url(
        &emu,
        &challenge,
        &format!("openid profile email offline_access {ZITADEL_AUD}"),
        &[],
    );
    let admin = emu.seed_info().users[0].clone();
    let callback =
        login_with_password(&emu, &client, start, &admin.login_name, &admin.password).await;
    // Then the browser goes back to the loopback redirect URI with code, state and iss
    assert_eq!(callback.as_str().split('?').next().unwrap(), REDIRECT);
    assert_eq!(query(&callback, "state").as_deref(), Some("st-123"));
    assert_eq!(query(&callback, "iss").as_deref(), Some(emu.issuer()));
    let code = query(&callback, "code").unwrap();
    // When the code is exchanged with the verifier
    let tokens = exchange(&emu, &code, &verifier).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string());
    assert!(tokens["expires_in"].as_i64().unwrap() > 3600);
    // Then the ID token verifies against the JWKS and carries the expected claims
    let claims = verify_id_token(&emu, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], admin.user_id);
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["azp"], "native-app");
    assert!(claims["auth_time"].is_i64());
    assert!(claims["at_hash"].is_string());
    assert!(claims["sid"].is_string());
    let aud: Vec<String> = serde_json::from_value(claims["aud"].clone()).unwrap();
    assert!(aud.contains(&"native-app".to_owned()));
    assert!(aud.contains(&emu.seed_info().project_id));
    assert_eq!(
        aud.len(),
        3,
        "client, project and ZITADEL's project: {aud:?}"
    );
    // And the code cannot be used twice
    let again = token(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "native-app"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // And the replay revoked the tokens issued for it
    let info = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_pkce_verifier_is_rejected() {
    let emu = start().await;
    let client = browser();
    let (_, challenge) = pkce();
    let admin = emu.seed_info().users[0].clone();
    let callback = login_with_password(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[]),
        &admin.login_name,
        &admin.password,
    )
    .await;
    let code = query(&callback, "code").unwrap();
    let resp = token(
        &emu,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "native-app"),
            (
                "code_verifier",
                "wrong-verifier-wrong-verifier-wrong-verifier",
            ),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_token_rotates_and_the_old_one_is_rejected() {
    let emu = start().await;
    let tokens = login_and_exchange(&emu, &browser(), "openid offline_access").await;
    let old = tokens["refresh_token"].as_str().unwrap();
    // When the refresh token is used
    let resp = token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", old),
            ("client_id", "native-app"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let new: Value = resp.json().await.unwrap();
    let rotated = new["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, old);
    assert!(new["id_token"].is_string());
    // Then the old one is rejected and the new one works
    let resp = token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", old),
            ("client_id", "native-app"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let resp = token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rotated),
            ("client_id", "native-app"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // And a wider scope than granted is refused
    let latest: Value = resp.json().await.unwrap();
    let resp = token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", latest["refresh_token"].as_str().unwrap()),
            ("client_id", "native-app"),
            ("scope", "openid offline_access email"),
        ],
    )
    .await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_the_refresh_token_ends_it_and_its_access_token() {
    let emu = start().await;
    let tokens = login_and_exchange(&emu, &browser(), "openid profile offline_access").await;
    let (access, refresh) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );
    let resp = Client::new()
        .post(format!("{}/oauth/v2/revoke", emu.issuer()))
        .form(&[("token", refresh), ("client_id", "native-app")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = token(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "native-app"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let info = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    // Unknown tokens are answered with 200 (RFC 7009)
    let resp = Client::new()
        .post(format!("{}/oauth/v2/revoke", emu.issuer()))
        .form(&[("token", "nope"), ("client_id", "native-app")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn userinfo_returns_claims_for_the_granted_scopes() {
    let emu = start().await;
    let tokens = login_and_exchange(&emu, &browser(), "openid profile email urn:zitadel:iam:org:projects:roles urn:zitadel:iam:user:resourceowner").await;
    let info: Value = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = &emu.seed_info().users[0];
    assert_eq!(info["sub"], admin.user_id);
    assert_eq!(info["preferred_username"], admin.login_name);
    assert_eq!(info["given_name"], "Ada");
    assert_eq!(info["email_verified"], true);
    assert_eq!(
        info["urn:zitadel:iam:user:resourceowner:id"],
        emu.seed_info().org_id
    );
    assert_eq!(
        info["urn:zitadel:iam:org:project:roles"]["admin"][&emu.seed_info().org_id],
        "acme.localhost"
    );
    // A bad token gets 401
    let resp = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn introspection_needs_a_confidential_client() {
    let emu = start().await;
    let tokens = login_and_exchange(&emu, &browser(), "openid").await;
    let access = tokens["access_token"].as_str().unwrap();
    let url = format!("{}/oauth/v2/introspect", emu.issuer());
    let resp = Client::new()
        .post(&url)
        .basic_auth("api-app", Some("api-app-secret"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], "native-app");
    let resp = Client::new()
        .post(&url)
        .form(&[("token", access), ("client_id", "native-app")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let resp = Client::new()
        .post(&url)
        .basic_auth("api-app", Some("wrong"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_publishes_both_keys_and_signs_with_the_new_one() {
    let emu = start().await;
    let before = get_json(&format!("{}/oauth/v2/keys", emu.issuer())).await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);
    assert_eq!(before["keys"][0]["alg"], "RS256");
    let kid = emu.rotate_signing_key().await.unwrap();
    let after = get_json(&format!("{}/oauth/v2/keys", emu.issuer())).await;
    assert_eq!(after["keys"].as_array().unwrap().len(), 2);
    let tokens = login_and_exchange(&emu, &browser(), "openid").await;
    let header = jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
    verify_id_token(&emu, tokens["id_token"].as_str().unwrap()).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prompt_none_uses_the_browser_session_or_fails_with_login_required() {
    let emu = start().await;
    let client = browser();
    let (_, challenge) = pkce();
    // Without a session
    let resp = client
        .get(authorize_url(
            &emu,
            &challenge,
            "openid",
            &[("prompt", "none")],
        ))
        .send()
        .await
        .unwrap();
    let loc = location(&emu, &resp);
    assert_eq!(query(&loc, "error").as_deref(), Some("login_required"));
    assert_eq!(query(&loc, "state").as_deref(), Some("st-123"));
    // After a login, silently
    login_and_exchange(&emu, &client, "openid").await;
    let resp = client
        .get(authorize_url(
            &emu,
            &challenge,
            "openid",
            &[("prompt", "none")],
        ))
        .send()
        .await
        .unwrap();
    let loc = location(&emu, &resp);
    assert!(query(&loc, "code").is_some(), "{loc}");
    // And max_age=0 forces a new login
    let (resp, url) = follow(
        &emu,
        &client,
        authorize_url(&emu, &challenge, "openid", &[("max_age", "0")]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(url.path().ends_with("/loginname"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn end_session_with_id_token_hint_ends_the_session() {
    let emu = start().await;
    let client = browser();
    let tokens = login_and_exchange(&emu, &client, "openid").await;
    let mut url = url::Url::parse(&format!("{}/oidc/v1/end_session", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", "http://localhost:4711/logout")
        .append_pair("state", "bye");
    let resp = client.get(url).send().await.unwrap();
    let loc = location(&emu, &resp);
    assert_eq!(loc.as_str(), "http://localhost:4711/logout?state=bye");
    let info = Client::new()
        .get(format!("{}/oidc/v1/userinfo", emu.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    // An unregistered post-logout URI is refused
    let mut url = url::Url::parse(&format!("{}/oidc/v1/end_session", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "native-app")
        .append_pair("post_logout_redirect_uri", "https://evil.example/");
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn authorize_validates_client_redirect_pkce_and_org_scopes() {
    let emu = start().await;
    let client = browser();
    let (_, challenge) = pkce();
    // Unknown redirect URI: no redirect, an error page
    let mut url = authorize_url(&emu, &challenge, "openid", &[]);
    let bad: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == "redirect_uri" {
                (k.into_owned(), "http://example.com/callback".to_owned())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(bad);
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Loopback on another port and the custom scheme are accepted
    for redirect in [
        "http://localhost:9999/callback",
        "com.example.app:/callback",
    ] {
        let mut url = url::Url::parse(&format!("{}/oauth/v2/authorize", emu.issuer())).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", "native-app")
            .append_pair("redirect_uri", redirect)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let resp = client.get(url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND);
        assert!(
            location(&emu, &resp)
                .as_str()
                .contains("/ui/v2/login/login?authRequest=V2_")
        );
    }
    // Missing PKCE for a native app: error redirect with state
    let mut url = url::Url::parse(&format!("{}/oauth/v2/authorize", emu.issuer())).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", "native-app")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", "s1");
    let loc = location(&emu, &client.get(url).send().await.unwrap());
    assert_eq!(query(&loc, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(&loc, "state").as_deref(), Some("s1"));
    // Unknown org domain scope
    let resp = client
        .get(authorize_url(
            &emu,
            &challenge,
            "openid urn:zitadel:iam:org:domain:primary:nope.example",
            &[],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query(&location(&emu, &resp), "error").as_deref(),
        Some("invalid_scope")
    );
    // Missing openid
    let resp = client
        .get(authorize_url(&emu, &challenge, "profile", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query(&location(&emu, &resp), "error").as_deref(),
        Some("invalid_scope")
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn org_scope_restricts_the_login_to_that_org() {
    let emu = start().await;
    let client = browser();
    let (verifier, challenge) = pkce();
    let scope = format!("openid urn:zitadel:iam:org:id:{}", emu.seed_info().org_id);
    let admin = emu.seed_info().users[0].clone();
    let callback = login_with_password(
        &emu,
        &client,
        authorize_url(&emu, &challenge, &scope, &[]),
        &admin.login_name,
        &admin.password,
    )
    .await;
    let tokens = exchange(&emu, &query(&callback, "code").unwrap(), &verifier).await;
    assert!(tokens["access_token"].is_string());
    emu.shutdown().await;
}
