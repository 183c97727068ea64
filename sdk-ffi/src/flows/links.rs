//! The signed-in user's links to external identity providers:
//! [`LinksClient`], from [`ZitadelClient::links`](crate::ZitadelClient::links)
//! — list, add (the identity provider in the browser, a loopback redirect
//! bringing the result back), remove.

use super::browser_c::IdpStartArgs;
use crate::c::calls::{CallFuture, args, done, json, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::login::{BrowserAdapter, BrowserLauncher, CancelHandle};
use crate::runtime::run;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use zitadel_sdk::flows::links::IdpLink;

/// A link of the user to an account at an external identity provider.
#[uniffi::remote(Record)]
pub struct IdpLink {
    /// The identity provider's id in ZITADEL.
    pub idp_id: String,
    /// Its name (empty in the answer of [`LinksClient::add`]).
    pub idp_name: String,
    /// The user's id at the provider.
    pub linked_user_id: String,
    /// The user's name at the provider.
    pub linked_user_name: String,
}

/// The signed-in user's links to external identity providers.
#[derive(Debug, uniffi::Object)]
pub struct LinksClient {
    core: zitadel_sdk::Client,
}

#[uniffi::export]
impl ZitadelClient {
    /// Links to external identity providers: list, add, remove.
    pub fn links(&self) -> Arc<LinksClient> {
        Arc::new(LinksClient {
            core: self.core.clone(),
        })
    }
}

#[uniffi::export]
impl LinksClient {
    /// The user's links to external identity providers.
    ///
    /// # Errors
    /// `NotSignedIn`; server errors.
    pub async fn list(&self) -> Result<Vec<IdpLink>, FfiError> {
        let c = self.core.clone();
        run(None, async move { c.links().list().await.map(|p| p.items) }).await
    }

    /// Links an external account: opens the identity provider `idp_id`
    /// through `browser` (a loopback redirect on 127.0.0.1 brings the result
    /// back; waits up to `timeout_secs`), then adds the link to the
    /// signed-in user.
    ///
    /// # Errors
    /// `AccessDenied` when the user cancelled at the provider; `Expired`
    /// when the wait timed out; `Cancelled` when `cancel` fires or the
    /// calling coroutine / task is cancelled; `AlreadyExists` when the
    /// account is linked already.
    pub async fn add(
        &self,
        idp_id: String,
        browser: Arc<dyn BrowserLauncher>,
        timeout_secs: u32,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<IdpLink, FfiError> {
        let c = self.core.clone();
        let token = cancel.map(|c| c.token.child_token()).unwrap_or_default();
        let on_drop = token.clone();
        run(Some(on_drop), async move {
            c.links()
                .add(
                    &idp_id,
                    &BrowserAdapter(browser),
                    Duration::from_secs(timeout_secs.into()),
                    &token,
                )
                .await
        })
        .await
    }

    /// Removes a link.
    ///
    /// # Errors
    /// `NotFound` for an unknown link.
    pub async fn remove(&self, idp_id: String, linked_user_id: String) -> Result<(), FfiError> {
        let c = self.core.clone();
        run(None, async move {
            c.links().remove(&idp_id, &linked_user_id).await
        })
        .await
    }
}

// ----- C: adding a link in two calls (see `browser_c`) -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveArgs {
    idp_id: String,
    linked_user_id: String,
}

/// `links.add_start`: starts the IdP intent and the loopback wait, and
/// returns `{"handle", "url"}` as soon as the URL to open is known.
fn add_start(core: zitadel_sdk::Client, a: IdpStartArgs) -> CallFuture {
    super::browser_c::start("the IdP link", move |browser, token| async move {
        let timeout = Duration::from_secs(a.timeout_secs.into());
        core.links().add(&a.idp_id, &browser, timeout, &token).await
    })
}

/// The C calls `links.*`: `list` → `[{"idp_id","idp_name","linked_user_id",
/// "linked_user_name"}]`; `remove` `{"idp_id","linked_user_id"}`; adding a
/// link takes two calls, as C has no browser callback: `add_start`
/// `{"idp_id","timeout_secs"?}` (default 300) → `{"handle","url"}` — open
/// `url` in the system browser — then `add_finish` `{"handle"}` (best with
/// `zid_call_async`: it waits for the redirect) → the link. Free the handle
/// with `zid_object_free`; freeing it before finishing (or cancelling the
/// `add_finish` task) stops the wait.
pub(crate) fn c_call(
    core: zitadel_sdk::Client,
    name: &str,
    a: serde_json::Value,
) -> Result<CallFuture, FfiError> {
    let l = core.links();
    Ok(match name {
        "list" => Box::pin(async move { json(l.list().await?.items) }),
        "remove" => {
            let r: RemoveArgs = args(a)?;
            Box::pin(async move { done(l.remove(&r.idp_id, &r.linked_user_id).await?) })
        }
        "add_start" => add_start(core, args(a)?),
        "add_finish" => super::browser_c::finish(&a, "the IdP link", |l: IdpLink| json(l))?,
        _ => return Err(unknown_method("links", name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn core() -> zitadel_sdk::Client {
        let Ok(core) = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app").build() else {
            panic!("a loopback client builds");
        };
        core
    }

    #[test]
    fn bad_link_arguments_are_invalid_input() {
        for (m, a) in [
            ("remove", json!({"idp_id": "i"})),
            ("add_start", json!({})),
            ("add_start", json!({"idp_id": "i", "timeout_secs": -5})),
            ("add_finish", json!({})),
            ("add_finish", json!({"handle": 12345})),
            ("add", json!({"idp_id": "i"})),
        ] {
            let e = c_call(core(), m, a).err();
            assert_eq!(e.map(|e| e.code()), Some(3), "{m}");
        }
    }

    #[tokio::test]
    async fn a_link_that_fails_before_the_browser_reports_its_error_and_no_handle() {
        // Not signed in: the core fails before it needs a browser.
        let Ok(call) = c_call(core(), "add_start", json!({"idp_id": "idp"})) else {
            panic!("the arguments fit");
        };
        assert_eq!(call.await.err().map(|e| e.code()), Some(4));
    }
}
