//! Browser steps for C in two calls. A C app has no browser callback, so a
//! flow that opens the system browser and waits for a loopback redirect
//! (adding an IdP link, registering with an IdP) is split: `*_start`
//! returns `{"handle", "url"}` as soon as the URL to open is known, and
//! `*_finish` `{"handle"}` waits for the flow's result (best with
//! `zid_call_async`). Freeing the handle before finishing, or cancelling the
//! finish task, stops the wait.

use crate::c::calls::{CallFuture, object_get, object_put};
use crate::error::FfiError;
use serde_json::Value;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use zitadel_sdk::CancellationToken;

/// The arguments of a `*_start` call that opens an identity provider:
/// `{"idp_id", "timeout_secs"?}` (the wait for the redirect, default 300 s).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdpStartArgs {
    pub idp_id: String,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u32,
}

fn default_timeout() -> u32 {
    300
}

/// The "browser" of a C flow: hands the URL to the `*_start` call, which
/// gives it to the app to open; the SDK then waits on its loopback receiver.
pub(crate) struct UrlToCaller(Mutex<Option<oneshot::Sender<String>>>);

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

/// A flow waiting for its redirect (the object of a `*_start` call): the
/// result of the waiting task, and its cancellation, fired when the last
/// holder lets go (the object freed and no `*_finish` running).
pub(crate) struct Pending<T>(Arc<PendingInner<T>>);

impl<T> Clone for Pending<T> {
    fn clone(&self) -> Self {
        Pending(self.0.clone())
    }
}

pub(crate) struct PendingInner<T> {
    result: Mutex<Option<oneshot::Receiver<zitadel_sdk::Result<T>>>>,
    cancel: CancellationToken,
}

impl<T> Drop for PendingInner<T> {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// `*_start`: runs `flow` (given the browser and the cancellation token) in
/// a task and returns `{"handle", "url"}` once it asked for a browser; the
/// flow's error when it ended before that.
pub(crate) fn start<T, F, Fut>(what: &'static str, flow: F) -> CallFuture
where
    T: Send + 'static,
    F: FnOnce(UrlToCaller, CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = zitadel_sdk::Result<T>> + Send + 'static,
{
    Box::pin(async move {
        let cancel = CancellationToken::new();
        let (url_tx, url_rx) = oneshot::channel();
        let (res_tx, res_rx) = oneshot::channel();
        // Stops the wait when this call is cancelled before it handed out the handle.
        let guard = cancel.clone().drop_guard();
        let fut = flow(UrlToCaller(Mutex::new(Some(url_tx))), cancel);
        // Boxed and erased: one tokio task type for every flow.
        let task: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            let _ = res_tx.send(fut.await);
        });
        tokio::spawn(task);
        match url_rx.await {
            Ok(url) => {
                let pending = Pending(Arc::new(PendingInner {
                    result: Mutex::new(Some(res_rx)),
                    cancel: guard.disarm(),
                }));
                let handle = object_put(pending)?;
                Ok(serde_json::json!({"handle": handle, "url": url}))
            }
            // The task ended before a browser was needed: its error.
            Err(_) => match res_rx.await {
                Ok(Err(e)) => Err(e.into()),
                _ => Err(FfiError::internal(format!(
                    "{what} ended without opening a browser"
                ))),
            },
        }
    })
}

/// `*_finish`: waits for the redirect and the flow's result, written by `to_json`.
pub(crate) fn finish<T: Send + 'static>(
    a: &Value,
    what: &'static str,
    to_json: fn(T) -> Result<Value, FfiError>,
) -> Result<CallFuture, FfiError> {
    let pending: Pending<T> = object_get(a)?;
    let rx = pending
        .0
        .result
        .lock()
        .ok()
        .and_then(|mut r| r.take())
        .ok_or_else(|| FfiError::invalid_input(format!("{what} was finished already")))?;
    Ok(Box::pin(async move {
        // A cancelled finish task cancels the wait.
        let guard = pending.0.cancel.clone().drop_guard();
        let r = rx.await;
        guard.disarm();
        drop(pending);
        match r {
            Ok(r) => to_json(r?),
            Err(_) => Err(FfiError::new(
                zitadel_sdk::ErrorCode::Cancelled,
                format!("{what} was cancelled"),
            )),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pending(cancel: &CancellationToken) -> (oneshot::Sender<zitadel_sdk::Result<String>>, u64) {
        let (tx, rx) = oneshot::channel();
        let pending = Pending(Arc::new(PendingInner {
            result: Mutex::new(Some(rx)),
            cancel: cancel.clone(),
        }));
        let Ok(h) = object_put(pending) else {
            panic!("stored");
        };
        (tx, h)
    }

    fn text(s: String) -> Result<Value, FfiError> {
        Ok(json!({"text": s}))
    }

    #[tokio::test]
    async fn freeing_a_pending_flow_cancels_its_wait_and_finish_runs_once() {
        let cancel = CancellationToken::new();
        let (tx, h) = pending(&cancel);
        let a = json!({"handle": h});
        let Ok(waiting) = finish(&a, "the flow", text) else {
            panic!("the handle is valid");
        };
        assert!(
            finish::<String>(&a, "the flow", text).is_err(),
            "a second finish is refused"
        );
        let _ = tx.send(Ok("done".into()));
        assert_eq!(waiting.await.ok(), Some(json!({"text": "done"})));
        assert!(!cancel.is_cancelled(), "held by the table");
        assert_eq!(crate::c::zid_object_free(h), 0);
        assert!(cancel.is_cancelled(), "the last holder let go");
    }

    #[tokio::test]
    async fn a_pending_flow_of_another_type_is_not_found_under_its_handle() {
        let cancel = CancellationToken::new();
        let (_tx, h) = pending(&cancel);
        let other = finish::<u32>(&json!({"handle": h}), "the flow", |n| Ok(json!(n)));
        assert_eq!(other.err().map(|e| e.code()), Some(3));
        assert_eq!(crate::c::zid_object_free(h), 0);
    }
}
