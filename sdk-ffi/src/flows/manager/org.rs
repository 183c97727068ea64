//! The organization as a manager sees it: user grants (project roles),
//! members (manager roles), new organizations, identity providers and
//! their activation at login, and the login, password complexity and
//! lockout policies.

use super::ManagerClient;
use super::users::call;
use crate::error::FfiError;
use crate::runtime::run;
use serde::Deserialize;
use zitadel_sdk::Secret;
use zitadel_sdk::flows::settings::{PasswordPolicy, SecondFactorType};
use zitadel_sdk::manager as core;
use zitadel_sdk::manager::{
    Idp, IdpOptions, LockoutPolicy, LoginPolicy, LoginPolicyUpdate, Member, UserGrant,
};

/// A user's grant of project roles.
#[uniffi::remote(Record)]
pub struct UserGrant {
    /// The grant's id.
    pub id: String,
    /// The user's id.
    pub user_id: String,
    /// The project's id.
    pub project_id: String,
    /// The granted role keys.
    pub role_keys: Vec<String>,
    /// The state, e.g. `USER_GRANT_STATE_ACTIVE`.
    pub state: String,
}

/// A manager of the organization.
#[uniffi::remote(Record)]
pub struct Member {
    /// The user's id.
    pub user_id: String,
    /// The `ORG_*` roles.
    pub roles: Vec<String>,
    /// The preferred login name.
    pub preferred_login_name: String,
    /// The display name.
    pub display_name: String,
}

/// One page of grants.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserGrantPage {
    /// The grants.
    pub items: Vec<UserGrant>,
    /// How many there are in all.
    pub total: u64,
}

/// One page of members.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MemberPage {
    /// The members.
    pub items: Vec<Member>,
    /// How many there are in all.
    pub total: u64,
}

/// What users may do with an identity provider.
#[uniffi::remote(Record)]
pub struct IdpOptions {
    /// Existing users may link an account of the provider.
    pub linking_allowed: bool,
    /// New users may register with an account of the provider.
    pub creation_allowed: bool,
    /// New users are created without asking.
    pub auto_creation: bool,
    /// Profile data is updated from the provider at each login.
    pub auto_update: bool,
}

/// An identity provider the org can use (its own or the instance's).
#[uniffi::remote(Record)]
pub struct Idp {
    /// The IdP's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `PROVIDER_TYPE_OIDC`, `PROVIDER_TYPE_GOOGLE`, ...
    pub kind: String,
    /// Whether it belongs to the instance rather than the org.
    pub instance: bool,
}

/// A new identity provider (sdk-core's `NewIdp` with its secrets as
/// text). Holds a client secret or private key: do not log it. In C JSON:
/// `{"generic_oidc": {...}}`, `{"google": {...}}`, `{"github": {...}}`,
/// `{"azure_ad": {...}}` or `{"apple": {...}}` with the fields below.
#[derive(Clone, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum NewIdp {
    /// Any OpenID Connect provider, found by its issuer's discovery.
    GenericOidc {
        /// Name shown on the login button.
        name: String,
        /// The provider's issuer URL.
        issuer: String,
        /// Client id at the provider.
        client_id: String,
        /// Client secret at the provider.
        client_secret: String,
        /// Scopes (default at ZITADEL: `openid profile email`).
        #[serde(default)]
        #[uniffi(default)]
        scopes: Vec<String>,
        /// Map the user from the ID token instead of userinfo.
        #[serde(default)]
        #[uniffi(default = false)]
        id_token_mapping: bool,
        /// Use PKCE.
        #[serde(default)]
        #[uniffi(default = false)]
        use_pkce: bool,
    },
    /// Google.
    Google {
        /// Name shown on the login button.
        name: String,
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret.
        client_secret: String,
        /// Scopes.
        #[serde(default)]
        #[uniffi(default)]
        scopes: Vec<String>,
    },
    /// GitHub (github.com).
    #[serde(rename = "github")]
    GitHub {
        /// Name shown on the login button.
        name: String,
        /// OAuth app client id.
        client_id: String,
        /// OAuth app client secret.
        client_secret: String,
        /// Scopes.
        #[serde(default)]
        #[uniffi(default)]
        scopes: Vec<String>,
    },
    /// Microsoft Entra ID (Azure AD).
    AzureAd {
        /// Name shown on the login button.
        name: String,
        /// Application (client) id.
        client_id: String,
        /// Client secret.
        client_secret: String,
        /// The tenant id; `None` for the common (multi-tenant) endpoint.
        #[serde(default)]
        #[uniffi(default = None)]
        tenant_id: Option<String>,
        /// Trust the provider's email addresses as verified.
        #[serde(default)]
        #[uniffi(default = false)]
        email_verified: bool,
        /// Scopes.
        #[serde(default)]
        #[uniffi(default)]
        scopes: Vec<String>,
    },
    /// Sign in with Apple.
    Apple {
        /// Name shown on the login button.
        name: String,
        /// The services id.
        client_id: String,
        /// The Apple team id.
        team_id: String,
        /// The key id of the private key.
        key_id: String,
        /// The private key (the `.p8` file's PEM).
        private_key: String,
        /// Scopes.
        #[serde(default)]
        #[uniffi(default)]
        scopes: Vec<String>,
    },
}

impl std::fmt::Debug for NewIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The core type's Debug hides the secrets.
        core::NewIdp::from(self.clone()).fmt(f)
    }
}

impl From<NewIdp> for core::NewIdp {
    fn from(i: NewIdp) -> Self {
        match i {
            NewIdp::GenericOidc {
                name,
                issuer,
                client_id,
                client_secret,
                scopes,
                id_token_mapping,
                use_pkce,
            } => core::NewIdp::GenericOidc {
                name,
                issuer,
                client_id,
                client_secret: Secret::new(client_secret),
                scopes,
                id_token_mapping,
                use_pkce,
            },
            NewIdp::Google {
                name,
                client_id,
                client_secret,
                scopes,
            } => core::NewIdp::Google {
                name,
                client_id,
                client_secret: Secret::new(client_secret),
                scopes,
            },
            NewIdp::GitHub {
                name,
                client_id,
                client_secret,
                scopes,
            } => core::NewIdp::GitHub {
                name,
                client_id,
                client_secret: Secret::new(client_secret),
                scopes,
            },
            NewIdp::AzureAd {
                name,
                client_id,
                client_secret,
                tenant_id,
                email_verified,
                scopes,
            } => core::NewIdp::AzureAd {
                name,
                client_id,
                client_secret: Secret::new(client_secret),
                tenant_id,
                email_verified,
                scopes,
            },
            NewIdp::Apple {
                name,
                client_id,
                team_id,
                key_id,
                private_key,
                scopes,
            } => core::NewIdp::Apple {
                name,
                client_id,
                team_id,
                key_id,
                private_key: Secret::new(private_key),
                scopes,
            },
        }
    }
}

/// The org's effective login policy.
#[uniffi::remote(Record)]
pub struct LoginPolicy {
    /// Whether the org has its own policy (else the instance's applies).
    pub custom: bool,
    /// Login with user name and password is allowed.
    pub allow_username_password: bool,
    /// Users may register themselves.
    pub allow_register: bool,
    /// Login with external identity providers is allowed.
    pub allow_external_idp: bool,
    /// Every user must set up a second factor.
    pub force_mfa: bool,
    /// Only local (non-IdP) logins need a second factor.
    pub force_mfa_local_only: bool,
    /// Passwordless login with passkeys is allowed.
    pub passkeys_allowed: bool,
    /// Password reset is hidden in the login.
    pub hide_password_reset: bool,
    /// Unknown login names fail like wrong passwords.
    pub ignore_unknown_usernames: bool,
    /// The second factors users may use.
    pub second_factors: Vec<SecondFactorType>,
    /// The ids of the identity providers offered at login.
    pub idp_ids: Vec<String>,
}

/// Changes to the login policy; fields left `null` stay as they are.
#[uniffi::remote(Record)]
pub struct LoginPolicyUpdate {
    /// Login with user name and password.
    #[uniffi(default = None)]
    pub allow_username_password: Option<bool>,
    /// Self-registration.
    #[uniffi(default = None)]
    pub allow_register: Option<bool>,
    /// Login with external identity providers.
    #[uniffi(default = None)]
    pub allow_external_idp: Option<bool>,
    /// A second factor for every user.
    #[uniffi(default = None)]
    pub force_mfa: Option<bool>,
    /// A second factor for local logins only.
    #[uniffi(default = None)]
    pub force_mfa_local_only: Option<bool>,
    /// Passwordless login with passkeys.
    #[uniffi(default = None)]
    pub passkeys_allowed: Option<bool>,
    /// Hide password reset in the login.
    #[uniffi(default = None)]
    pub hide_password_reset: Option<bool>,
    /// Unknown login names fail like wrong passwords.
    #[uniffi(default = None)]
    pub ignore_unknown_usernames: Option<bool>,
    /// The second factors users may use (replaces the list).
    #[uniffi(default = None)]
    pub second_factors: Option<Vec<SecondFactorType>>,
}

/// The lockout policy: how many wrong passwords and one-time codes lock a
/// user (0: never).
#[uniffi::remote(Record)]
pub struct LockoutPolicy {
    /// Wrong passwords before the user is locked.
    pub max_password_attempts: u32,
    /// Wrong one-time codes before the user is locked.
    pub max_otp_attempts: u32,
}

/// `&str` views of owned strings.
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[uniffi::export]
impl ManagerClient {
    /// Grants a user roles of a project; returns the grant's id.
    ///
    /// # Errors
    /// `InvalidInput` without roles; `AlreadyExists`; `FailedPrecondition`
    /// for a role the project lacks; `PermissionDenied`.
    pub async fn add_grant(
        &self,
        user_id: String,
        project_id: String,
        roles: Vec<String>,
    ) -> Result<String, FfiError> {
        call!(self, |m| async move {
            m.add_grant(&user_id, &project_id, &strs(&roles)).await
        })
    }

    /// Replaces the roles of a grant.
    ///
    /// # Errors
    /// `InvalidInput` without roles; `NotFound`; `PermissionDenied`.
    pub async fn change_grant(
        &self,
        user_id: String,
        grant_id: String,
        roles: Vec<String>,
    ) -> Result<(), FfiError> {
        call!(self, |m| async move {
            m.change_grant(&user_id, &grant_id, &strs(&roles)).await
        })
    }

    /// Revokes a grant.
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn remove_grant(&self, user_id: String, grant_id: String) -> Result<(), FfiError> {
        call!(self, |m| m.remove_grant(&user_id, &grant_id))
    }

    /// The grants of the org's users, of one user when `user_id` is given.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn grants(&self, user_id: Option<String>) -> Result<UserGrantPage, FfiError> {
        call!(self, |m| m.grants(user_id.as_deref())).map(|p| UserGrantPage {
            items: p.items,
            total: p.total,
        })
    }

    /// Makes a user a manager of the org with `ORG_*` roles.
    ///
    /// # Errors
    /// `InvalidInput` for no or non-`ORG_*` roles; `AlreadyExists`;
    /// `FailedPrecondition` for an unknown user; `PermissionDenied`.
    pub async fn add_member(&self, user_id: String, roles: Vec<String>) -> Result<(), FfiError> {
        call!(self, |m| async move {
            m.add_member(&user_id, &strs(&roles)).await
        })
    }

    /// Replaces a member's roles.
    ///
    /// # Errors
    /// `InvalidInput`; `NotFound` when the user is no member; `PermissionDenied`.
    pub async fn change_member(&self, user_id: String, roles: Vec<String>) -> Result<(), FfiError> {
        call!(self, |m| async move {
            m.change_member(&user_id, &strs(&roles)).await
        })
    }

    /// Removes a member (succeeds when the user is none).
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn remove_member(&self, user_id: String) -> Result<(), FfiError> {
        call!(self, |m| m.remove_member(&user_id))
    }

    /// The org's members.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn members(&self) -> Result<MemberPage, FfiError> {
        call!(self, |m| m.members()).map(|p| MemberPage {
            items: p.items,
            total: p.total,
        })
    }

    /// Creates an organization with existing users as its owners; returns
    /// its id. Needs instance rights (`IAM_OWNER`).
    ///
    /// # Errors
    /// `InvalidInput`; `AlreadyExists`; `PermissionDenied`.
    pub async fn create_organization(
        &self,
        name: String,
        owner_ids: Vec<String>,
    ) -> Result<String, FfiError> {
        call!(self, |m| async move {
            m.create_organization(&name, &strs(&owner_ids)).await
        })
    }

    /// Adds an identity provider to the org; returns its id. It is offered
    /// at login after [`activate_idp`](Self::activate_idp).
    ///
    /// # Errors
    /// `InvalidInput` (checked before any request); `PermissionDenied`.
    pub async fn add_idp(&self, idp: NewIdp, options: IdpOptions) -> Result<String, FfiError> {
        let idp = core::NewIdp::from(idp);
        call!(self, |m| m.add_idp(&idp, &options))
    }

    /// The identity providers of the org and the instance.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn idps(&self) -> Result<Vec<Idp>, FfiError> {
        call!(self, |m| m.idps())
    }

    /// Removes one of the org's identity providers.
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn remove_idp(&self, idp_id: String) -> Result<(), FfiError> {
        call!(self, |m| m.remove_idp(&idp_id))
    }

    /// Offers an identity provider at the org's login (creating the org's
    /// own login policy when it has none).
    ///
    /// # Errors
    /// `NotFound`; `AlreadyExists` when it is active; `PermissionDenied`.
    pub async fn activate_idp(&self, idp_id: String) -> Result<(), FfiError> {
        call!(self, |m| m.activate_idp(&idp_id))
    }

    /// Stops offering an identity provider at the org's login.
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn deactivate_idp(&self, idp_id: String) -> Result<(), FfiError> {
        call!(self, |m| m.deactivate_idp(&idp_id))
    }

    /// The org's effective login policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn login_policy(&self) -> Result<LoginPolicy, FfiError> {
        call!(self, |m| m.login_policy())
    }

    /// Changes the org's login policy; returns the new effective policy.
    ///
    /// # Errors
    /// `InvalidInput`; `PermissionDenied`.
    pub async fn set_login_policy(
        &self,
        update: LoginPolicyUpdate,
    ) -> Result<LoginPolicy, FfiError> {
        call!(self, |m| m.set_login_policy(&update))
    }

    /// The org's effective password complexity policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn password_complexity_policy(&self) -> Result<PasswordPolicy, FfiError> {
        call!(self, |m| m.password_complexity_policy())
    }

    /// Sets the org's password complexity policy.
    ///
    /// # Errors
    /// `InvalidInput`; `PermissionDenied`.
    pub async fn set_password_complexity_policy(
        &self,
        policy: PasswordPolicy,
    ) -> Result<(), FfiError> {
        call!(self, |m| m.set_password_complexity_policy(&policy))
    }

    /// The org's effective lockout policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn lockout_policy(&self) -> Result<LockoutPolicy, FfiError> {
        call!(self, |m| m.lockout_policy())
    }

    /// Sets the org's lockout policy.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn set_lockout_policy(&self, policy: LockoutPolicy) -> Result<(), FfiError> {
        call!(self, |m| m.set_lockout_policy(&policy))
    }
}
