//! The tokio runtime this crate owns, and the bridge from its tasks to the
//! futures handed to Kotlin, Swift and the C ABI.

use crate::error::FfiError;
use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::Runtime;
use zitadel_sdk::CancellationToken;

/// The SDK's runtime: two worker threads, created on first use.
pub(crate) fn runtime() -> Result<&'static Runtime, FfiError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("zitadel-sdk")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|_| FfiError::internal("the SDK runtime cannot be started"))
}

/// Fires a cancellation token when dropped, unless disarmed.
struct CancelOnDrop(Option<CancellationToken>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.cancel();
        }
    }
}

/// Runs `fut` on the SDK runtime and awaits it. When the returned future is
/// dropped before the task finished, `cancel_on_drop` (if any) is cancelled;
/// the task itself is never aborted, so a refresh in flight still stores
/// the rotated refresh token.
pub(crate) async fn run<T, F>(
    cancel_on_drop: Option<CancellationToken>,
    fut: F,
) -> Result<T, FfiError>
where
    T: Send + 'static,
    F: Future<Output = zitadel_sdk::Result<T>> + Send + 'static,
{
    let mut guard = CancelOnDrop(cancel_on_drop);
    let joined = runtime()?.spawn(fut).await;
    guard.0 = None;
    match joined {
        Ok(result) => result.map_err(FfiError::from),
        Err(_) => Err(FfiError::internal("an SDK task failed unexpectedly")),
    }
}

/// Runs `fut` to completion on the SDK runtime, blocking the calling thread
/// (the C ABI's blocking calls). Must not be called from an SDK task.
pub(crate) fn block_on<T, F>(fut: F) -> Result<T, FfiError>
where
    T: Send + 'static,
    F: Future<Output = zitadel_sdk::Result<T>> + Send + 'static,
{
    let rt = runtime()?;
    match rt.block_on(rt.spawn(fut)) {
        Ok(result) => result.map_err(FfiError::from),
        Err(_) => Err(FfiError::internal("an SDK task failed unexpectedly")),
    }
}
