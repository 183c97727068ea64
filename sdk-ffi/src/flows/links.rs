//! The signed-in user's links to external identity providers:
//! [`LinksClient`], from [`ZitadelClient::links`](crate::ZitadelClient::links)
//! — list, add (the identity provider in the browser, a loopback redirect
//! bringing the result back), remove.

use crate::c::calls::{CallFuture, args, done, json, object_get, object_put, unknown_method};
use crate::client::ZitadelClient;
use crate::error::FfiError;
use crate::login::{BrowserAdapter, BrowserLauncher, CancelHandle};
use crate::runtime::run;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use zitadel_sdk::CancellationToken;
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

// ----- C: adding a link in two calls -----

/// The "browser" of a C link: hands the URL to `links.add_start`, which
/// gives it to the app to open; the SDK then waits on its loopback receiver.
struct UrlToCaller(Mutex<Option<oneshot::Sender<String>>>);

#[zitadel_sdk::async_trait]
impl zitadel_sdk::BrowserLauncher for UrlToCaller {
    async fn open(
        &self,
        url: &zitadel_sdk::Url,
        _redirect_uri: &zitadel_sdk::Url,
    ) -> zitadel_sdk::Result<Option<zitadel_sdk::Url>> {
        if let Some(tx) = self.0.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(url.to_string());
        }
        Ok(None)
    }
}

/// A link being added from C (the object of `links.add_start`): the
/// result of the waiting task, and its cancellation, fired when the last
/// holder lets go (the object freed and no `add_finish` running).
#[derive(Clone)]
struct PendingLink(Arc<PendingInner>);

struct PendingInner {
    result: Mutex<Option<oneshot::Receiver<zitadel_sdk::Result<IdpLink>>>>,
    cancel: CancellationToken,
}

impl Drop for PendingInner {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    idp_id: String,
    #[serde(default = "default_timeout")]
    timeout_secs: u32,
}

fn default_timeout() -> u32 {
    300
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveArgs {
    idp_id: String,
    linked_user_id: String,
}

/// `links.add_start`: starts the IdP intent and the loopback wait, and
/// returns `{"handle", "url"}` as soon as the URL to open is known.
fn add_start(core: zitadel_sdk::Client, a: AddArgs) -> CallFuture {
    Box::pin(async move {
        let cancel = CancellationToken::new();
        let (url_tx, url_rx) = oneshot::channel();
        let (res_tx, res_rx) = oneshot::channel();
        let token = cancel.clone();
        // Stops the wait when this call is cancelled before it handed out the handle.
        let guard = cancel.clone().drop_guard();
        tokio::spawn(async move {
            let browser = UrlToCaller(Mutex::new(Some(url_tx)));
            let timeout = Duration::from_secs(a.timeout_secs.into());
            let r = core.links().add(&a.idp_id, &browser, timeout, &token).await;
            let _ = res_tx.send(r);
        });
        match url_rx.await {
            Ok(url) => {
                let pending = PendingLink(Arc::new(PendingInner {
                    result: Mutex::new(Some(res_rx)),
                    cancel: guard.disarm(),
                }));
                let handle = object_put(pending)?;
                Ok(serde_json::json!({"handle": handle, "url": url}))
            }
            // The task ended before a browser was needed: its error.
            Err(_) => match res_rx.await {
                Ok(Err(e)) => Err(e.into()),
                _ => Err(FfiError::internal(
                    "the IdP link ended without opening a browser",
                )),
            },
        }
    })
}

/// `links.add_finish`: waits for the redirect and adds the link.
fn add_finish(a: &serde_json::Value) -> Result<CallFuture, FfiError> {
    let pending: PendingLink = object_get(a)?;
    let rx = pending
        .0
        .result
        .lock()
        .ok()
        .and_then(|mut r| r.take())
        .ok_or_else(|| FfiError::invalid_input("this link was finished already"))?;
    Ok(Box::pin(async move {
        // A cancelled add_finish task cancels the wait.
        let guard = pending.0.cancel.clone().drop_guard();
        let r = rx.await;
        guard.disarm();
        drop(pending);
        match r {
            Ok(r) => json(r?),
            Err(_) => Err(FfiError::new(
                zitadel_sdk::ErrorCode::Cancelled,
                "the IdP link was cancelled",
            )),
        }
    }))
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
        "add_finish" => add_finish(&a)?,
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

    #[tokio::test]
    async fn freeing_a_pending_link_cancels_its_wait_and_finish_runs_once() {
        let (tx, rx) = oneshot::channel::<zitadel_sdk::Result<IdpLink>>();
        let cancel = CancellationToken::new();
        let pending = PendingLink(Arc::new(PendingInner {
            result: Mutex::new(Some(rx)),
            cancel: cancel.clone(),
        }));
        let Ok(h) = object_put(pending) else {
            panic!("stored");
        };
        let a = json!({"handle": h});
        let Ok(finish) = add_finish(&a) else {
            panic!("the handle is valid");
        };
        assert!(add_finish(&a).is_err(), "a second finish is refused");
        let link = IdpLink {
            idp_id: "i".into(),
            idp_name: String::new(),
            linked_user_id: "u".into(),
            linked_user_name: "n".into(),
        };
        let _ = tx.send(Ok(link));
        assert_eq!(
            finish.await.ok().map(|v| v["linked_user_id"].clone()),
            Some(json!("u"))
        );
        assert!(!cancel.is_cancelled(), "held by the table");
        assert_eq!(crate::c::zid_object_free(h), 0);
        assert!(cancel.is_cancelled(), "the last holder let go");
    }
}
