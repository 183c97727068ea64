//! The signed-in user's account: profile, email, phone, metadata, IdP
//! links, sessions.

use crate::browser;
use crate::output::Out;
use crate::prompt;
use clap::Subcommand;
use serde_json::json;
use std::time::Duration;
use zitadel_sdk::flows::profile::{Gender, ProfileUpdate};
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::{Client, Error};

/// `zid profile`.
#[derive(Subcommand, Debug)]
pub enum ProfileCmd {
    /// Show your profile.
    Show,
    /// Update fields of your profile (only those given).
    Update {
        #[arg(long = "given-name")]
        given_name: Option<String>,
        #[arg(long = "family-name")]
        family_name: Option<String>,
        #[arg(long = "nick-name")]
        nick_name: Option<String>,
        #[arg(long = "display-name")]
        display_name: Option<String>,
        /// A language tag, e.g. de or en-US.
        #[arg(long = "preferred-language")]
        preferred_language: Option<String>,
        /// female, male, diverse or unspecified.
        #[arg(long)]
        gender: Option<Gender>,
    },
}

/// `zid email`.
#[derive(Subcommand, Debug)]
pub enum EmailCmd {
    /// Change your email address (a code is sent to it).
    Set { address: String },
    /// Verify the email address with the code you received.
    Verify {
        #[arg(long)]
        code: Option<String>,
    },
    /// Send the code again.
    Resend,
}

/// `zid phone`.
#[derive(Subcommand, Debug)]
pub enum PhoneCmd {
    /// Set your phone number, e.g. +41791234567 (a code is sent by SMS).
    Set { number: String },
    /// Verify the phone number with the code you received.
    Verify {
        #[arg(long)]
        code: Option<String>,
    },
    /// Send the code again.
    Resend,
    /// Remove your phone number.
    Remove,
}

/// `zid metadata`.
#[derive(Subcommand, Debug)]
pub enum MetadataCmd {
    /// List your metadata.
    List,
    /// Set a key to a value.
    Set { key: String, value: String },
    /// Remove a key.
    Remove { key: String },
}

/// `zid links`.
#[derive(Subcommand, Debug)]
pub enum LinksCmd {
    /// List your links to external identity providers.
    List,
    /// Link an account at an identity provider (opens the browser).
    Add {
        idp_id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Remove a link.
    Remove {
        idp_id: String,
        linked_user_id: String,
    },
}

/// `zid sessions`.
#[derive(Subcommand, Debug)]
pub enum SessionsCmd {
    /// List your sessions.
    List,
    /// End one session, or all of them with --all (logout everywhere).
    End {
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
}

pub async fn profile(client: &Client, c: &ProfileCmd, out: &Out) -> Result<(), Error> {
    match c {
        ProfileCmd::Show => {
            let u = client.profile().get().await?;
            let human = format!(
                "{} ({})\nuser id:   {}\nname:      {} {}\nnickname:  {}\nlanguage:  {}\ngender:    {:?}\nemail:     {}{}\nphone:     {}{}",
                u.display_name,
                u.preferred_login_name,
                u.user_id,
                u.given_name,
                u.family_name,
                u.nick_name.as_deref().unwrap_or("-"),
                u.preferred_language.as_deref().unwrap_or("-"),
                u.gender,
                u.email.as_deref().unwrap_or("-"),
                if u.email_verified {
                    " (verified)"
                } else {
                    " (not verified)"
                },
                u.phone.as_deref().unwrap_or("-"),
                match (&u.phone, u.phone_verified) {
                    (None, _) => "",
                    (Some(_), true) => " (verified)",
                    (Some(_), false) => " (not verified)",
                },
            );
            out.show(&u, &human);
        }
        ProfileCmd::Update {
            given_name,
            family_name,
            nick_name,
            display_name,
            preferred_language,
            gender,
        } => {
            let update = ProfileUpdate {
                given_name: given_name.clone(),
                family_name: family_name.clone(),
                nick_name: nick_name.clone(),
                display_name: display_name.clone(),
                preferred_language: preferred_language.clone(),
                gender: *gender,
            };
            client.profile().update(&update).await?;
            out.ok("Profile updated.");
        }
    }
    Ok(())
}

pub async fn email(client: &Client, c: &EmailCmd, out: &Out) -> Result<(), Error> {
    match c {
        EmailCmd::Set { address } => {
            client.email().set(address, &CodeDelivery::Send).await?;
            out.ok("Email changed; a verification code was sent to it (`zid email verify`).");
        }
        EmailCmd::Verify { code } => {
            let code = prompt::line(code.as_deref(), "Code from the email", "--code")?;
            client.email().verify(&code).await?;
            out.ok("Email verified.");
        }
        EmailCmd::Resend => {
            client.email().resend(&CodeDelivery::Send).await?;
            out.ok("A new code was sent.");
        }
    }
    Ok(())
}

pub async fn phone(client: &Client, c: &PhoneCmd, out: &Out) -> Result<(), Error> {
    match c {
        PhoneCmd::Set { number } => {
            client.phone().set(number, &CodeDelivery::Send).await?;
            out.ok("Phone set; a verification code was sent by SMS (`zid phone verify`).");
        }
        PhoneCmd::Verify { code } => {
            let code = prompt::line(code.as_deref(), "Code from the SMS", "--code")?;
            client.phone().verify(&code).await?;
            out.ok("Phone verified.");
        }
        PhoneCmd::Resend => {
            client.phone().resend(&CodeDelivery::Send).await?;
            out.ok("A new code was sent.");
        }
        PhoneCmd::Remove => {
            client.phone().remove().await?;
            out.ok("Phone removed.");
        }
    }
    Ok(())
}

pub async fn metadata(client: &Client, c: &MetadataCmd, out: &Out) -> Result<(), Error> {
    match c {
        MetadataCmd::List => {
            let page = client.profile().metadata().await?;
            let human = page
                .items
                .iter()
                .map(|m| format!("{} = {}", m.key, m.value))
                .collect::<Vec<_>>()
                .join("\n");
            out.show(
                &page,
                if human.is_empty() {
                    "(no metadata)"
                } else {
                    &human
                },
            );
        }
        MetadataCmd::Set { key, value } => {
            client.profile().set_metadata(key, value).await?;
            out.ok("Metadata set.");
        }
        MetadataCmd::Remove { key } => {
            client.profile().remove_metadata(&[key.as_str()]).await?;
            out.ok("Metadata removed.");
        }
    }
    Ok(())
}

pub async fn links(client: &Client, c: &LinksCmd, out: &Out) -> Result<(), Error> {
    match c {
        LinksCmd::List => {
            let page = client.links().list().await?;
            let human = page
                .items
                .iter()
                .map(|l| {
                    format!(
                        "{} ({}): {} [{}]",
                        l.idp_name, l.idp_id, l.linked_user_name, l.linked_user_id
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.show(
                &page,
                if human.is_empty() {
                    "(no links)"
                } else {
                    &human
                },
            );
        }
        LinksCmd::Add { idp_id, timeout } => {
            let cancel = crate::cancel_on_ctrl_c();
            let link = client
                .links()
                .add(
                    idp_id,
                    &browser::SystemBrowser,
                    Duration::from_secs(*timeout),
                    &cancel,
                )
                .await?;
            out.show(
                &link,
                &format!(
                    "Linked {} [{}].",
                    link.linked_user_name, link.linked_user_id
                ),
            );
        }
        LinksCmd::Remove {
            idp_id,
            linked_user_id,
        } => {
            client.links().remove(idp_id, linked_user_id).await?;
            out.ok("Link removed.");
        }
    }
    Ok(())
}

pub async fn sessions(client: &Client, c: &SessionsCmd, out: &Out) -> Result<(), Error> {
    match c {
        SessionsCmd::List => {
            let page = client.sessions().list().await?;
            let human = page
                .items
                .iter()
                .map(|s| {
                    format!(
                        "{}{}  created {}  {}",
                        s.id,
                        if s.current { " (this app)" } else { "" },
                        s.created,
                        s.user_agent.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.show(&page, &human);
        }
        SessionsCmd::End { id: Some(id), .. } => {
            client.sessions().end(id).await?;
            out.ok("Session ended.");
        }
        SessionsCmd::End { id: None, .. } => {
            let r = client.sessions().end_all().await?;
            out.show(
                &json!({"ended": r.ended, "signed_out": true}),
                &format!("Ended {} sessions; signed out everywhere.", r.ended),
            );
        }
    }
    Ok(())
}
