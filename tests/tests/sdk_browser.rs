//! sdk-core's browser flows against the emulator in headless Chromium:
//! registration through the hosted form (`prompt=create`, org pre-selected)
//! ending signed in through the SDK's loopback receiver, and linking an
//! account at the test IdP from the signed-in user's session.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod pages;

use pages::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use zitadel_emulator::{Emulator, EmulatorConfig};
use zitadel_sdk::store::MemoryStore;
use zitadel_sdk::{BrowserLauncher, CancellationToken, Client, Url};

/// Hands each URL the SDK opens to the test, which drives Chromium there.
struct ToChromium(mpsc::UnboundedSender<Url>);

#[zitadel_sdk::async_trait]

impl BrowserLauncher for ToChromium {
    async fn open(&self, url: &Url, _redirect_uri: &Url) -> zitadel_sdk::Result<Option<Url>> {
        let _ = self.0.send(url.clone());
        Ok(None)
    }
}

fn sdk_client(emu: &zitadel_emulator::RunningEmulator) -> Client {
    let info = emu.seed_info();
    Client::builder(emu.issuer(), &info.client_id)
        .redirect_uri("http://127.0.0.1/callback")
        .organization_domain(&info.org_domain)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_registration_fills_the_hosted_form_and_ends_signed_in() {
    // Given the SDK registering in the browser of the org pre-selected by domain
    let (emu, browser) = start().await;
    let client = sdk_client(&emu);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let launcher = ToChromium(tx);
    let reg = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .registration()
                .in_browser(
                    &launcher,
                    Duration::from_secs(60),
                    &CancellationToken::new(),
                )
                .await
        })
    };
    let url = rx.recv().await.unwrap();
    assert!(url.query().unwrap().contains("prompt=create"));

    // When the user fills the registration form and the email code
    let c = browser.client();
    c.goto(url.as_str()).await.unwrap();
    wait_for_page(c, "/ui/v2/login/register", r#"input[name="givenName"]"#).await;
    fill(c, "givenName", "Bea").await;
    fill(c, "familyName", "Browser").await;
    fill(c, "email", "bea@example.com").await;
    fill(c, "password", "Sup3r-secret").await;
    fill(c, "passwordConfirm", "Sup3r-secret").await;
    click(c, r#"input[name="acceptTerms"]"#).await;
    submit_form_with(c, r#"input[name="givenName"]"#).await;
    wait_for_page(c, "/ui/v2/login/verify", r#"input[name="code"]"#).await;
    let code = outbox_code(&emu, "bea@example.com", &[]).await;
    fill(c, "code", &code).await;
    submit_form_with(c, r#"input[name="code"]"#).await;

    // Then the SDK's loopback receiver gets the callback and the user is signed in
    let session = reg.await.unwrap().unwrap();
    let info = client.userinfo().await.unwrap();
    assert_eq!(info.sub, session.subject);
    assert_eq!(info.email.as_deref(), Some("bea@example.com"));
    assert_eq!(info.email_verified, Some(true));
    browser.close().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_user_links_a_test_idp_account_in_the_browser() {
    // Given alice signed in through the browser
    let (emu, browser) = start().await;
    let client = sdk_client(&emu);
    let alice = alice(&emu);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let launcher = Arc::new(ToChromium(tx));
    let login = {
        let (client, launcher) = (client.clone(), launcher.clone());
        tokio::spawn(async move {
            client
                .login_with_loopback(
                    launcher.as_ref(),
                    &Default::default(),
                    Duration::from_secs(60),
                    &CancellationToken::new(),
                )
                .await
        })
    };
    let c = browser.client();
    c.goto(rx.recv().await.unwrap().as_str()).await.unwrap();
    enter_login_and_password(c, &alice.login_name, &alice.password).await;
    login.await.unwrap().unwrap();

    // When she links an account at the test IdP (its page in Chromium)
    let idp = test_idp(&emu).await;
    let add = {
        let (client, launcher, idp) = (client.clone(), launcher.clone(), idp.clone());
        tokio::spawn(async move {
            client
                .links()
                .add(
                    &idp,
                    launcher.as_ref(),
                    Duration::from_secs(60),
                    &CancellationToken::new(),
                )
                .await
        })
    };
    c.goto(rx.recv().await.unwrap().as_str()).await.unwrap();
    wait_for_page(c, "/_emulator/test-idp/authorize", r#"input[name="sub"]"#).await;
    fill(c, "sub", "alice-at-idp").await;
    click(c, r#"button[value="login"]"#).await;

    // Then the link is added and listed
    let link = add.await.unwrap().unwrap();
    assert_eq!(link.linked_user_id, "alice-at-idp");
    let links = client.links().list().await.unwrap();
    assert!(
        links
            .items
            .iter()
            .any(|l| l.idp_id == idp && l.linked_user_id == "alice-at-idp")
    );
    browser.close().await;
    emu.shutdown().await;
}

async fn test_idp(emu: &zitadel_emulator::RunningEmulator) -> String {
    let login_client = Client::builder(emu.issuer(), &emu.seed_info().client_id)
        .login_client_token(&emu.seed_info().login_client_token)
        .build()
        .unwrap();
    let idps = login_client
        .settings()
        .identity_providers(None)
        .await
        .unwrap();
    idps.into_iter().find(|i| i.name == "Test IdP").unwrap().id
}

/// A launcher that returns the callback itself, as an
/// `ASWebAuthenticationSession` does; here the "browser" is a custom login
/// UI on the emulator: it follows the authorization URL to its auth request,
/// signs the user in through the Session API and links the session
/// (CreateCallback), which yields the custom-scheme callback URL.
struct LoginUi {
    issuer: String,
    login_client_token: String,
    login: String,
    password: String,
}

#[zitadel_sdk::async_trait]
impl BrowserLauncher for LoginUi {
    async fn open(&self, url: &Url, _redirect_uri: &Url) -> zitadel_sdk::Result<Option<Url>> {
        // http_client follows no redirects: the authorize answer is a 302.
        let http = integration_tests::http_client();
        let resp = http.get(url.as_str()).send().await.unwrap();
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let login_page = url.join(&location).unwrap();
        let auth_request = login_page
            .query_pairs()
            .find(|(k, _)| k == "authRequest")
            .unwrap()
            .1
            .into_owned();
        let session: serde_json::Value = http
            .post(format!("{}/v2/sessions", self.issuer))
            .bearer_auth(&self.login_client_token)
            .json(
                &serde_json::json!({"checks": {"user": {"loginName": self.login},
                                                 "password": {"password": self.password}}}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let callback: serde_json::Value = http
            .post(format!(
                "{}/v2/oidc/auth_requests/{auth_request}",
                self.issuer
            ))
            .bearer_auth(&self.login_client_token)
            .json(
                &serde_json::json!({"session": {"sessionId": session["sessionId"],
                                                  "sessionToken": session["sessionToken"]}}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Ok(Some(
            Url::parse(callback["callbackUrl"].as_str().unwrap()).unwrap(),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launcher_returning_the_custom_scheme_callback_completes_the_login() {
    // Given a custom-scheme redirect and a launcher that returns the callback
    let emu = Emulator::start(EmulatorConfig::ephemeral()).await.unwrap();
    let info = emu.seed_info();
    let alice = alice(&emu);
    let client = Client::builder(emu.issuer(), &info.client_id)
        .redirect_uri("com.example.app:/callback")
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    let launcher = LoginUi {
        issuer: emu.issuer().to_owned(),
        login_client_token: info.login_client_token.clone(),
        login: alice.login_name.clone(),
        password: alice.password.clone(),
    };
    // When the app logs in with it
    let session = client
        .login(
            &launcher,
            &Default::default(),
            Duration::from_secs(60),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    // Then the callback it returned completed the login (state, PKCE, ID token)
    assert!(session.has_refresh_token);
    assert_eq!(client.userinfo().await.unwrap().sub, session.subject);
    emu.shutdown().await;
}
