//! sdk-core against the embedded zitadel-emulator: ZITADEL-shaped tokens
//! (project audience, `azp`, org scopes) through the hosted login, signed in
//! by the demo's scripted user (`scripts/demo-user.py` fills the forms).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use zitadel_emulator::{Emulator, EmulatorConfig};
use zitadel_sdk::store::MemoryStore;
use zitadel_sdk::{BrowserLauncher, CancellationToken, Client, LoginOptions, Url};

/// A launcher that runs the scripted user on the login URL.
struct ScriptedUser {
    login: String,
    password: String,
}

#[zitadel_sdk::async_trait]

impl BrowserLauncher for ScriptedUser {
    async fn open(&self, url: &Url, _redirect_uri: &Url) -> zitadel_sdk::Result<Option<Url>> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/demo-user.py");
        std::process::Command::new("python3")
            .arg(script)
            .arg(url.as_str())
            .env("DEMO_LOGIN", &self.login)
            .env("DEMO_PASSWORD", &self.password)
            .spawn()
            .map(|_| None)
            .map_err(|_| {
                zitadel_sdk::Error::host(
                    zitadel_sdk::ErrorCode::Internal,
                    "cannot start the scripted user",
                )
            })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refresh_userinfo_and_logout_against_the_emulator() {
    let emu = Emulator::start(EmulatorConfig::ephemeral()).await.unwrap();
    let info = emu.seed_info();
    let user = info.users.iter().find(|u| u.roles.is_empty()).unwrap();
    let client = Client::builder(emu.issuer(), &info.client_id)
        .redirect_uri("http://127.0.0.1/callback")
        .organization_domain(&info.org_domain)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    let browser = ScriptedUser {
        login: user.login_name.clone(),
        password: user.password.clone(),
    };

    let session = client
        .login_with_loopback(
            &browser,
            &LoginOptions::default(),
            Duration::from_secs(30),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    let claims = session.claims.clone().unwrap();
    assert!(claims.aud.contains(&info.client_id));
    assert!(session.has_refresh_token);

    let userinfo = client.userinfo().await.unwrap();
    assert_eq!(userinfo.sub, session.subject);
    assert_eq!(
        userinfo.preferred_username.as_deref(),
        Some(user.login_name.as_str())
    );

    let refreshed = client.refresh().await.unwrap();
    assert_eq!(refreshed.subject, session.subject);
    assert!(client.logout().await.unwrap().revoked);
    emu.shutdown().await;
}
