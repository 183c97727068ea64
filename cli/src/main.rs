//! `zid`: the ZITADEL self-service command line client, a desktop client
//! built on `zitadel-sdk-core`.

mod browser;
mod output;
mod store;

use clap::{Parser, Subcommand};
use output::Out;
use std::time::Duration;
use zitadel_sdk::{CancellationToken, Client, Error, ErrorCode, LoginOptions};

/// zid — sign in to ZITADEL (or any OpenID provider) from the terminal.
#[derive(Parser, Debug)]
#[command(name = "zid", version, about, propagate_version = true)]
struct Cli {
    /// The issuer URL, e.g. https://my-instance.zitadel.cloud
    #[arg(long, env = "ZID_ISSUER", global = true)]
    issuer: Option<String>,
    /// The client id of the native app.
    #[arg(long = "client-id", env = "ZID_CLIENT_ID", global = true)]
    client_id: Option<String>,
    /// Token store: `keyring`, `file:PATH` or `memory` (default: keyring,
    /// else a file in the config directory).
    #[arg(long, env = "ZID_STORE", global = true)]
    store: Option<String>,
    /// The account name sessions are stored under.
    #[arg(long, env = "ZID_ACCOUNT", global = true, default_value = "default")]
    account: String,
    /// A scope to request (repeatable; replaces the default scopes).
    #[arg(
        long = "scope",
        env = "ZID_SCOPE",
        global = true,
        value_delimiter = ' '
    )]
    scopes: Vec<String>,
    /// Restrict login to the organization with this primary domain.
    #[arg(long = "org-domain", env = "ZID_ORG_DOMAIN", global = true)]
    org_domain: Option<String>,
    /// Preferred language (repeatable), e.g. --locale de --locale en.
    #[arg(
        long = "locale",
        env = "ZID_LOCALE",
        global = true,
        value_delimiter = ','
    )]
    locales: Vec<String>,
    /// The loopback redirect URI template (the port is chosen per login).
    #[arg(
        long = "redirect-uri",
        env = "ZID_REDIRECT_URI",
        global = true,
        default_value = "http://127.0.0.1/callback"
    )]
    redirect_uri: String,
    /// Machine-readable JSON on stdout (errors too).
    #[arg(long, env = "ZID_JSON", global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sign in: in the system browser (loopback redirect), or with --device.
    Login {
        /// Use the device authorization grant (prints a code and a QR code).
        #[arg(long)]
        device: bool,
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
    },
    /// Show the signed-in user (no network request).
    Whoami,
    /// Print a valid access token, refreshing it if needed.
    Token,
    /// Refresh the tokens now.
    Refresh,
    /// Fetch the userinfo of the signed-in user.
    Userinfo,
    /// Sign out: revoke the tokens and wipe the stored session.
    Logout {
        /// Also end the browser (SSO) session via the end-session endpoint.
        /// The browser is sent there through a one-time loopback address, so
        /// the URL (which carries the ID token) is on no command line; zid
        /// waits up to two minutes for the browser to come.
        #[arg(long)]
        browser: bool,
        /// Where the browser goes after the end-session page.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uri: Option<String>,
    },
}

/// How long `logout --browser` waits for the browser to open the end-session page.
const END_SESSION_WAIT: Duration = Duration::from_secs(120);

fn main() {
    let cli = Cli::parse();
    let out = Out::new(cli.json);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.fail_msg("internal", 1, &format!("cannot start the runtime: {e}"));
            std::process::exit(1);
        }
    };
    let result = rt.block_on(run(cli, &out));
    if let Err(e) = result {
        out.fail(&e);
        std::process::exit(1);
    }
}

fn build_client(cli: &Cli, out: &Out) -> Result<Client, Error> {
    let issuer = cli
        .issuer
        .as_deref()
        .ok_or_else(|| missing("--issuer (or ZID_ISSUER)"))?;
    let client_id = cli
        .client_id
        .as_deref()
        .ok_or_else(|| missing("--client-id (or ZID_CLIENT_ID)"))?;
    let store = store::open(cli.store.as_deref(), out)?;
    let mut b = Client::builder(issuer, client_id)
        .redirect_uri(cli.redirect_uri.clone())
        .account(cli.account.clone())
        .store(store)
        .ui_locales(cli.locales.iter().filter(|l| !l.is_empty()).cloned());
    let scopes: Vec<&String> = cli.scopes.iter().filter(|s| !s.is_empty()).collect();
    if !scopes.is_empty() {
        b = b.scopes(scopes.into_iter().cloned());
    }
    if let Some(d) = &cli.org_domain {
        b = b.organization_domain(d);
    }
    b.build()
}

fn missing(what: &str) -> Error {
    Error::host(ErrorCode::Misconfigured, format!("{what} is required"))
}

/// Cancels `token` on Ctrl-C.
fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            t.cancel();
        }
    });
    token
}

async fn run(cli: Cli, out: &Out) -> Result<(), Error> {
    let client = build_client(&cli, out)?;
    match &cli.command {
        Command::Login {
            device,
            prompt,
            login_hint,
            max_age,
            timeout,
        } => {
            let cancel = cancel_on_ctrl_c();
            let session = if *device {
                device_login(&client, out, Duration::from_secs(*timeout), &cancel).await?
            } else {
                let opts = LoginOptions {
                    prompt: prompt.clone(),
                    login_hint: login_hint.clone(),
                    max_age: *max_age,
                    extra_scopes: vec![],
                };
                let launcher = browser::SystemBrowser;
                client
                    .login_with_loopback(&launcher, &opts, Duration::from_secs(*timeout), &cancel)
                    .await?
            };
            out.session(&session, "Signed in");
        }
        Command::Whoami => match client.session().await? {
            Some(s) => out.session(&s, "Signed in"),
            None => return Err(Error::host(ErrorCode::NotSignedIn, "not signed in")),
        },
        Command::Token => {
            let token = client.access_token().await?;
            out.token(&token);
        }
        Command::Refresh => {
            let s = client.refresh().await?;
            out.session(&s, "Refreshed");
        }
        Command::Userinfo => {
            let info = client.userinfo().await?;
            out.value(&serde_json::Value::Object(info));
        }
        Command::Logout {
            browser: end_browser,
            post_logout_redirect_uri,
        } => {
            let end_url = if *end_browser {
                match client
                    .end_session_url(post_logout_redirect_uri.as_deref(), None)
                    .await
                {
                    Ok(u) => Some(u),
                    Err(e) if e.code() == zitadel_sdk::ErrorCode::NotSignedIn => None,
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
        }
    }
    Ok(())
}

async fn device_login(
    client: &Client,
    out: &Out,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<zitadel_sdk::SessionInfo, Error> {
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
