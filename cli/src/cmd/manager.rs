//! `zid manager`: organization administration for a signed-in user with
//! manager roles (ORG_OWNER, ...), or a service user (`--service-pat`,
//! `--service-key-file`). A user without the role gets exit status 13.

use crate::output::Out;
use clap::{Args, Subcommand};
use serde_json::json;
use zitadel_sdk::flows::settings::PasswordPolicy;
use zitadel_sdk::flows::verification::CodeDelivery;
use zitadel_sdk::manager::{
    IdpOptions, LockoutPolicy, LoginPolicyUpdate, ManagerClient, NewHuman, NewIdp,
    ServiceCredential, ServiceKey, UserSearch,
};
use zitadel_sdk::{Client, Error, ErrorCode, Secret};

/// `zid manager`.
#[derive(Args, Debug)]
pub struct ManagerArgs {
    /// Act as a service user with this personal access token.
    #[arg(
        long = "service-pat",
        env = "ZID_SERVICE_PAT",
        hide_env_values = true,
        global = true
    )]
    service_pat: Option<String>,
    /// Act as a service user with this JSON key file (JWT profile).
    #[arg(long = "service-key-file", env = "ZID_SERVICE_KEY_FILE", global = true)]
    service_key_file: Option<std::path::PathBuf>,
    /// The organization to act on (default: the caller's).
    #[arg(long = "org-id", global = true)]
    org_id: Option<String>,
    #[command(subcommand)]
    command: ManagerCmd,
}

/// The manager command groups.
#[derive(Subcommand, Debug)]
pub enum ManagerCmd {
    /// Users: search, create, lock, unlock, deactivate, reactivate, delete.
    #[command(subcommand)]
    Users(UsersCmd),
    /// Role assignments (user grants): list, add, change, remove.
    #[command(subcommand)]
    Grants(GrantsCmd),
    /// Organization managers (members): list, add, remove.
    #[command(subcommand)]
    Members(MembersCmd),
    /// Identity providers: list, add a generic OIDC one, activate, remove.
    #[command(subcommand)]
    Idps(IdpsCmd),
    /// Policies: show or set login, password complexity and lockout.
    #[command(subcommand)]
    Policy(PolicyCmd),
}

#[derive(Subcommand, Debug)]
pub enum UsersCmd {
    /// Search users (text criteria match anywhere, case-insensitively).
    Search {
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Create a human user (an email code is sent unless --email-verified).
    Create {
        #[arg(long = "given-name")]
        given_name: String,
        #[arg(long = "family-name")]
        family_name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long = "email-verified")]
        email_verified: bool,
        #[arg(long, env = "ZID_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Lock a user.
    Lock { user_id: String },
    /// Unlock a user.
    Unlock { user_id: String },
    /// Deactivate a user.
    Deactivate { user_id: String },
    /// Reactivate a user.
    Reactivate { user_id: String },
    /// Delete a user.
    Delete { user_id: String },
    /// Resend a user's invite code.
    ResendInvite { user_id: String },
}

#[derive(Subcommand, Debug)]
pub enum GrantsCmd {
    /// List role assignments (of one user with --user-id).
    List {
        #[arg(long = "user-id")]
        user_id: Option<String>,
    },
    /// Assign roles of a project to a user.
    Add {
        user_id: String,
        #[arg(long = "project-id")]
        project_id: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Replace the roles of an assignment.
    Change {
        user_id: String,
        grant_id: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Remove an assignment.
    Remove { user_id: String, grant_id: String },
}

#[derive(Subcommand, Debug)]
pub enum MembersCmd {
    /// List the organization's managers.
    List,
    /// Make a user an organization manager (ORG_* roles).
    Add {
        user_id: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// Remove a manager.
    Remove { user_id: String },
}

#[derive(Subcommand, Debug)]
pub enum IdpsCmd {
    /// List the organization's identity providers.
    List,
    /// Add a generic OpenID Connect provider.
    AddOidc {
        #[arg(long)]
        name: String,
        #[arg(long)]
        issuer: String,
        #[arg(long = "client-id")]
        client_id: String,
        #[arg(
            long = "client-secret",
            env = "ZID_IDP_CLIENT_SECRET",
            hide_env_values = true
        )]
        client_secret: String,
    },
    /// Show an identity provider on the organization's login.
    Activate { idp_id: String },
    /// Remove an identity provider.
    Remove { idp_id: String },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Show the login, password complexity and lockout policies.
    Show,
    /// Change the login policy (only the flags given).
    Login {
        #[arg(long = "allow-register")]
        allow_register: Option<bool>,
        #[arg(long = "force-mfa")]
        force_mfa: Option<bool>,
        #[arg(long = "passkeys")]
        passkeys: Option<bool>,
        #[arg(long = "allow-external-idp")]
        allow_external_idp: Option<bool>,
    },
    /// Set the password complexity policy.
    Password {
        #[arg(long = "min-length")]
        min_length: u64,
        #[arg(long)]
        uppercase: bool,
        #[arg(long)]
        lowercase: bool,
        #[arg(long)]
        number: bool,
        #[arg(long)]
        symbol: bool,
    },
    /// Set the lockout policy (0: never lock).
    Lockout {
        #[arg(long = "max-password-attempts")]
        max_password_attempts: u32,
        #[arg(long = "max-otp-attempts", default_value_t = 0)]
        max_otp_attempts: u32,
    },
}

fn manager(client: &Client, a: &ManagerArgs) -> Result<ManagerClient, Error> {
    let m = if let Some(pat) = &a.service_pat {
        client
            .service_account(ServiceCredential::Pat(Secret::new(pat.clone())))
            .manager()
    } else if let Some(path) = &a.service_key_file {
        let json = std::fs::read_to_string(path)
            .map_err(|_| Error::host(ErrorCode::InvalidInput, "the key file cannot be read"))?;
        client
            .service_account(ServiceCredential::KeyFile(ServiceKey::from_json(&json)?))
            .manager()
    } else {
        client.manager()
    };
    Ok(match &a.org_id {
        Some(org) => m.in_org(org.clone()),
        None => m,
    })
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

pub async fn run(client: &Client, a: &ManagerArgs, out: &Out) -> Result<(), Error> {
    let m = manager(client, a)?;
    match &a.command {
        ManagerCmd::Users(c) => users(&m, c, out).await,
        ManagerCmd::Grants(c) => grants(&m, c, out).await,
        ManagerCmd::Members(c) => members(&m, c, out).await,
        ManagerCmd::Idps(c) => idps(&m, c, out).await,
        ManagerCmd::Policy(c) => policy(&m, c, out).await,
    }
}

async fn users(m: &ManagerClient, c: &UsersCmd, out: &Out) -> Result<(), Error> {
    match c {
        UsersCmd::Search {
            username,
            email,
            limit,
        } => {
            let page = m
                .search_users(&UserSearch {
                    username: username.clone(),
                    email: email.clone(),
                    limit: *limit,
                    ..Default::default()
                })
                .await?;
            let human = page
                .items
                .iter()
                .map(|u| {
                    format!(
                        "{}  {}  {}  {}",
                        u.user_id, u.preferred_login_name, u.display_name, u.state
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.show(&page, &format!("{human}\n({} in all)", page.total));
        }
        UsersCmd::Create {
            given_name,
            family_name,
            email,
            username,
            email_verified,
            password,
        } => {
            let created = m
                .create_human(
                    &NewHuman {
                        username: username.clone(),
                        given_name: given_name.clone(),
                        family_name: family_name.clone(),
                        email: email.clone(),
                        email_verified: *email_verified,
                        password: password.clone(),
                        ..Default::default()
                    },
                    &CodeDelivery::Send,
                )
                .await?;
            out.show(
                &json!({"user_id": created.user_id}),
                &format!("Created user {}.", created.user_id),
            );
        }
        UsersCmd::Lock { user_id } => done(out, m.lock_user(user_id).await, "User locked.")?,
        UsersCmd::Unlock { user_id } => done(out, m.unlock_user(user_id).await, "User unlocked.")?,
        UsersCmd::Deactivate { user_id } => {
            done(out, m.deactivate_user(user_id).await, "User deactivated.")?
        }
        UsersCmd::Reactivate { user_id } => {
            done(out, m.reactivate_user(user_id).await, "User reactivated.")?
        }
        UsersCmd::Delete { user_id } => done(out, m.delete_user(user_id).await, "User deleted.")?,
        UsersCmd::ResendInvite { user_id } => {
            done(out, m.resend_invite(user_id).await, "Invite sent again.")?
        }
    }
    Ok(())
}

fn done(out: &Out, r: Result<(), Error>, msg: &str) -> Result<(), Error> {
    r?;
    out.ok(msg);
    Ok(())
}

async fn grants(m: &ManagerClient, c: &GrantsCmd, out: &Out) -> Result<(), Error> {
    match c {
        GrantsCmd::List { user_id } => {
            let page = m.grants(user_id.as_deref()).await?;
            let human = page
                .items
                .iter()
                .map(|g| format!("{g:?}"))
                .collect::<Vec<_>>()
                .join("\n");
            out.show(&page, &human);
        }
        GrantsCmd::Add {
            user_id,
            project_id,
            roles,
        } => {
            let id = m.add_grant(user_id, project_id, &strs(roles)).await?;
            out.show(
                &json!({"grant_id": id}),
                &format!("Roles assigned (grant {id})."),
            );
        }
        GrantsCmd::Change {
            user_id,
            grant_id,
            roles,
        } => done(
            out,
            m.change_grant(user_id, grant_id, &strs(roles)).await,
            "Roles changed.",
        )?,
        GrantsCmd::Remove { user_id, grant_id } => done(
            out,
            m.remove_grant(user_id, grant_id).await,
            "Roles revoked.",
        )?,
    }
    Ok(())
}

async fn members(m: &ManagerClient, c: &MembersCmd, out: &Out) -> Result<(), Error> {
    match c {
        MembersCmd::List => {
            let page = m.members().await?;
            let human = page
                .items
                .iter()
                .map(|x| format!("{x:?}"))
                .collect::<Vec<_>>()
                .join("\n");
            out.show(&page, &human);
        }
        MembersCmd::Add { user_id, roles } => done(
            out,
            m.add_member(user_id, &strs(roles)).await,
            "Member added.",
        )?,
        MembersCmd::Remove { user_id } => {
            done(out, m.remove_member(user_id).await, "Member removed.")?
        }
    }
    Ok(())
}

async fn idps(m: &ManagerClient, c: &IdpsCmd, out: &Out) -> Result<(), Error> {
    match c {
        IdpsCmd::List => {
            let list = m.idps().await?;
            let human = list
                .iter()
                .map(|i| format!("{i:?}"))
                .collect::<Vec<_>>()
                .join("\n");
            out.show(&json!({"idps": list}), &human);
        }
        IdpsCmd::AddOidc {
            name,
            issuer,
            client_id,
            client_secret,
        } => {
            let id = m
                .add_idp(
                    &NewIdp::GenericOidc {
                        name: name.clone(),
                        issuer: issuer.clone(),
                        client_id: client_id.clone(),
                        client_secret: Secret::new(client_secret.clone()),
                        scopes: vec![],
                        id_token_mapping: false,
                        use_pkce: true,
                    },
                    &IdpOptions::default(),
                )
                .await?;
            out.show(
                &json!({"idp_id": id}),
                &format!("Identity provider {id} added (activate it to show it on the login)."),
            );
        }
        IdpsCmd::Activate { idp_id } => done(
            out,
            m.activate_idp(idp_id).await,
            "Identity provider activated.",
        )?,
        IdpsCmd::Remove { idp_id } => done(
            out,
            m.remove_idp(idp_id).await,
            "Identity provider removed.",
        )?,
    }
    Ok(())
}

async fn policy(m: &ManagerClient, c: &PolicyCmd, out: &Out) -> Result<(), Error> {
    match c {
        PolicyCmd::Show => {
            let (login, password, lockout) = (
                m.login_policy().await?,
                m.password_complexity_policy().await?,
                m.lockout_policy().await?,
            );
            out.show(
                &json!({"login": login, "password_complexity": password, "lockout": lockout}),
                &format!(
                    "login: {login:?}\npassword complexity: {password:?}\nlockout: {lockout:?}"
                ),
            );
        }
        PolicyCmd::Login {
            allow_register,
            force_mfa,
            passkeys,
            allow_external_idp,
        } => {
            let p = m
                .set_login_policy(&LoginPolicyUpdate {
                    allow_register: *allow_register,
                    force_mfa: *force_mfa,
                    passkeys_allowed: *passkeys,
                    allow_external_idp: *allow_external_idp,
                    ..Default::default()
                })
                .await?;
            out.show(&p, "Login policy set.");
        }
        PolicyCmd::Password {
            min_length,
            uppercase,
            lowercase,
            number,
            symbol,
        } => done(
            out,
            m.set_password_complexity_policy(&PasswordPolicy {
                min_length: *min_length,
                requires_uppercase: *uppercase,
                requires_lowercase: *lowercase,
                requires_number: *number,
                requires_symbol: *symbol,
            })
            .await,
            "Password complexity policy set.",
        )?,
        PolicyCmd::Lockout {
            max_password_attempts,
            max_otp_attempts,
        } => done(
            out,
            m.set_lockout_policy(&LockoutPolicy {
                max_password_attempts: *max_password_attempts,
                max_otp_attempts: *max_otp_attempts,
            })
            .await,
            "Lockout policy set.",
        )?,
    }
    Ok(())
}
