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
use zitadel_sdk::store::MemoryStore;
use zitadel_sdk::{BrowserLauncher, CancellationToken, Client, Url};

/// Hands each URL the SDK opens to the test, which drives Chromium there.
struct ToChromium(mpsc::UnboundedSender<Url>);

impl BrowserLauncher for ToChromium {
    fn open(&self, url: &Url) -> zitadel_sdk::Result<()> {
        let _ = self.0.send(url.clone());
        Ok(())
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
