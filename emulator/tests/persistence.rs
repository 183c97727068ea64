//! `--data`: state survives a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use zitadel_emulator::EmulatorConfig;

#[tokio::test(flavor = "multi_thread")]
async fn restart_with_data_keeps_users_keys_sessions_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EmulatorConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..EmulatorConfig::ephemeral()
    };
    // Given a first run with a login and a rotated key
    let first = start_with(config()).await;
    let info = first.seed_info().clone();
    let kid = first.rotate_signing_key().await.unwrap();
    let tokens = login_and_exchange(
        &first,
        &browser(),
        &format!("openid offline_access {ZITADEL_AUD}"),
    )
    .await;
    let jwks_before: Value = Client::new()
        .get(format!("{}/oauth/v2/keys", first.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    first.shutdown().await;
    // When the emulator starts again on the same data directory (another port)
    let second = start_with(config()).await;
    // Then the seed info, keys, tokens and users are the same
    assert_eq!(second.seed_info().org_id, info.org_id);
    assert_eq!(
        second.seed_info().login_client_token,
        info.login_client_token
    );
    assert_eq!(second.seed_info().users[0].user_id, info.users[0].user_id);
    let jwks_after: Value = Client::new()
        .get(format!("{}/oauth/v2/keys", second.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks_before, jwks_after);
    assert!(
        jwks_after["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid)
    );
    let me = Client::new()
        .get(format!("{}/auth/v1/users/me", second.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let resp = token(
        &second,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", "native-app"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // And a user can still log in
    let again = login_and_exchange(&second, &browser(), "openid").await;
    assert!(again["id_token"].is_string());
    second.shutdown().await;
}
