//! Sign-in and the session: login (browser, device, native), whoami, token,
//! refresh, userinfo, logout.

use crate::browser;
use crate::output::{self, Out};
use crate::prompt;
use clap::Args;
use std::time::Duration;
use zitadel_sdk::flows::mfa::AuthMethod;
use zitadel_sdk::flows::native_login::{NativeLogin, SignedIn};
use zitadel_sdk::software_authenticator::SoftwareAuthenticator;
use zitadel_sdk::{CancellationToken, Client, Error, ErrorCode, LoginOptions, SessionInfo};

/// How long `logout --browser` waits for the browser to open the end-session page.
const END_SESSION_WAIT: Duration = Duration::from_secs(120);

/// `zid login`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Use the device authorization grant (prints a code and a QR code).
    #[arg(long, conflicts_with = "native")]
    device: bool,
    /// Sign in without a browser through the Session API (needs --login-client-token).
    #[arg(long)]
    native: bool,
    /// Native: sign in with a passkey instead of a password (zid's software authenticator).
    #[arg(long, requires = "native")]
    passkey: bool,
    /// The login name (native; asked for when omitted).
    #[arg(long = "login-name")]
    login_name: Option<String>,
    /// The password (native; asked for without echo when omitted).
    #[arg(long, env = "ZID_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// A TOTP code for the second factor (native; asked for when needed).
    #[arg(long = "totp")]
    totp: Option<String>,
    /// A recovery code instead of the second factor (native).
    #[arg(long = "recovery-code")]
    recovery_code: Option<String>,
    /// `prompt` to send: login, select_account, create, none.
    #[arg(long)]
    prompt: Option<String>,
    /// Login name to pre-fill.
    #[arg(long = "login-hint")]
    login_hint: Option<String>,
    /// Require an authentication no older than this many seconds.
    #[arg(long = "max-age")]
    max_age: Option<u64>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// `zid logout`.
#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Also end the browser (SSO) session via the end-session endpoint.
    /// The browser is sent there through a one-time loopback address, so
    /// the URL (which carries the ID token) is on no command line; zid
    /// waits up to two minutes for the browser to come.
    #[arg(long)]
    browser: bool,
    /// Where the browser goes after the end-session page.
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uri: Option<String>,
}

pub async fn login(client: &Client, a: &LoginArgs, out: &Out) -> Result<(), Error> {
    let cancel = crate::cancel_on_ctrl_c();
    if a.native {
        let login_name = prompt::line(a.login_name.as_deref(), "Login name", "--login-name")?;
        let authenticator = SoftwareAuthenticator::for_client(client);
        if a.passkey {
            let signed_in = client
                .native_login()
                .passkey(&login_name, &authenticator)
                .await?;
            signed_in_out(&signed_in, out);
            return Ok(());
        }
        let password = prompt::secret(a.password.as_deref(), "Password", "--password")?;
        let login = client
            .native_login()
            .password(&login_name, &password)
            .await?;
        let codes = (a.totp.as_deref(), a.recovery_code.as_deref());
        let signed_in = second_factor(login, codes, &authenticator, out).await?;
        signed_in_out(&signed_in, out);
        return Ok(());
    }
    let session = if a.device {
        device_login(client, out, Duration::from_secs(a.timeout), &cancel).await?
    } else {
        let opts = LoginOptions {
            prompt: a.prompt.clone(),
            login_hint: a.login_hint.clone(),
            max_age: a.max_age,
            extra_scopes: vec![],
        };
        client
            .login_with_loopback(
                &browser::SystemBrowser,
                &opts,
                Duration::from_secs(a.timeout),
                &cancel,
            )
            .await?
    };
    out.session(&session, "Signed in");
    Ok(())
}

/// Checks the second factor of a native login when the user has one, then finishes it.
pub async fn second_factor(
    mut login: NativeLogin,
    (totp, recovery): (Option<&str>, Option<&str>),
    security_key: &SoftwareAuthenticator,
    out: &Out,
) -> Result<SignedIn, Error> {
    if login.needs_second_factor() {
        let factors = login.second_factors();
        if let Some(code) = recovery {
            login.check_recovery_code(code).await?;
        } else if factors.contains(&AuthMethod::U2f)
            && totp.is_none()
            && security_key.credential_count().await.unwrap_or(0) > 0
        {
            login.check_u2f(security_key).await?;
        } else if factors.contains(&AuthMethod::Totp) {
            let code = prompt::line(totp, "TOTP code from your authenticator app", "--totp")?;
            login.check_totp(&code).await?;
        } else if factors.contains(&AuthMethod::OtpEmail) {
            login.send_otp_email(false).await?;
            out.info("A code was sent to your email address.");
            let code = prompt::line(None, "Code from the email", "--totp")?;
            login.check_otp_email(&code).await?;
        } else if factors.contains(&AuthMethod::OtpSms) {
            login.send_otp_sms(false).await?;
            out.info("A code was sent to your phone.");
            let code = prompt::line(None, "Code from the SMS", "--totp")?;
            login.check_otp_sms(&code).await?;
        } else {
            return Err(Error::host(
                ErrorCode::InvalidInput,
                "this user's second factor needs a security key or passkey; use `zid login` in the browser",
            ));
        }
    }
    login.finish().await
}

/// Prints a native sign-in, with the MFA set-up notice when the policy asks for it.
pub fn signed_in_out(s: &SignedIn, out: &Out) {
    if out.json {
        out.show(s, "");
        return;
    }
    out.session(&s.session, "Signed in");
    if let Some(allowed) = &s.mfa_setup_required {
        out.warn(&format!(
            "the login policy requires a second factor: set one up now (allowed: {allowed:?}), e.g. `zid mfa totp add`"
        ));
    }
}

pub async fn whoami(client: &Client, out: &Out) -> Result<(), Error> {
    match client.session().await? {
        Some(s) => {
            out.session(&s, "Signed in");
            Ok(())
        }
        None => Err(Error::host(ErrorCode::NotSignedIn, "not signed in")),
    }
}

pub async fn token(client: &Client, out: &Out) -> Result<(), Error> {
    let token = client.access_token().await?;
    out.token(&token);
    Ok(())
}

pub async fn refresh(client: &Client, out: &Out) -> Result<(), Error> {
    let s = client.refresh().await?;
    out.session(&s, "Refreshed");
    Ok(())
}

pub async fn userinfo(client: &Client, out: &Out) -> Result<(), Error> {
    let info = client.userinfo().await?;
    out.value(&serde_json::to_value(&info).unwrap_or_default());
    Ok(())
}

pub async fn logout(client: &Client, a: &LogoutArgs, out: &Out) -> Result<(), Error> {
    let end_url = if a.browser {
        match client
            .end_session_url(a.post_logout_redirect_uri.as_deref(), None)
            .await
        {
            Ok(u) => Some(u),
            Err(e) if e.code() == ErrorCode::NotSignedIn => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let result = client.logout().await?;
    let ended = match &end_url {
        Some(u) => {
            let handoff = browser::open_via_loopback(u, END_SESSION_WAIT).await;
            if handoff == browser::Handoff::TimedOut {
                out.warn("the browser did not open the end-session page in time; the local session is wiped anyway");
            }
            handoff == browser::Handoff::Redirected
        }
        None => false,
    };
    out.logout(result.revoked, ended, result.unreadable_session_removed);
    Ok(())
}

async fn device_login(
    client: &Client,
    out: &Out,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<SessionInfo, Error> {
    let device = client.start_device_login().await?;
    out.device_prompt(&device);
    let login = client.complete_device_login(&device, cancel);
    let expires = Duration::from_secs(device.expires_in).min(timeout);
    let countdown = output::countdown(out, expires);
    tokio::select! {
        r = login => { output::end_countdown(out); r }
        _ = countdown => Err(Error::host(ErrorCode::Expired, "the device code expired before the user finished")),
    }
}
