//! `zid register`: the hosted registration in the browser, or native
//! registration through the login client (terms, password policy, email code).

use super::session::signed_in_out;
use crate::browser;
use crate::output::Out;
use crate::prompt;
use clap::Args;
use std::time::Duration;
use zitadel_sdk::flows::registration::NewUser;
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::{Client, Error, ErrorCode};

/// `zid register`.
#[derive(Args, Debug)]
pub struct RegisterArgs {
    /// Register without a browser (needs --login-client-token).
    #[arg(long)]
    native: bool,
    /// Given name (native; asked for when omitted).
    #[arg(long = "given-name")]
    given_name: Option<String>,
    /// Family name (native).
    #[arg(long = "family-name")]
    family_name: Option<String>,
    /// Email address (native).
    #[arg(long)]
    email: Option<String>,
    /// User name (native; default: the email address).
    #[arg(long)]
    username: Option<String>,
    /// Password (native; asked for without echo when omitted).
    #[arg(long, env = "ZID_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Accept the terms of service and the privacy policy (native; asked otherwise).
    #[arg(long = "accept-terms")]
    accept_terms: bool,
    /// The email code (native; asked for when omitted).
    #[arg(long)]
    code: Option<String>,
    /// Have the server return the email code instead of mailing it (for
    /// tests and kiosks that deliver the code themselves).
    #[arg(long = "return-code")]
    return_code: bool,
    /// Give up after this many seconds (browser).
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

pub async fn run(client: &Client, a: &RegisterArgs, out: &Out) -> Result<(), Error> {
    if !a.native {
        let cancel = crate::cancel_on_ctrl_c();
        let s = client
            .registration()
            .in_browser(
                &browser::SystemBrowser,
                Duration::from_secs(a.timeout),
                &cancel,
            )
            .await?;
        out.session(&s, "Registered and signed in");
        return Ok(());
    }
    let rules = client.registration().rules().await?;
    if !rules.login.allow_register {
        return Err(Error::host(
            ErrorCode::FailedPrecondition,
            "this organization does not allow self-registration",
        ));
    }
    let given_name = prompt::line(a.given_name.as_deref(), "Given name", "--given-name")?;
    let family_name = prompt::line(a.family_name.as_deref(), "Family name", "--family-name")?;
    let email = prompt::line(a.email.as_deref(), "Email", "--email")?;
    let p = &rules.password;
    out.info(&format!(
        "Password: at least {} characters{}{}{}{}",
        p.min_length,
        if p.requires_lowercase {
            ", a lower-case letter"
        } else {
            ""
        },
        if p.requires_uppercase {
            ", an upper-case letter"
        } else {
            ""
        },
        if p.requires_number { ", a number" } else { "" },
        if p.requires_symbol { ", a symbol" } else { "" },
    ));
    let password = prompt::secret(a.password.as_deref(), "Password", "--password")?;
    if let Some(l) = &rules.legal.tos_link {
        out.info(&format!("Terms of service: {l}"));
    }
    if let Some(l) = &rules.legal.privacy_policy_link {
        out.info(&format!("Privacy policy: {l}"));
    }
    let accepted = prompt::confirm(
        a.accept_terms,
        "Do you accept the terms of service and the privacy policy?",
        "--accept-terms",
    )?;
    let user = NewUser {
        given_name,
        family_name,
        email,
        username: a.username.clone(),
        preferred_language: None,
        password,
        accepted_terms: accepted,
    };
    let delivery = if a.return_code {
        CodeDelivery::Return
    } else {
        CodeDelivery::Send
    };
    let mut pending = client.registration().register(&user, &delivery).await?;
    let returned = pending.returned_email_code().map(|c| c.expose().to_owned());
    let code = match (&a.code, returned) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c,
        (None, None) => {
            out.info("A verification code was sent to your email address.");
            prompt::line(None, "Code from the email", "--code")?
        }
    };
    pending.verify_email(&code).await?;
    let signed_in = pending.finish().await?;
    signed_in_out(&signed_in, out);
    Ok(())
}
