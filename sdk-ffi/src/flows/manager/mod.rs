//! Manager operations: [`ManagerClient`], from
//! [`ZitadelClient::manager`](crate::ZitadelClient::manager) (the signed-in
//! user's token, which must carry manager roles) or from a
//! [`ServiceAccount`] ([`ZitadelClient::service_account`](crate::ZitadelClient::service_account):
//! a personal access token, client credentials or a key file). Users
//! ([`users`]), grants, members, organizations, identity providers and
//! policies ([`org`]); the C calls `manager.*` ([`c`]). A caller without
//! the permission gets `PermissionDenied` (13).

mod c;
pub mod org;
pub mod users;

pub(crate) use c::c_call;

use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::runtime::run;
use std::sync::Arc;
use zitadel_sdk::Secret;
use zitadel_sdk::manager as core;

/// Manager operations on the caller's organization (or the one chosen
/// with [`in_org`](Self::in_org)).
#[derive(Debug, Clone, uniffi::Object)]
pub struct ManagerClient {
    pub(crate) core: core::ManagerClient,
}

#[uniffi::export]
impl ZitadelClient {
    /// Manager operations with the signed-in user's token (which must
    /// carry manager roles such as `ORG_OWNER` or `ORG_USER_MANAGER`).
    pub fn manager(&self) -> Arc<ManagerClient> {
        Arc::new(ManagerClient {
            core: self.core.manager(),
        })
    }

    /// A service user on this client's issuer, authenticated with
    /// `credential`. Makes no request until a token is needed.
    ///
    /// # Errors
    /// `InvalidInput` for a key file that is not a ZITADEL service-account
    /// key file with an RSA private key.
    pub fn service_account(
        &self,
        credential: ServiceCredential,
    ) -> Result<Arc<ServiceAccount>, FfiError> {
        Ok(Arc::new(ServiceAccount {
            core: self.core.service_account(credential.try_into()?),
        }))
    }
}

#[uniffi::export]
impl ManagerClient {
    /// The same caller acting on the organization `org_id` instead of its
    /// own (it needs the rights there).
    pub fn in_org(&self, org_id: String) -> Arc<ManagerClient> {
        Arc::new(ManagerClient {
            core: self.core.clone().in_org(org_id),
        })
    }
}

/// How a service user authenticates. Holds secrets: do not log it. In C
/// JSON: `{"pat": {"token"}}`, `{"client_credentials": {"username",
/// "secret"}}` or `{"key_file": {"key_file_json"}}`.
#[derive(Clone, serde::Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceCredential {
    /// A personal access token, sent as it is.
    Pat {
        /// The token.
        token: String,
    },
    /// The `client_credentials` grant with the service user's user name
    /// and secret.
    ClientCredentials {
        /// The service user's user name.
        username: String,
        /// The client secret.
        secret: String,
    },
    /// The JWT profile with a key file (the JSON ZITADEL issues:
    /// `{"type":"serviceaccount","keyId","key","userId"}`).
    KeyFile {
        /// The key file's JSON.
        key_file_json: String,
    },
}

impl std::fmt::Debug for ServiceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            ServiceCredential::Pat { .. } => "Pat",
            ServiceCredential::ClientCredentials { .. } => "ClientCredentials",
            ServiceCredential::KeyFile { .. } => "KeyFile",
        };
        f.debug_struct("ServiceCredential")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl TryFrom<ServiceCredential> for core::ServiceCredential {
    type Error = FfiError;

    fn try_from(c: ServiceCredential) -> Result<Self, FfiError> {
        Ok(match c {
            ServiceCredential::Pat { token } => core::ServiceCredential::Pat(Secret::new(token)),
            ServiceCredential::ClientCredentials { username, secret } => {
                core::ServiceCredential::ClientCredentials {
                    username,
                    secret: Secret::new(secret),
                }
            }
            ServiceCredential::KeyFile { key_file_json } => {
                core::ServiceCredential::KeyFile(core::ServiceKey::from_json(&key_file_json)?)
            }
        })
    }
}

/// A service user signed in to ZITADEL's APIs; its token is cached until
/// shortly before it expires.
#[derive(Debug, uniffi::Object)]
pub struct ServiceAccount {
    pub(crate) core: core::ServiceAccount,
}

#[uniffi::export]
impl ServiceAccount {
    /// Manager operations with this service user's rights.
    pub fn manager(&self) -> Arc<ManagerClient> {
        Arc::new(ManagerClient {
            core: self.core.manager(),
        })
    }

    /// A valid access token (the PAT itself, or a cached token from the
    /// token endpoint). A secret: do not log it.
    ///
    /// # Errors
    /// OAuth errors of the token endpoint (a wrong secret or key); network errors.
    pub async fn access_token(&self) -> Result<String, FfiError> {
        let sa = self.core.clone();
        run(None, async move { sa.access_token().await })
            .await
            .map(|t| t.expose().to_owned())
    }
}
