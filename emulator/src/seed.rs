//! The seed: what a fresh emulator contains. `--seed FILE` reads a JSON
//! document of this shape; every top-level key is optional and falls back to
//! the default seed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::keys::{KeyError, KeySet, SigningKey};
use crate::model::{
    App, AppType, Human, Machine, MemberResource, Membership, Org, Pat, Project, State, User,
    UserGrant, UserKind, UserState, hash_password,
};
use crate::util::{IdGen, now, random_token, sha256_hex};

/// The seed document (`--seed FILE`, JSON, camelCase keys).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// The organization.
    pub org: SeedOrg,
    /// The project the apps belong to.
    pub project: SeedProject,
    /// OIDC and API applications.
    pub apps: Vec<SeedApp>,
    /// Human users.
    pub users: Vec<SeedHuman>,
    /// The login-client service user (role `IAM_LOGIN_CLIENT`).
    pub login_client: SeedLoginClient,
}

/// Seed organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedOrg {
    /// Display name.
    pub name: String,
    /// Primary domain (login names are `username@domain`).
    pub domain: String,
    /// Brand colour of the hosted login, e.g. `#5469d4`.
    pub primary_color: String,
}

impl Default for SeedOrg {
    fn default() -> Self {
        Self {
            name: "ACME".to_owned(),
            domain: "acme.localhost".to_owned(),
            primary_color: "#5469d4".to_owned(),
        }
    }
}

/// Seed project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedProject {
    /// Project name.
    pub name: String,
    /// Role keys.
    pub roles: Vec<String>,
}

impl Default for SeedProject {
    fn default() -> Self {
        Self {
            name: "Demo".to_owned(),
            roles: vec!["admin".to_owned(), "user".to_owned()],
        }
    }
}

/// Seed application.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedApp {
    /// Client id.
    pub client_id: String,
    /// `native`, `web` or `api`.
    #[serde(rename = "type")]
    pub app_type: String,
    /// Client secret for `web` and `api` apps.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Registered redirect URIs (loopback URIs match on any port).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Whether the refresh-token grant is enabled.
    #[serde(default)]
    pub refresh_token: bool,
    /// Whether the device-code grant is enabled.
    #[serde(default)]
    pub device_code: bool,
}

/// Seed human user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedHuman {
    /// Username (login name is `username@org-domain`).
    pub username: String,
    /// Password.
    pub password: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Email (verified); defaults to the login name.
    #[serde(default)]
    pub email: Option<String>,
    /// Preferred language, default `en`.
    #[serde(default)]
    pub preferred_language: Option<String>,
    /// Manager roles: `IAM_*` on the instance, `ORG_*` on the org, `PROJECT_*` on the project.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Project roles granted on the seed project.
    #[serde(default)]
    pub project_roles: Vec<String>,
}

/// Seed login client.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedLoginClient {
    /// Username, default `login-client`.
    pub username: Option<String>,
    /// A fixed PAT; random when absent.
    pub token: Option<String>,
}

impl Default for Seed {
    fn default() -> Self {
        let loopback_and_custom = |path: &str| {
            vec![
                format!("http://127.0.0.1/{path}"),
                format!("http://localhost/{path}"),
                format!("com.example.app:/{path}"),
            ]
        };
        let human =
            |username: &str, given: &str, family: &str, roles: &[&str], project_roles: &[&str]| {
                SeedHuman {
                    username: username.to_owned(),
                    password: "Password1!".to_owned(),
                    given_name: given.to_owned(),
                    family_name: family.to_owned(),
                    email: None,
                    preferred_language: None,
                    roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                    project_roles: project_roles.iter().map(|r| (*r).to_owned()).collect(),
                }
            };
        Self {
            org: SeedOrg::default(),
            project: SeedProject::default(),
            apps: vec![
                SeedApp {
                    client_id: "native-app".to_owned(),
                    app_type: "native".to_owned(),
                    client_secret: None,
                    redirect_uris: loopback_and_custom("callback"),
                    post_logout_redirect_uris: loopback_and_custom("logout"),
                    refresh_token: true,
                    device_code: true,
                },
                SeedApp {
                    client_id: "api-app".to_owned(),
                    app_type: "api".to_owned(),
                    client_secret: Some("api-app-secret".to_owned()),
                    redirect_uris: Vec::new(),
                    post_logout_redirect_uris: Vec::new(),
                    refresh_token: false,
                    device_code: false,
                },
            ],
            users: vec![
                human("admin", "Ada", "Admin", &["IAM_OWNER"], &["admin"]),
                human("manager", "Max", "Manager", &["ORG_OWNER"], &["admin"]),
                human("alice", "Alice", "Example", &[], &["user"]),
            ],
            login_client: SeedLoginClient::default(),
        }
    }
}

/// What the emulator prints on start and returns from the embedding API.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedInfo {
    /// The issuer URL (also the API base URL).
    pub issuer: String,
    /// Client id of the native app.
    pub client_id: String,
    /// PAT of the login-client service user (role `IAM_LOGIN_CLIENT`).
    pub login_client_token: String,
    /// Id of the seed org.
    pub org_id: String,
    /// The seed's human users.
    pub users: Vec<SeedUserInfo>,
    /// Id of the seed project.
    #[serde(skip)]
    pub project_id: String,
    /// Primary domain of the seed org.
    #[serde(skip)]
    pub org_domain: String,
}

/// A seed user as printed on start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedUserInfo {
    /// Login name (`username@org-domain`).
    pub login_name: String,
    /// Password.
    pub password: String,
    /// Manager roles.
    pub roles: Vec<String>,
    /// User id.
    #[serde(skip)]
    pub user_id: String,
}

/// Errors of a seed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The seed is inconsistent.
    #[error("invalid seed: {0}")]
    Invalid(String),
    /// Key generation failed.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Builds the initial state from a seed.
pub(crate) fn build_state(
    seed: &Seed,
    issuer: &str,
    key: SigningKey,
) -> Result<(State, SeedInfo), SeedError> {
    let ids = IdGen::new();
    let created = now();
    let instance_id = ids.next();
    let org = Org {
        id: ids.next(),
        name: seed.org.name.clone(),
        primary_domain: seed.org.domain.to_ascii_lowercase(),
        primary_color: seed.org.primary_color.clone(),
    };
    let zitadel_project = Project {
        id: ids.next(),
        org_id: org.id.clone(),
        name: "ZITADEL".to_owned(),
        roles: Vec::new(),
        role_info: std::collections::HashMap::new(),
    };
    let project = Project {
        id: ids.next(),
        org_id: org.id.clone(),
        name: seed.project.name.clone(),
        roles: seed.project.roles.clone(),
        role_info: std::collections::HashMap::new(),
    };
    let mut apps = Vec::new();
    let mut native_client = None;
    for a in &seed.apps {
        let app_type = match a.app_type.as_str() {
            "native" => AppType::Native,
            "web" => AppType::Web,
            "api" => AppType::Api,
            other => return Err(SeedError::Invalid(format!("unknown app type {other:?}"))),
        };
        if app_type != AppType::Native && a.client_secret.is_none() {
            return Err(SeedError::Invalid(format!(
                "app {:?} needs a clientSecret",
                a.client_id
            )));
        }
        if app_type == AppType::Native && native_client.is_none() {
            native_client = Some(a.client_id.clone());
        }
        if apps.iter().any(|x: &App| x.client_id == a.client_id) {
            return Err(SeedError::Invalid(format!(
                "duplicate client id {:?}",
                a.client_id
            )));
        }
        apps.push(App {
            id: ids.next(),
            project_id: project.id.clone(),
            name: a.client_id.clone(),
            client_id: a.client_id.clone(),
            app_type,
            secret_hash: a.client_secret.as_deref().map(sha256_hex),
            redirect_uris: a.redirect_uris.clone(),
            post_logout_redirect_uris: a.post_logout_redirect_uris.clone(),
            refresh_token_grant: a.refresh_token,
            device_code_grant: a.device_code,
        });
    }
    let mut users = Vec::new();
    let mut memberships = Vec::new();
    let mut grants = Vec::new();
    let mut infos = Vec::new();
    let mut seen: HashMap<String, ()> = HashMap::new();
    for h in &seed.users {
        let username = h.username.to_ascii_lowercase();
        if seen.insert(username.clone(), ()).is_some() {
            return Err(SeedError::Invalid(format!(
                "duplicate username {username:?}"
            )));
        }
        let id = ids.next();
        let login_name = format!("{username}@{}", org.primary_domain);
        users.push(User {
            id: id.clone(),
            org_id: org.id.clone(),
            username: username.clone(),
            kind: UserKind::Human(Human {
                given_name: h.given_name.clone(),
                family_name: h.family_name.clone(),
                display_name: format!("{} {}", h.given_name, h.family_name),
                nick_name: String::new(),
                preferred_language: h
                    .preferred_language
                    .clone()
                    .unwrap_or_else(|| "en".to_owned()),
                gender: String::new(),
                email: h.email.clone().unwrap_or_else(|| login_name.clone()),
                email_verified: true,
                phone: String::new(),
                phone_verified: false,
                password_hash: Some(hash_password(&h.password)),
                password_failed_attempts: 0,
                mfa_init_skipped_at: None,
                email_code: None,
                password_code: None,
                totp: None,
                otp_email: false,
                otp_sms: false,
                phone_code: None,
                recovery_codes: Vec::new(),
                otp_failed_attempts: 0,
                webauthn: Vec::new(),
                passkey_codes: Vec::new(),
                invite: None,
            }),
            state: UserState::Active,
            created,
            changed: created,
            metadata: Default::default(),
        });
        add_memberships(&mut memberships, &id, &h.roles, &org.id, &project.id)?;
        for r in &h.project_roles {
            if !project.roles.contains(r) {
                return Err(SeedError::Invalid(format!("unknown project role {r:?}")));
            }
        }
        if !h.project_roles.is_empty() {
            grants.push(UserGrant {
                id: ids.next(),
                user_id: id.clone(),
                project_id: project.id.clone(),
                roles: h.project_roles.clone(),
            });
        }
        infos.push(SeedUserInfo {
            login_name,
            password: h.password.clone(),
            roles: h.roles.clone(),
            user_id: id,
        });
    }
    let login_client_id = ids.next();
    let login_client_name = seed
        .login_client
        .username
        .clone()
        .unwrap_or_else(|| "login-client".to_owned());
    users.push(User {
        id: login_client_id.clone(),
        org_id: org.id.clone(),
        username: login_client_name,
        kind: UserKind::Machine(Machine {
            name: "Login client".to_owned(),
            description: "Trusted login client (IAM_LOGIN_CLIENT)".to_owned(),
            secret_hash: None,
        }),
        state: UserState::Active,
        created,
        changed: created,
        metadata: Default::default(),
    });
    memberships.push(Membership {
        user_id: login_client_id.clone(),
        resource: MemberResource::Instance,
        roles: vec!["IAM_LOGIN_CLIENT".to_owned()],
    });
    let login_client_token = seed
        .login_client
        .token
        .clone()
        .unwrap_or_else(|| random_token(48));
    let pats = vec![Pat {
        id: ids.next(),
        user_id: login_client_id,
        token_hash: sha256_hex(&login_client_token),
        expires: created + 10 * 365 * 86_400,
        created,
    }];
    let info = SeedInfo {
        issuer: issuer.to_owned(),
        client_id: native_client.unwrap_or_default(),
        login_client_token,
        org_id: org.id.clone(),
        users: infos,
        project_id: project.id.clone(),
        org_domain: org.primary_domain.clone(),
    };
    let idps = vec![crate::model::Idp {
        id: ids.next(),
        name: "Test IdP".to_owned(),
        linking_allowed: true,
        creation_allowed: true,
        auto_creation: false,
        auto_update: false,
        auto_linking: String::new(),
        org_id: None,
        config: crate::model::IdpConfig::Test,
        created: crate::util::now(),
        changed: crate::util::now(),
    }];
    let state = State {
        idps,
        instance_id,
        zitadel_project_id: zitadel_project.id.clone(),
        default_org_id: org.id.clone(),
        orgs: vec![org],
        projects: vec![zitadel_project, project],
        apps,
        users,
        memberships,
        grants,
        pats,
        machine_keys: Vec::new(),
        idp_links: Vec::new(),
        idp_intents: HashMap::new(),
        sessions: HashMap::new(),
        auth_requests: HashMap::new(),
        codes: HashMap::new(),
        access_tokens: HashMap::new(),
        refresh_tokens: HashMap::new(),
        device_requests: Vec::new(),
        logout_requests: HashMap::new(),
        outbox: Vec::new(),
        keys: KeySet::new(key),
        sequence: 1,
        password_complexity: Default::default(),
        login_policy: Default::default(),
        lockout_policy: Default::default(),
        org_policies: HashMap::new(),
        discoverable_logins: Vec::new(),
        ids,
    };
    Ok((state, info))
}

fn add_memberships(
    memberships: &mut Vec<Membership>,
    user_id: &str,
    roles: &[String],
    org_id: &str,
    project_id: &str,
) -> Result<(), SeedError> {
    for role in roles {
        let resource = if role.starts_with("IAM_") {
            MemberResource::Instance
        } else if role.starts_with("ORG_") {
            MemberResource::Org(org_id.to_owned())
        } else if role.starts_with("PROJECT_") {
            MemberResource::Project(project_id.to_owned())
        } else {
            return Err(SeedError::Invalid(format!("unknown manager role {role:?}")));
        };
        match memberships
            .iter_mut()
            .find(|m| m.user_id == user_id && m.resource == resource)
        {
            Some(m) => m.roles.push(role.clone()),
            None => memberships.push(Membership {
                user_id: user_id.to_owned(),
                resource,
                roles: vec![role.clone()],
            }),
        }
    }
    Ok(())
}
