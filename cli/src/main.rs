//! `zid`: the ZITADEL self-service command line client, a desktop client
//! built on `zitadel-sdk-core`.

mod browser;
mod cmd;
mod output;
mod prompt;
mod store;

use clap::Parser;
use cmd::Command;
use output::Out;
use zitadel_sdk::{CancellationToken, Client, Error, ErrorCode};

/// zid — sign in to ZITADEL and manage your account from the terminal.
///
/// Exit status: 0 on success, else the error's stable numeric code:
/// 1 internal, 2 retry later, 3 invalid input, 4 not signed in, 5 session
/// expired, 6 cancelled, 7 misconfigured, 8 server rejected, 9 invalid
/// server response, 10 storage, 11 expired, 12 access denied, 13 permission
/// denied, 14 not found, 15 already exists, 16 user locked, 17 wrong code,
/// 18 code expired, 19 password policy, 20 invalid credentials, 21 failed
/// precondition (a command line the parser refuses exits with 2, as with
/// every clap program). With --json, errors are printed on stdout as
/// {"error":{"code":N,"name":"...","message":"..."}}.
#[derive(Parser, Debug)]
#[command(name = "zid", version, about, long_about, propagate_version = true)]
pub(crate) struct Cli {
    /// The issuer URL, e.g. https://my-instance.zitadel.cloud
    #[arg(long, env = "ZID_ISSUER", global = true)]
    pub(crate) issuer: Option<String>,
    /// The client id of the native app.
    #[arg(long = "client-id", env = "ZID_CLIENT_ID", global = true)]
    pub(crate) client_id: Option<String>,
    /// Token store: `keyring`, `file:PATH` or `memory` (default: keyring,
    /// else a file in the config directory).
    #[arg(long, env = "ZID_STORE", global = true)]
    pub(crate) store: Option<String>,
    /// The account name sessions are stored under.
    #[arg(long, env = "ZID_ACCOUNT", global = true, default_value = "default")]
    pub(crate) account: String,
    /// A scope to request (repeatable; replaces the default scopes).
    #[arg(
        long = "scope",
        env = "ZID_SCOPE",
        global = true,
        value_delimiter = ' '
    )]
    pub(crate) scopes: Vec<String>,
    /// Restrict login to the organization with this primary domain.
    #[arg(long = "org-domain", env = "ZID_ORG_DOMAIN", global = true)]
    pub(crate) org_domain: Option<String>,
    /// Preferred language (repeatable), e.g. --locale de --locale en.
    #[arg(
        long = "locale",
        env = "ZID_LOCALE",
        global = true,
        value_delimiter = ','
    )]
    pub(crate) locales: Vec<String>,
    /// The loopback redirect URI template (the port is chosen per login).
    #[arg(
        long = "redirect-uri",
        env = "ZID_REDIRECT_URI",
        global = true,
        default_value = "http://127.0.0.1/callback"
    )]
    pub(crate) redirect_uri: String,
    /// A login-client token (a service user with IAM_LOGIN_CLIENT) for the
    /// browserless commands (`register --native`, `login --native`,
    /// `password reset`). For trusted hosts only: never ship one to users.
    #[arg(
        long = "login-client-token",
        env = "ZID_LOGIN_CLIENT_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub(crate) login_client_token: Option<String>,
    /// Machine-readable JSON on stdout (errors too).
    #[arg(long, env = "ZID_JSON", global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

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
    let result = rt.block_on(cmd::run(&cli, &out));
    if let Err(e) = result {
        out.fail(&e);
        std::process::exit(i32::from(e.code().as_u16()));
    }
}

/// The SDK client for the global options.
pub(crate) fn build_client(cli: &Cli, out: &Out) -> Result<Client, Error> {
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
    if let Some(t) = cli.login_client_token.as_deref().filter(|t| !t.is_empty()) {
        b = b.login_client_token(t);
    }
    b.build()
}

pub(crate) fn missing(what: &str) -> Error {
    Error::host(ErrorCode::Misconfigured, format!("{what} is required"))
}

/// Cancels `token` on Ctrl-C.
pub(crate) fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            t.cancel();
        }
    });
    token
}
