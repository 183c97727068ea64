//! OpenID Connect discovery (`/.well-known/openid-configuration`).

use crate::error::{ErrorKind, Result};
use crate::http::{Http, require_secure};
use serde::{Deserialize, Serialize};
use url::Url;

/// The parts of the provider's metadata the SDK uses.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProviderMetadata {
    /// The issuer identifier; must equal the configured issuer.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: Url,
    /// Token endpoint.
    pub token_endpoint: Url,
    /// JWKS URI.
    pub jwks_uri: Url,
    /// Userinfo endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<Url>,
    /// Revocation endpoint (RFC 7009).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<Url>,
    /// End-session endpoint (RP-initiated logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<Url>,
    /// Device authorization endpoint (RFC 8628).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<Url>,
    /// Whether the `iss` authorization response parameter is sent (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Signing algorithms for ID tokens.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// PKCE methods.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// The discovery URL for an issuer.
pub(crate) fn discovery_url(issuer: &Url) -> Result<Url> {
    let base = issuer.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/.well-known/openid-configuration"))
        .map_err(|_| crate::Error::config("the issuer is not a valid URL"))
}

/// Whether the metadata's `issuer` is the configured one (a trailing slash
/// on the configured URL is tolerated, nothing else).
pub(crate) fn same_issuer(configured: &Url, found: &str) -> bool {
    let c = configured.as_str();
    found == c || found == c.trim_end_matches('/')
}

impl ProviderMetadata {
    /// Checks the document: issuer equality and secure endpoints.
    pub(crate) fn validate(&self, issuer: &Url) -> Result<()> {
        if !same_issuer(issuer, &self.issuer) {
            return Err(ErrorKind::IssuerMismatch {
                expected: issuer.to_string(),
                found: crate::error::sanitize(&self.issuer),
            }
            .into());
        }
        for u in [
            Some(&self.authorization_endpoint),
            Some(&self.token_endpoint),
            Some(&self.jwks_uri),
            self.userinfo_endpoint.as_ref(),
            self.revocation_endpoint.as_ref(),
            self.end_session_endpoint.as_ref(),
            self.device_authorization_endpoint.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            require_secure(u)?;
        }
        Ok(())
    }

    /// Fetches and validates the metadata of `issuer`.
    pub(crate) async fn fetch(http: &Http, issuer: &Url) -> Result<Self> {
        let url = discovery_url(issuer)?;
        let meta: ProviderMetadata = http.get_json(&url).await?;
        meta.validate(issuer)?;
        Ok(meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(issuer: &str) -> ProviderMetadata {
        let j = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://idp.example/oauth/v2/authorize",
            "token_endpoint": "https://idp.example/oauth/v2/token",
            "jwks_uri": "https://idp.example/oauth/v2/keys",
            "unknown_field": [1, 2, 3]
        });
        serde_json::from_value(j).unwrap_or_else(|e| panic!("{e}"))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn discovery_url_appends_well_known_path() {
        assert_eq!(
            discovery_url(&url("https://idp.example/"))
                .map(|u| u.to_string())
                .ok(),
            Some("https://idp.example/.well-known/openid-configuration".into())
        );
        assert_eq!(
            discovery_url(&url("https://idp.example/tenant"))
                .map(|u| u.to_string())
                .ok(),
            Some("https://idp.example/tenant/.well-known/openid-configuration".into())
        );
    }

    #[test]
    fn metadata_with_the_configured_issuer_is_accepted() {
        assert!(
            meta("https://idp.example")
                .validate(&url("https://idp.example"))
                .is_ok()
        );
    }

    #[test]
    fn metadata_naming_another_issuer_is_rejected() {
        let e = meta("https://evil.example")
            .validate(&url("https://idp.example"))
            .err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Misconfigured));
    }

    #[test]
    fn metadata_with_an_insecure_endpoint_is_rejected() {
        let mut m = meta("https://idp.example");
        m.token_endpoint = url("http://idp.example/token");
        let e = m.validate(&url("https://idp.example")).err();
        assert_eq!(e.map(|e| e.code()), Some(crate::ErrorCode::Misconfigured));
    }
}
