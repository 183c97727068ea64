//! A scripted user for demos and tests of the SDK against the emulator,
//! without a browser: the codes an authenticator app shows, and a sign-in
//! at the built-in test IdP (its form filled over HTTP, every redirect
//! followed, ending at the client's success or failure URL).

/// The TOTP code an authenticator app shows now for `secret` (base32, as
/// RegisterTOTP returns it), or `None` for a malformed secret.
pub fn totp_code(secret: &str) -> Option<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    crate::totp::code(secret, i64::try_from(now).ok()?)
}

/// The external user typed into the test IdP's form.
#[derive(Debug, Clone)]
pub struct TestIdpUser {
    /// The user's id at the IdP (`sub`).
    pub subject: String,
    /// The user name.
    pub username: String,
    /// The email address.
    pub email: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
}

/// Opens `auth_url` (an intent's or the hosted login's link to the test
/// IdP), submits `user` on its form and follows every redirect, so the
/// final request reaches the intent's success URL (a loopback receiver of
/// the SDK). Only loopback URLs are followed.
///
/// # Errors
/// A human-readable reason when a page is missing or not the test IdP's.
pub async fn test_idp_sign_in(auth_url: &str, user: &TestIdpUser) -> Result<(), String> {
    let loopback_only = reqwest::redirect::Policy::custom(|attempt| {
        let ok = attempt.url().host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if ok && attempt.previous().len() < 10 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    // Plain HTTP on loopback only; the provider is there for reqwest's builder.
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(loopback_only)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let page = http
        .get(auth_url)
        .send()
        .await
        .map_err(|e| format!("the test IdP page: {e}"))?;
    let page_url = page.url().clone();
    let html = page
        .text()
        .await
        .map_err(|e| format!("the test IdP page: {e}"))?;
    let state = html
        .split("name=\"state\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("the page is not the test IdP's sign-in form")?;
    let action = page_url
        .join("/_emulator/test-idp/authorize")
        .map_err(|e| format!("the form action: {e}"))?;
    let resp = http
        .post(action)
        .form(&[
            ("state", state),
            ("sub", &user.subject),
            ("username", &user.username),
            ("email", &user.email),
            ("givenName", &user.given_name),
            ("familyName", &user.family_name),
            ("action", "login"),
        ])
        .send()
        .await
        .map_err(|e| format!("submitting the test IdP form: {e}"))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "the test IdP sign-in ended with HTTP {}",
            resp.status()
        ))
    }
}
