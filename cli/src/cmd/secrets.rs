//! Secrets: password change and reset, second factors, recovery codes.

use crate::output::Out;
use crate::prompt;
use clap::Subcommand;
use serde_json::json;
use zitadel_sdk::flows::password::ResetDelivery;
use zitadel_sdk::software_authenticator::SoftwareAuthenticator;
use zitadel_sdk::{Client, Error};

/// `zid password`.
#[derive(Subcommand, Debug)]
pub enum PasswordCmd {
    /// Change your password (asked for without echo when omitted).
    Change {
        #[arg(long, env = "ZID_PASSWORD", hide_env_values = true)]
        current: Option<String>,
        #[arg(long, env = "ZID_NEW_PASSWORD", hide_env_values = true)]
        new: Option<String>,
    },
    /// Reset a password with a code: without --code a code is requested
    /// (signed in: for you; with --login-name: through the login client);
    /// with --code (and --user-id from the request) the new password is set.
    Reset {
        /// The login name of a user who cannot sign in (needs --login-client-token).
        #[arg(long = "login-name")]
        login_name: Option<String>,
        /// The user id the code was requested for.
        #[arg(long = "user-id")]
        user_id: Option<String>,
        /// The code from the email.
        #[arg(long)]
        code: Option<String>,
        /// The new password (asked for without echo when omitted).
        #[arg(long, env = "ZID_NEW_PASSWORD", hide_env_values = true)]
        new: Option<String>,
    },
}

/// `zid mfa`.
#[derive(Subcommand, Debug)]
pub enum MfaCmd {
    /// List your authentication methods.
    List,
    /// TOTP (authenticator app).
    #[command(subcommand)]
    Totp(TotpCmd),
    /// One-time passwords by SMS (needs a verified phone).
    #[command(name = "otp-sms", subcommand)]
    OtpSms(AddRemove),
    /// One-time passwords by email (needs a verified email).
    #[command(name = "otp-email", subcommand)]
    OtpEmail(AddRemove),
    /// Security keys (U2F), with zid's software authenticator.
    #[command(subcommand)]
    U2f(KeyCmd),
}

/// `zid mfa u2f` and `zid passkey`.
#[derive(Subcommand, Debug)]
pub enum KeyCmd {
    /// Register one (zid's software authenticator creates the key).
    Add {
        #[arg(long, default_value = "zid")]
        name: String,
    },
    /// List them.
    List,
    /// Remove one by id.
    Remove { id: String },
}

/// `zid passkey`.
pub type PasskeyCmd = KeyCmd;

/// `zid mfa totp`.
#[derive(Subcommand, Debug)]
pub enum TotpCmd {
    /// Register TOTP: shows the otpauth URI, the secret and a QR code, then
    /// asks for a code (with --json it prints {"uri","secret"} and stops;
    /// finish with `zid mfa totp verify --code`).
    Add {
        #[arg(long)]
        code: Option<String>,
    },
    /// Finish the TOTP registration with a code from the app.
    Verify {
        #[arg(long)]
        code: String,
    },
    /// Remove TOTP.
    Remove,
}

/// `add` or `remove`.
#[derive(Subcommand, Debug)]
pub enum AddRemove {
    /// Add it.
    Add,
    /// Remove it.
    Remove,
}

/// `zid recovery-codes`.
#[derive(Subcommand, Debug)]
pub enum RecoveryCmd {
    /// Generate recovery codes (shown once; replaces earlier ones).
    Generate {
        #[arg(long, default_value_t = 10)]
        count: u32,
    },
    /// Remove the recovery codes.
    Remove,
}

pub async fn password(client: &Client, c: &PasswordCmd, out: &Out) -> Result<(), Error> {
    match c {
        PasswordCmd::Change { current, new } => {
            let cur = prompt::secret(current.as_deref(), "Current password", "--current")?;
            let new = prompt::secret(new.as_deref(), "New password", "--new")?;
            client.password().change(&cur, &new).await?;
            out.ok("Password changed.");
        }
        PasswordCmd::Reset {
            login_name,
            user_id,
            code,
            new,
        } => match (code, user_id) {
            (Some(code), Some(user_id)) => {
                let new = prompt::secret(new.as_deref(), "New password", "--new")?;
                client.password().set_with_code(user_id, code, &new).await?;
                out.ok("Password set.");
            }
            (Some(_), None) => {
                return Err(crate::missing("--user-id (from the reset request)"));
            }
            (None, _) => {
                let started = match login_name {
                    Some(n) => {
                        client
                            .password()
                            .request_reset_for(n, &ResetDelivery::Email)
                            .await?
                    }
                    None => {
                        client
                            .password()
                            .request_reset(&ResetDelivery::Email)
                            .await?
                    }
                };
                out.show(
                    &json!({"user_id": started.user_id}),
                    &format!(
                        "A reset code was sent by email. Then: zid password reset --user-id {} --code CODE",
                        started.user_id
                    ),
                );
            }
        },
    }
    Ok(())
}

pub async fn mfa(client: &Client, c: &MfaCmd, out: &Out) -> Result<(), Error> {
    let mfa = client.mfa();
    match c {
        MfaCmd::List => {
            let methods = mfa.methods().await?;
            let human = methods
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join("\n");
            out.show(&json!({"methods": methods}), &human);
        }
        MfaCmd::Totp(TotpCmd::Add { code }) => {
            let e = mfa.add_totp().await?;
            if out.json && code.is_none() {
                out.show(
                    &json!({"uri": e.uri.expose(), "secret": e.secret.expose()}),
                    "",
                );
                return Ok(());
            }
            out.info(&format!(
                "Add this to your authenticator app:\n  {}",
                e.uri.expose()
            ));
            out.info(&format!("Secret (to type in): {}", e.secret.expose()));
            out.qr(e.uri.expose());
            let code = prompt::line(code.as_deref(), "Code from the app", "--code")?;
            mfa.verify_totp(&code).await?;
            out.ok("TOTP is set up.");
        }
        MfaCmd::Totp(TotpCmd::Verify { code }) => {
            mfa.verify_totp(code).await?;
            out.ok("TOTP is set up.");
        }
        MfaCmd::Totp(TotpCmd::Remove) => {
            mfa.remove_totp().await?;
            out.ok("TOTP removed.");
        }
        MfaCmd::OtpSms(AddRemove::Add) => {
            mfa.add_otp_sms().await?;
            out.ok("OTP by SMS added.");
        }
        MfaCmd::OtpSms(AddRemove::Remove) => {
            mfa.remove_otp_sms().await?;
            out.ok("OTP by SMS removed.");
        }
        MfaCmd::OtpEmail(AddRemove::Add) => {
            mfa.add_otp_email().await?;
            out.ok("OTP by email added.");
        }
        MfaCmd::OtpEmail(AddRemove::Remove) => {
            mfa.remove_otp_email().await?;
            out.ok("OTP by email removed.");
        }
        MfaCmd::U2f(k) => return u2f(client, k, out).await,
    }
    Ok(())
}

pub async fn passkey(client: &Client, c: &PasskeyCmd, out: &Out) -> Result<(), Error> {
    let passkeys = client.passkeys();
    match c {
        KeyCmd::Add { name } => {
            let auth = SoftwareAuthenticator::for_client(client);
            let p = passkeys.register(&auth, name).await?;
            out.show(&p, &format!("Passkey {} registered ({}).", name, p.id));
        }
        KeyCmd::List => {
            let list = passkeys.list().await?;
            let human = list
                .iter()
                .map(|p| format!("{}  {}", p.id, p.name.as_deref().unwrap_or("-")))
                .collect::<Vec<_>>()
                .join("\n");
            out.show(
                &json!({"passkeys": list}),
                if human.is_empty() {
                    "(no passkeys)"
                } else {
                    &human
                },
            );
        }
        KeyCmd::Remove { id } => {
            passkeys.remove(id).await?;
            out.ok("Passkey removed.");
        }
    }
    Ok(())
}

async fn u2f(client: &Client, c: &KeyCmd, out: &Out) -> Result<(), Error> {
    let mfa = client.mfa();
    match c {
        KeyCmd::Add { name } => {
            let auth = SoftwareAuthenticator::for_client(client);
            let k = mfa.add_u2f(&auth, name).await?;
            out.show(&k, &format!("Security key {} registered ({}).", name, k.id));
        }
        KeyCmd::List => {
            let keys = mfa.security_keys().await?;
            let human = keys
                .iter()
                .map(|k| format!("{}  {}", k.id, k.name.as_deref().unwrap_or("-")))
                .collect::<Vec<_>>()
                .join("\n");
            out.show(
                &json!({"security_keys": keys}),
                if human.is_empty() {
                    "(no security keys)"
                } else {
                    &human
                },
            );
        }
        KeyCmd::Remove { id } => {
            mfa.remove_u2f(id).await?;
            out.ok("Security key removed.");
        }
    }
    Ok(())
}

pub async fn recovery(client: &Client, c: &RecoveryCmd, out: &Out) -> Result<(), Error> {
    match c {
        RecoveryCmd::Generate { count } => {
            let codes = client.mfa().generate_recovery_codes(*count).await?;
            let codes: Vec<&str> = codes.iter().map(|c| c.expose()).collect();
            out.show(
                &json!({"recovery_codes": codes}),
                &format!(
                    "Keep these codes somewhere safe; each works once and they are not shown again:\n{}",
                    codes.join("\n")
                ),
            );
        }
        RecoveryCmd::Remove => {
            client.mfa().remove_recovery_codes().await?;
            out.ok("Recovery codes removed.");
        }
    }
    Ok(())
}
