//! Links between the signed-in user and external identity providers
//! (users v2 AddIDPLink, ListIDPLinks, RemoveIDPLink), and the IdP intent
//! in the browser that proves the external account (StartIdentityProviderIntent,
//! RetrieveIdentityProviderIntent).

use super::{Page, list_query, s, total};
use crate::Client;
use crate::api::{Auth, seg};
use crate::error::{Error, ErrorKind, Result};
use crate::loopback::LoopbackReceiver;
use crate::platform::BrowserLauncher;
use crate::secret::Secret;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// A link of the user to an account at an external identity provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpLink {
    /// The identity provider's id in ZITADEL.
    pub idp_id: String,
    /// Its name.
    pub idp_name: String,
    /// The user's id at the provider.
    pub linked_user_id: String,
    /// The user's name at the provider.
    pub linked_user_name: String,
}

/// What an identity provider told about the user, after a finished intent.
#[derive(Clone, Debug, Serialize)]
pub struct IdpIntentResult {
    /// The intent id.
    pub intent_id: String,
    /// The intent token (proof for a session `idpIntent` check).
    pub intent_token: Secret,
    /// The identity provider's id.
    pub idp_id: String,
    /// The user's id at the provider.
    pub external_user_id: String,
    /// The user's name at the provider.
    pub external_user_name: String,
    /// The ZITADEL user already linked to this account, if any.
    pub linked_user_id: Option<String>,
    /// The prefilled AddHumanUser request ZITADEL built from the provider's profile.
    pub(crate) add_human_user: Option<Value>,
}

/// Runs an IdP intent: binds a loopback receiver, starts the intent with
/// success and failure URLs on it (carrying a random `state`), opens the
/// provider in the browser, waits for the redirect, and retrieves the
/// intent's result.
pub(crate) async fn run_intent(
    client: &Client,
    auth: Auth,
    idp_id: &str,
    browser: &dyn BrowserLauncher,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<IdpIntentResult> {
    if idp_id.trim().is_empty() {
        return Err(Error::input("the identity provider id is empty"));
    }
    let template = Url::parse("http://127.0.0.1/idp-callback")
        .map_err(|_| Error::internal("the loopback template"))?;
    let receiver = LoopbackReceiver::bind(&template).await?;
    let state = Secret::new(oauth2::CsrfToken::new_random().secret().clone());
    let mut success = receiver.redirect_uri().clone();
    success
        .query_pairs_mut()
        .append_pair("state", state.expose())
        .append_pair("result", "success");
    let mut failure = receiver.redirect_uri().clone();
    failure
        .query_pairs_mut()
        .append_pair("state", state.expose())
        .append_pair("result", "failure");
    let started: Value = client
        .api(
            auth.clone(),
            Method::POST,
            "/v2/idp_intents",
            Some(json!({"idpId": idp_id,
                        "urls": {"successUrl": success.as_str(), "failureUrl": failure.as_str()}})),
        )
        .await?;
    let auth_url = started
        .get("authUrl")
        .and_then(Value::as_str)
        .and_then(|u| Url::parse(u).ok())
        .filter(crate::is_secure_or_loopback)
        .ok_or_else(|| {
            Error::malformed(
                &client.inner.issuer,
                "the IdP intent has no HTTPS authUrl (only redirect-based providers are supported)",
            )
        })?;
    let back = match browser.open(&auth_url, &success).await? {
        Some(back) => back,
        None => receiver.wait(state.expose(), timeout, cancel).await?,
    };
    let q = |k: &str| {
        back.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    if q("result").as_deref() != Some("success") {
        return Err(ErrorKind::AccessDenied(q("error").map(|e| crate::error::sanitize(&e))).into());
    }
    let (Some(id), Some(token)) = (q("id"), q("token")) else {
        return Err(Error::malformed(
            &client.inner.issuer,
            "the IdP intent came back without an id or token",
        ));
    };
    retrieve_intent(client, auth, &id, Secret::new(token)).await
}

/// RetrieveIdentityProviderIntent.
pub(crate) async fn retrieve_intent(
    client: &Client,
    auth: Auth,
    intent_id: &str,
    token: Secret,
) -> Result<IdpIntentResult> {
    let v: Value = client
        .api(
            auth,
            Method::POST,
            &format!("/v2/idp_intents/{}", seg(intent_id)?),
            Some(json!({"idpIntentToken": token.expose()})),
        )
        .await?;
    let info = v.get("idpInformation").cloned().unwrap_or(Value::Null);
    Ok(IdpIntentResult {
        intent_id: intent_id.to_owned(),
        intent_token: token,
        idp_id: s(&info, "idpId"),
        external_user_id: s(&info, "userId"),
        external_user_name: s(&info, "userName"),
        linked_user_id: super::opt(&v, "userId"),
        add_human_user: v.get("addHumanUser").cloned(),
    })
}

/// The user's IdP links. From [`Client::links`].
#[derive(Clone, Debug)]
pub struct LinksClient(pub(crate) Client);

impl LinksClient {
    /// The user's links to external identity providers.
    ///
    /// # Errors
    /// Not signed in; server errors.
    pub async fn list(&self) -> Result<Page<IdpLink>> {
        let id = self.0.my_id().await?;
        let v: Value = self
            .0
            .api(
                Auth::User,
                Method::POST,
                &format!("/v2/users/{id}/links/_search"),
                Some(json!({"query": list_query(1000)})),
            )
            .await?;
        let items = v
            .get("result")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|l| IdpLink {
                        idp_id: s(l, "idpId"),
                        idp_name: s(l, "idpName"),
                        linked_user_id: s(l, "userId"),
                        linked_user_name: s(l, "userName"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page {
            items,
            total: total(&v),
        })
    }

    /// Links an external account: opens the identity provider in the
    /// browser (a loopback redirect brings the result back), then adds the
    /// link to the signed-in user.
    ///
    /// # Errors
    /// The user cancelled at the provider (`AccessDenied`); the wait timed
    /// out or was cancelled; `AlreadyExists` when the account is linked.
    pub async fn add(
        &self,
        idp_id: &str,
        browser: &dyn BrowserLauncher,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<IdpLink> {
        let id = self.0.my_id().await?;
        let r = run_intent(&self.0, Auth::User, idp_id, browser, timeout, cancel).await?;
        let _: Value = self
            .0
            .api(
                Auth::User,
                Method::POST,
                &format!("/v2/users/{id}/links"),
                Some(
                    json!({"idpLink": {"idpId": r.idp_id, "userId": r.external_user_id,
                                        "userName": r.external_user_name}}),
                ),
            )
            .await?;
        Ok(IdpLink {
            idp_id: r.idp_id,
            idp_name: String::new(),
            linked_user_id: r.external_user_id,
            linked_user_name: r.external_user_name,
        })
    }

    /// Removes a link.
    ///
    /// # Errors
    /// `NotFound` for an unknown link.
    pub async fn remove(&self, idp_id: &str, linked_user_id: &str) -> Result<()> {
        let id = self.0.my_id().await?;
        let _: Value = self
            .0
            .api(
                Auth::User,
                Method::DELETE,
                &format!(
                    "/v2/users/{id}/links/{}/{}",
                    seg(idp_id)?,
                    seg(linked_user_id)?
                ),
                Some(json!({})),
            )
            .await?;
        Ok(())
    }
}
