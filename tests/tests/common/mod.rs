//! What the SDK end-to-end tests share: an embedded emulator whose request
//! log is checked against ZITADEL's protos at shutdown, a client for it, and
//! a natively registered, signed-in user.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use zitadel_emulator::{Emulator, EmulatorConfig, RunningEmulator, contract};
use zitadel_sdk::Client;
use zitadel_sdk::flows::registration::NewUser;
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::store::MemoryStore;

pub const PASSWORD: &str = "Sup3r-Secret!";

/// An emulator whose request log is checked against ZITADEL's protos when
/// it shuts down: every request the SDK made must match the contract.
pub struct Emu {
    inner: Option<RunningEmulator>,
    dir: tempfile::TempDir,
}

impl std::ops::Deref for Emu {
    type Target = RunningEmulator;
    fn deref(&self) -> &RunningEmulator {
        self.inner.as_ref().unwrap()
    }
}

impl Emu {
    pub async fn shutdown(mut self) {
        self.inner.take().unwrap().shutdown().await;
        let log = self.dir.path().join("requests.jsonl");
        let violations = contract::check_request_log(&log, &contract::default_proto_dir()).unwrap();
        assert!(violations.is_empty(), "{}", contract::report(&violations));
    }
}

pub async fn start() -> Emu {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        request_log: Some(dir.path().join("requests.jsonl")),
        ..EmulatorConfig::ephemeral()
    };
    Emu {
        inner: Some(Emulator::start(config).await.unwrap()),
        dir,
    }
}

pub fn client(emu: &RunningEmulator) -> Client {
    let info = emu.seed_info();
    Client::builder(emu.issuer(), &info.client_id)
        .redirect_uri("http://127.0.0.1/callback")
        .organization_id(&info.org_id)
        .login_client_token(&info.login_client_token)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap()
}

/// The newest code the outbox holds for `to`.
pub fn last_code(emu: &RunningEmulator, to: &str) -> String {
    emu.outbox()
        .into_iter()
        .rev()
        .find(|m| m.to == to)
        .and_then(|m| m.code)
        .unwrap_or_else(|| panic!("no code for {to} in the outbox"))
}

pub fn new_user(email: &str) -> NewUser {
    NewUser {
        given_name: "Grace".into(),
        family_name: "Hopper".into(),
        email: email.into(),
        username: None,
        preferred_language: Some("en".into()),
        password: PASSWORD.into(),
        accepted_terms: true,
    }
}

/// Registers and signs in a new user through the native flow.
pub async fn registered(emu: &RunningEmulator, email: &str) -> Client {
    let c = client(emu);
    let mut pending = c
        .registration()
        .register(&new_user(email), &CodeDelivery::Return)
        .await
        .unwrap();
    let code = pending.returned_email_code().unwrap().expose().to_owned();
    pending.verify_email(&code).await.unwrap();
    pending.finish().await.unwrap();
    c
}

/// A client signed in through the native login (user name and password).
pub async fn signed_in_as(emu: &RunningEmulator, login_name: &str, password: &str) -> Client {
    let c = client(emu);
    c.native_login()
        .password(login_name, password)
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();
    c
}

/// The IdPs of `GET /v2/settings/login/idps` (of the org `org`, when
/// given), as the login client reads them.
pub async fn login_idps(emu: &RunningEmulator, org: Option<&str>) -> Vec<String> {
    let query: Vec<(&str, &str)> = org.map(|o| ("ctx.orgId", o)).into_iter().collect();
    let v: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v2/settings/login/idps", emu.issuer()))
        .query(&query)
        .bearer_auth(&emu.seed_info().login_client_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["identityProviders"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
