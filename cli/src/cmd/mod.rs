//! The command groups of `zid`, one module each.

mod account;
mod demo;
mod manager;
mod register;
mod secrets;
mod session;

use crate::Cli;
use crate::output::Out;
use clap::Subcommand;
use zitadel_sdk::Error;

/// The commands of `zid`.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign in: in the system browser (loopback redirect), with --device, or
    /// with --native (Session API; needs a login-client token).
    Login(session::LoginArgs),
    /// Create an account: the hosted registration in the browser, or with
    /// --native (needs a login-client token).
    Register(register::RegisterArgs),
    /// Show the signed-in user (no network request).
    Whoami,
    /// Print a valid access token, refreshing it if needed.
    Token,
    /// Refresh the tokens now.
    Refresh,
    /// Fetch the userinfo of the signed-in user.
    Userinfo,
    /// Sign out: revoke the tokens and wipe the stored session.
    Logout(session::LogoutArgs),
    /// Your profile: show, update.
    #[command(subcommand)]
    Profile(account::ProfileCmd),
    /// Your email address: set, verify, resend the code.
    #[command(subcommand)]
    Email(account::EmailCmd),
    /// Your phone number: set, verify, resend the code, remove.
    #[command(subcommand)]
    Phone(account::PhoneCmd),
    /// Your metadata: list, set, remove.
    #[command(subcommand)]
    Metadata(account::MetadataCmd),
    /// Links to external identity providers: list, add, remove.
    #[command(subcommand)]
    Links(account::LinksCmd),
    /// Your sessions: list, end one or all (logout everywhere).
    #[command(subcommand)]
    Sessions(account::SessionsCmd),
    /// Your password: change, reset.
    #[command(subcommand)]
    Password(secrets::PasswordCmd),
    /// Second factors: list, TOTP, OTP by SMS and email.
    #[command(subcommand)]
    Mfa(secrets::MfaCmd),
    /// Passkeys (passwordless): add, list, remove. zid's authenticator is a
    /// software one whose keys live in zid's token store, per account.
    #[command(subcommand)]
    Passkey(secrets::PasskeyCmd),
    /// Recovery codes: generate (replacing earlier ones), remove.
    #[command(name = "recovery-codes", subcommand)]
    RecoveryCodes(secrets::RecoveryCmd),
    /// Organization administration (manager roles or a service user):
    /// users, grants, members, idps, policy.
    Manager(manager::ManagerArgs),
    /// A walkthrough of every self-service flow against an embedded emulator
    /// (or --issuer with --login-client-token).
    Demo(demo::DemoArgs),
}

/// Runs the command.
///
/// # Errors
/// The command's error; its code becomes the exit status.
pub async fn run(cli: &Cli, out: &Out) -> Result<(), Error> {
    if let Command::Demo(args) = &cli.command {
        return demo::run(cli, args, out).await;
    }
    let client = crate::build_client(cli, out)?;
    match &cli.command {
        Command::Login(a) => session::login(&client, a, out).await,
        Command::Register(a) => register::run(&client, a, out).await,
        Command::Whoami => session::whoami(&client, out).await,
        Command::Token => session::token(&client, out).await,
        Command::Refresh => session::refresh(&client, out).await,
        Command::Userinfo => session::userinfo(&client, out).await,
        Command::Logout(a) => session::logout(&client, a, out).await,
        Command::Profile(c) => account::profile(&client, c, out).await,
        Command::Email(c) => account::email(&client, c, out).await,
        Command::Phone(c) => account::phone(&client, c, out).await,
        Command::Metadata(c) => account::metadata(&client, c, out).await,
        Command::Links(c) => account::links(&client, c, out).await,
        Command::Sessions(c) => account::sessions(&client, c, out).await,
        Command::Password(c) => secrets::password(&client, c, out).await,
        Command::Mfa(c) => secrets::mfa(&client, c, out).await,
        Command::RecoveryCodes(c) => secrets::recovery(&client, c, out).await,
        Command::Passkey(c) => secrets::passkey(&client, c, out).await,
        Command::Manager(a) => manager::run(&client, a, out).await,
        Command::Demo(_) => Ok(()),
    }
}
