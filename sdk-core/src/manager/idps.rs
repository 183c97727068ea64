//! The org's identity providers (management v1): add a generic OIDC,
//! Google, GitHub, Azure AD or Apple provider, list and remove them, and
//! activate them in the org's login policy.

use super::{ManagerClient, id_of, items};
use crate::api::seg;
use crate::error::{Error, Result};
use crate::flows::s;
use crate::secret::Secret;
use base64::Engine;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What users may do with an identity provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl Default for IdpOptions {
    /// Linking and creation allowed, nothing automatic.
    fn default() -> Self {
        IdpOptions {
            linking_allowed: true,
            creation_allowed: true,
            auto_creation: false,
            auto_update: false,
        }
    }
}

/// A new identity provider. `Debug` hides secrets.
#[derive(Clone, Debug)]
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
        client_secret: Secret,
        /// Scopes (default at ZITADEL: `openid profile email`).
        scopes: Vec<String>,
        /// Map the user from the ID token instead of userinfo.
        id_token_mapping: bool,
        /// Use PKCE.
        use_pkce: bool,
    },
    /// Google.
    Google {
        /// Name shown on the login button.
        name: String,
        /// OAuth client id.
        client_id: String,
        /// OAuth client secret.
        client_secret: Secret,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// GitHub (github.com).
    GitHub {
        /// Name shown on the login button.
        name: String,
        /// OAuth app client id.
        client_id: String,
        /// OAuth app client secret.
        client_secret: Secret,
        /// Scopes.
        scopes: Vec<String>,
    },
    /// Microsoft Entra ID (Azure AD).
    AzureAd {
        /// Name shown on the login button.
        name: String,
        /// Application (client) id.
        client_id: String,
        /// Client secret.
        client_secret: Secret,
        /// The tenant id; `None` for the common (multi-tenant) endpoint.
        tenant_id: Option<String>,
        /// Trust the provider's email addresses as verified.
        email_verified: bool,
        /// Scopes.
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
        private_key: Secret,
        /// Scopes.
        scopes: Vec<String>,
    },
}

impl NewIdp {
    /// The management v1 path and request body.
    fn request(&self, options: &IdpOptions) -> Result<(&'static str, Value)> {
        let (path, name, client_id, mut body) = match self {
            NewIdp::GenericOidc {
                name,
                issuer,
                client_id,
                client_secret,
                scopes,
                id_token_mapping,
                use_pkce,
            } => {
                let u = url::Url::parse(issuer)
                    .map_err(|_| Error::input("the issuer is not a valid URL"))?;
                if !crate::is_secure_or_loopback(&u) {
                    return Err(Error::input("the issuer must be HTTPS (or loopback HTTP)"));
                }
                (
                    "/idps/generic_oidc",
                    name,
                    client_id,
                    json!({"issuer": issuer, "clientSecret": secret(client_secret)?,
                           "scopes": scopes, "isIdTokenMapping": id_token_mapping,
                           "usePkce": use_pkce}),
                )
            }
            NewIdp::Google {
                name,
                client_id,
                client_secret,
                scopes,
            } => (
                "/idps/google",
                name,
                client_id,
                json!({"clientSecret": secret(client_secret)?, "scopes": scopes}),
            ),
            NewIdp::GitHub {
                name,
                client_id,
                client_secret,
                scopes,
            } => (
                "/idps/github",
                name,
                client_id,
                json!({"clientSecret": secret(client_secret)?, "scopes": scopes}),
            ),
            NewIdp::AzureAd {
                name,
                client_id,
                client_secret,
                tenant_id,
                email_verified,
                scopes,
            } => {
                let tenant = match tenant_id.as_deref().filter(|t| !t.is_empty()) {
                    Some(t) => json!({"tenantId": t}),
                    None => json!({"tenantType": "AZURE_AD_TENANT_TYPE_COMMON"}),
                };
                (
                    "/idps/azure",
                    name,
                    client_id,
                    json!({"clientSecret": secret(client_secret)?, "tenant": tenant,
                           "emailVerified": email_verified, "scopes": scopes}),
                )
            }
            NewIdp::Apple {
                name,
                client_id,
                team_id,
                key_id,
                private_key,
                scopes,
            } => {
                if team_id.is_empty() || key_id.is_empty() || private_key.expose().is_empty() {
                    return Err(Error::input("team id, key id and private key are required"));
                }
                let key = base64::engine::general_purpose::STANDARD.encode(private_key.expose());
                (
                    "/idps/apple",
                    name,
                    client_id,
                    json!({"teamId": team_id, "keyId": key_id, "privateKey": key,
                           "scopes": scopes}),
                )
            }
        };
        if name.trim().is_empty() || client_id.trim().is_empty() {
            return Err(Error::input("the name and the client id are required"));
        }
        body["name"] = json!(name.trim());
        body["clientId"] = json!(client_id.trim());
        body["providerOptions"] = json!({
            "isLinkingAllowed": options.linking_allowed,
            "isCreationAllowed": options.creation_allowed,
            "isAutoCreation": options.auto_creation,
            "isAutoUpdate": options.auto_update,
        });
        Ok((path, body))
    }
}

fn secret(s: &Secret) -> Result<&str> {
    if s.expose().is_empty() {
        return Err(Error::input("the client secret is empty"));
    }
    Ok(s.expose())
}

/// An identity provider the org can use (its own or the instance's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl Idp {
    fn from_json(v: &Value) -> Self {
        Idp {
            id: s(v, "id"),
            name: s(v, "name"),
            kind: s(v, "type"),
            instance: s(v, "owner") == "IDP_OWNER_TYPE_SYSTEM",
        }
    }

    fn owner_type(&self) -> &'static str {
        if self.instance {
            "IDP_OWNER_TYPE_SYSTEM"
        } else {
            "IDP_OWNER_TYPE_ORG"
        }
    }
}

impl ManagerClient {
    /// Adds an identity provider to the org; returns its id. It is not
    /// offered at login until [`activate_idp`](Self::activate_idp).
    ///
    /// # Errors
    /// `InvalidInput` (checked before any request); `PermissionDenied`.
    pub async fn add_idp(&self, idp: &NewIdp, options: &IdpOptions) -> Result<String> {
        let (path, body) = idp.request(options)?;
        let v = self.v1(Method::POST, path, Some(body)).await?;
        id_of(&v, "id")
    }

    /// The identity providers of the org and the instance.
    ///
    /// # Errors
    /// `PermissionDenied`.
    pub async fn idps(&self) -> Result<Vec<Idp>> {
        let v = self.v1_search("/idps/templates/_search", None).await?;
        Ok(items(&v, "result", Idp::from_json))
    }

    /// Removes one of the org's identity providers (also from the login
    /// policy and the users' links).
    ///
    /// # Errors
    /// `NotFound`; `PermissionDenied`.
    pub async fn remove_idp(&self, idp_id: &str) -> Result<()> {
        let path = format!("/idps/templates/{}", seg(idp_id)?);
        self.v1(Method::DELETE, &path, None).await.map(drop)
    }

    /// Offers an identity provider (the org's or the instance's) at the
    /// org's login: creates the org's own login policy from the inherited
    /// one when it has none, and allows external IdPs in it.
    ///
    /// # Errors
    /// `NotFound` for an unknown IdP; `AlreadyExists` when it is active;
    /// `PermissionDenied`.
    pub async fn activate_idp(&self, idp_id: &str) -> Result<()> {
        seg(idp_id)?;
        let idp = self
            .idps()
            .await?
            .into_iter()
            .find(|i| i.id == idp_id)
            .ok_or_else(|| Error::host(crate::ErrorCode::NotFound, "no such identity provider"))?;
        let link = json!({"idpId": idp.id, "ownerType": idp.owner_type()});
        if self.ensure_custom_login_policy(Some(&link)).await? {
            return Ok(());
        }
        self.v1(Method::POST, "/policies/login/idps", Some(link))
            .await
            .map(drop)
    }

    /// Stops offering an identity provider at the org's login.
    ///
    /// # Errors
    /// `NotFound` when it is not active or the org has no own login
    /// policy; `PermissionDenied`.
    pub async fn deactivate_idp(&self, idp_id: &str) -> Result<()> {
        let path = format!("/policies/login/idps/{}", seg(idp_id)?);
        self.v1(Method::DELETE, &path, None).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_goes_to_its_path_with_the_options() {
        let oidc = NewIdp::GenericOidc {
            name: "Corp".into(),
            issuer: "https://login.corp.example".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            scopes: vec!["openid".into()],
            id_token_mapping: true,
            use_pkce: false,
        };
        let (path, body) = oidc.request(&IdpOptions::default()).unwrap();
        assert_eq!(path, "/idps/generic_oidc");
        assert_eq!(body["providerOptions"]["isCreationAllowed"], true);
        assert_eq!(body["isIdTokenMapping"], true);
        let azure = NewIdp::AzureAd {
            name: "Entra".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            tenant_id: None,
            email_verified: true,
            scopes: vec![],
        };
        let (path, body) = azure.request(&IdpOptions::default()).unwrap();
        assert_eq!(path, "/idps/azure");
        assert_eq!(body["tenant"]["tenantType"], "AZURE_AD_TENANT_TYPE_COMMON");
        let insecure = NewIdp::GenericOidc {
            name: "X".into(),
            issuer: "http://idp.example".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s"),
            scopes: vec![],
            id_token_mapping: false,
            use_pkce: true,
        };
        assert!(insecure.request(&IdpOptions::default()).is_err());
        assert!(!format!("{insecure:?}").contains("\"s\""));
    }
}
