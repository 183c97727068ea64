//! The C ABI, for game engines and desktop apps.
//!
//! - Objects are opaque 64-bit handles ([`ZidClient`], [`ZidDevice`],
//!   [`ZidTask`]) from handle tables with generation counters: a freed or
//!   forged handle is answered with [`ZID_ERR_INVALID_INPUT`], never a crash.
//! - Every function returns a status: `0` ([`ZID_OK`]) or one of the public
//!   error codes of sdk-core (`1`–`21`, the same numbers as in Kotlin and
//!   Swift); [`zid_task_poll`] also returns [`ZID_PENDING`] (`-1`).
//! - Results and errors are written to an optional `char **out`: JSON for
//!   structured values (`{"code":5,"name":"session_expired","message":"..."}`
//!   for errors), a plain string for a token or URL. Free it with
//!   [`zid_string_free`].
//! - Blocking calls run on the SDK's runtime and block the calling thread;
//!   the `*_async` calls return a [`ZidTask`] to poll each frame, cancel and free.
//!   No callback ever runs on a foreign thread.
//! - No panic crosses the boundary: every body runs under `catch_unwind`
//!   and a panic becomes [`ZID_ERR_INTERNAL`].
#![allow(unsafe_code)]

pub mod calls;
mod handles;

pub use calls::{ZidObject, zid_call, zid_call_async, zid_object_free};

use crate::client::ClientConfig;
use crate::device::DeviceLogin;
use crate::error::FfiError;
use crate::login::LoginOptions;
use crate::runtime::{block_on, runtime};
use crate::session::SessionInfo;
use handles::Table;
use serde::Deserialize;
use std::ffi::{CStr, CString, c_char};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use zitadel_sdk::CancellationToken;

/// A client handle, from [`zid_client_new`]; free it with [`zid_client_free`].
pub type ZidClient = u64;
/// A device login handle, from [`zid_device_start`]; free it with [`zid_device_free`].
pub type ZidDevice = u64;
/// An asynchronous call, from a `*_async` function; free it with [`zid_task_free`].
pub type ZidTask = u64;

/// Success.
pub const ZID_OK: i32 = 0;
/// [`zid_task_poll`]: the task has not finished yet.
pub const ZID_PENDING: i32 = -1;
/// A bug or unexpected state in the SDK (a caught panic, too).
pub const ZID_ERR_INTERNAL: i32 = 1;
/// A transient network or server problem. Retry later.
pub const ZID_ERR_RETRY_LATER: i32 = 2;
/// Invalid input: a null or non-UTF-8 argument, bad JSON, an unknown or freed handle.
pub const ZID_ERR_INVALID_INPUT: i32 = 3;
/// Not signed in.
pub const ZID_ERR_NOT_SIGNED_IN: i32 = 4;
/// The server ended the session. Sign in again.
pub const ZID_ERR_SESSION_EXPIRED: i32 = 5;
/// Cancelled ([`zid_task_cancel`]).
pub const ZID_ERR_CANCELLED: i32 = 6;
/// The SDK is configured wrongly.
pub const ZID_ERR_MISCONFIGURED: i32 = 7;
/// The server refused the request.
pub const ZID_ERR_SERVER_REJECTED: i32 = 8;
/// The server's answer is malformed or failed a security check.
pub const ZID_ERR_INVALID_SERVER_RESPONSE: i32 = 9;
/// The token store failed.
pub const ZID_ERR_STORAGE: i32 = 10;
/// The user did not finish in time.
pub const ZID_ERR_EXPIRED: i32 = 11;
/// The user or the server denied the authorization.
pub const ZID_ERR_ACCESS_DENIED: i32 = 12;
/// The caller lacks the permission.
pub const ZID_ERR_PERMISSION_DENIED: i32 = 13;
/// The user, session or other object does not exist.
pub const ZID_ERR_NOT_FOUND: i32 = 14;
/// The object exists already.
pub const ZID_ERR_ALREADY_EXISTS: i32 = 15;
/// The user is locked.
pub const ZID_ERR_USER_LOCKED: i32 = 16;
/// A one-time or verification code is wrong.
pub const ZID_ERR_WRONG_CODE: i32 = 17;
/// A one-time or verification code has expired.
pub const ZID_ERR_CODE_EXPIRED: i32 = 18;
/// The password does not meet the complexity policy.
pub const ZID_ERR_PASSWORD_POLICY: i32 = 19;
/// The login name or password is wrong.
pub const ZID_ERR_INVALID_CREDENTIALS: i32 = 20;
/// The object is not in a state that allows this.
pub const ZID_ERR_FAILED_PRECONDITION: i32 = 21;

static CLIENTS: Table<zitadel_sdk::Client> = Table::new(1);
static DEVICES: Table<DeviceLogin> = Table::new(2);
static TASKS: Table<Task> = Table::new(3);

/// An asynchronous call: its result once finished, and its cancellation.
struct Task {
    result: Mutex<Option<(i32, String)>>,
    cancel: CancellationToken,
}

type Outcome = Result<String, FfiError>;

fn status_of(e: &FfiError) -> i32 {
    i32::from(e.code())
}

fn bad_handle(what: &str) -> FfiError {
    FfiError::invalid_input(format!(
        "the {what} handle is not valid (freed or never issued)"
    ))
}

/// Writes `s` to `out` (when not null) as a string the caller frees.
///
/// # Safety
/// `out` is null or valid for one pointer write.
unsafe fn put(out: *mut *mut c_char, s: String) {
    if out.is_null() {
        return;
    }
    // JSON, URLs and tokens hold no NUL; should one ever, the caller gets "".
    let c = CString::new(s).unwrap_or_default();
    // SAFETY: the caller guarantees `out` is valid for a write.
    unsafe { *out = c.into_raw() };
}

/// The status of an outcome, and what goes to `out`: the result, or the error JSON.
fn status_and_text(outcome: Outcome) -> (i32, String) {
    match outcome {
        Ok(s) => (ZID_OK, s),
        Err(e) => (status_of(&e), e.to_json()),
    }
}

/// Runs an ABI body: catches panics, writes the result or error to `out`
/// and returns the status.
fn guard(out: *mut *mut c_char, body: impl FnOnce() -> Outcome) -> i32 {
    if !out.is_null() {
        // SAFETY: the caller guarantees `out` is valid for a write.
        unsafe { *out = std::ptr::null_mut() };
    }
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(FfiError::internal("the SDK panicked")));
    let (status, text) = status_and_text(outcome);
    // SAFETY: as above.
    unsafe { put(out, text) };
    status
}

/// A required string argument.
///
/// # Safety
/// `p` is null or a NUL-terminated string valid for reads.
unsafe fn arg(p: *const c_char, name: &str) -> Result<String, FfiError> {
    if p.is_null() {
        return Err(FfiError::invalid_input(format!("{name} is null")));
    }
    // SAFETY: the caller guarantees a valid NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str()
        .map(str::to_owned)
        .map_err(|_| FfiError::invalid_input(format!("{name} is not UTF-8")))
}

/// An optional string argument (null is `None`).
///
/// # Safety
/// As [`arg`].
unsafe fn opt_arg(p: *const c_char, name: &str) -> Result<Option<String>, FfiError> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded.
        unsafe { arg(p, name) }.map(Some)
    }
}

fn client(handle: ZidClient) -> Result<zitadel_sdk::Client, FfiError> {
    CLIENTS
        .get(handle)
        .map(|c| (*c).clone())
        .ok_or_else(|| bad_handle("client"))
}

fn session_json(s: zitadel_sdk::SessionInfo) -> String {
    SessionInfo::from(s).to_json()
}

/// Writes a handle to `out_handle` (must not be null).
///
/// # Safety
/// `out_handle` is null or valid for one write.
unsafe fn put_handle(out_handle: *mut u64, handle: Option<u64>) -> Result<(), FfiError> {
    let h = handle.ok_or_else(|| FfiError::internal("the handle table is unavailable"))?;
    // SAFETY: checked for null by the callers before any work is done.
    unsafe { *out_handle = h };
    Ok(())
}

/// A client call as the C ABI runs it: its result as the text written to `out`.
type Call = std::pin::Pin<Box<dyn Future<Output = zitadel_sdk::Result<String>> + Send>>;

/// The shape of every blocking client call: looks up the handle, builds the
/// call (`make` may parse arguments and fail), runs it on the SDK runtime
/// while blocking this thread, and writes the result or error to `out`.
fn blocking(
    handle: ZidClient,
    out: *mut *mut c_char,
    make: impl FnOnce(zitadel_sdk::Client) -> Result<Call, FfiError>,
) -> i32 {
    guard(out, || block_on(make(client(handle)?)?))
}

/// The shape of every asynchronous client call: as [`blocking`], but the
/// call runs as a task whose handle is written to `out_task`.
fn asynchronous(
    handle: ZidClient,
    out_task: *mut ZidTask,
    out_error: *mut *mut c_char,
    make: impl FnOnce(zitadel_sdk::Client) -> Call,
) -> i32 {
    guard(out_error, || {
        let call = make(client(handle)?);
        spawn_task(out_task, CancellationToken::new(), async move {
            call.await.map_err(FfiError::from)
        })
    })
}

fn refresh_call(c: zitadel_sdk::Client) -> Call {
    Box::pin(async move { c.refresh().await.map(session_json) })
}

fn access_token_call(c: zitadel_sdk::Client) -> Call {
    Box::pin(async move { c.access_token().await.map(|t| t.expose().to_owned()) })
}

/// Starts `fut` as a task and writes its handle.
fn spawn_task<F>(out_task: *mut ZidTask, cancel: CancellationToken, fut: F) -> Outcome
where
    F: Future<Output = Outcome> + Send + 'static,
{
    spawn_boxed(out_task, cancel, Box::pin(fut))
}

/// [`spawn_task`] without its type parameter: the two tokio tasks below are
/// instantiated once, not once per C function.
fn spawn_boxed(
    out_task: *mut ZidTask,
    cancel: CancellationToken,
    fut: std::pin::Pin<Box<dyn Future<Output = Outcome> + Send>>,
) -> Outcome {
    if out_task.is_null() {
        return Err(FfiError::invalid_input("out_task is null"));
    }
    let rt = runtime()?;
    let task = Arc::new(Task {
        result: Mutex::new(None),
        cancel,
    });
    let handle = TASKS.insert_arc(task.clone());
    // SAFETY: checked for null above.
    unsafe { put_handle(out_task, handle)? };
    rt.spawn(async move {
        let outcome = match tokio::spawn(fut).await {
            Ok(o) => o,
            Err(_) => Err(FfiError::internal("an SDK task failed unexpectedly")),
        };
        if let Ok(mut r) = task.result.lock() {
            *r = Some(status_and_text(outcome));
        }
    });
    Ok(String::new())
}

// ----- client -----

/// The client configuration of [`zid_client_new`], as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CConfig {
    issuer: String,
    client_id: String,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(default)]
    organization_domain: Option<String>,
    #[serde(default)]
    ui_locales: Vec<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    http_timeout_secs: Option<u32>,
    #[serde(default)]
    refresh_margin_secs: Option<u32>,
    #[serde(default)]
    login_client_token: Option<String>,
    /// `"memory"`, `"file"` or `"keyring"`; `"file"` when `store_directory`
    /// is given, else `"memory"`.
    #[serde(default)]
    store: Option<String>,
    /// The directory of the file store.
    #[serde(default)]
    store_directory: Option<String>,
    /// The service name of the keyring store's items (default `zitadel-sdk`).
    #[serde(default)]
    keyring_service: Option<String>,
}

impl CConfig {
    /// The store the configuration names; `None` for sdk-core's default (memory).
    fn token_store(&self) -> Result<Option<Arc<dyn zitadel_sdk::TokenStore>>, FfiError> {
        let kind = match (&self.store, &self.store_directory) {
            (Some(kind), _) => kind.as_str(),
            (None, Some(_)) => "file",
            (None, None) => "memory",
        };
        let misplaced = |field: &str| {
            FfiError::invalid_input(format!("\"{field}\" does not apply to a {kind} store"))
        };
        match kind {
            "memory" | "keyring" if self.store_directory.is_some() => {
                Err(misplaced("store_directory"))
            }
            "memory" | "file" if self.keyring_service.is_some() => {
                Err(misplaced("keyring_service"))
            }
            "memory" => Ok(None),
            "file" => {
                let dir = self.store_directory.clone().ok_or_else(|| {
                    FfiError::invalid_input("a file store needs \"store_directory\"")
                })?;
                Ok(Some(Arc::new(zitadel_sdk::store::FileStore::new(dir)?)))
            }
            "keyring" => Ok(Some(crate::store::core_keyring_store(
                self.keyring_service.as_deref(),
            )?)),
            _ => Err(FfiError::invalid_input(
                "\"store\" is one of \"memory\", \"file\", \"keyring\"",
            )),
        }
    }
}

/// Creates a client from a JSON configuration:
/// `{"issuer": "...", "client_id": "...", "redirect_uri"?, "scopes"?: [...],
/// "organization_id"?, "organization_domain"?, "ui_locales"?: [...], "account"?,
/// "http_timeout_secs"?, "refresh_margin_secs"?, "login_client_token"?,
/// "store"?: "memory" | "file" | "keyring", "store_directory"?, "keyring_service"?}`.
/// The store is in memory unless `store_directory` is given (a file store) or
/// `store` is `"keyring"` (the OS keyring, in builds with the feature
/// `keyring`; [`ZID_ERR_MISCONFIGURED`] otherwise). Makes no request, but a
/// keyring store is reached once, so a missing keyring is reported here.
///
/// # Safety
/// `config_json` is a NUL-terminated string; `out_client` is valid for a
/// write; `out_error` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_client_new(
    config_json: *const c_char,
    out_client: *mut ZidClient,
    out_error: *mut *mut c_char,
) -> i32 {
    guard(out_error, || {
        if out_client.is_null() {
            return Err(FfiError::invalid_input("out_client is null"));
        }
        // SAFETY: the caller's contract.
        let json = unsafe { arg(config_json, "config_json")? };
        let c: CConfig = serde_json::from_str(&json)
            .map_err(|_| FfiError::invalid_input("config_json is not a valid configuration"))?;
        let store = c.token_store()?;
        let config = ClientConfig {
            issuer: c.issuer,
            client_id: c.client_id,
            redirect_uri: c.redirect_uri,
            scopes: c.scopes,
            organization_id: c.organization_id,
            organization_domain: c.organization_domain,
            ui_locales: c.ui_locales,
            account: c.account,
            http_timeout_secs: c.http_timeout_secs,
            refresh_margin_secs: c.refresh_margin_secs,
            login_client_token: c.login_client_token,
        };
        let core = config.build(store)?;
        // SAFETY: checked for null above.
        unsafe { put_handle(out_client, CLIENTS.insert(core))? };
        Ok(String::new())
    })
}

/// Frees a client handle. Tasks started from it keep running until freed.
/// A second free returns [`ZID_ERR_INVALID_INPUT`].
#[unsafe(no_mangle)]
pub extern "C" fn zid_client_free(client: ZidClient) -> i32 {
    guard(std::ptr::null_mut(), || {
        CLIENTS
            .remove(client)
            .map(|_| String::new())
            .ok_or_else(|| bad_handle("client"))
    })
}

// ----- session -----

/// The signed-in session as JSON (`{"account","subject","expires_at",
/// "scopes","has_refresh_token","claims"}`), or `null` when signed out.
///
/// # Safety
/// `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_session(client: ZidClient, out: *mut *mut c_char) -> i32 {
    blocking(client, out, |c| {
        Ok(Box::pin(async move {
            let s = c.session().await?;
            Ok(s.map(session_json).unwrap_or_else(|| "null".into()))
        }))
    })
}

/// A valid access token (a plain string), refreshed first when needed.
///
/// # Safety
/// `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_access_token(client: ZidClient, out: *mut *mut c_char) -> i32 {
    guard(out, || {
        let c = self::client(client)?;
        // A usable token in memory needs no hop onto the SDK's runtime.
        match cached_token(&c) {
            Some(token) => Ok(token),
            None => block_on(access_token_call(c)),
        }
    })
}

/// The access token already in memory when it can be used as it is (read
/// from the store before, saved, not expiring within the refresh margin),
/// else the empty string: then call [`zid_access_token`]. Never blocks: no
/// store access, no request, no lock held by another call is waited for —
/// safe in a frame loop.
///
/// # Safety
/// `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_cached_access_token(client: ZidClient, out: *mut *mut c_char) -> i32 {
    guard(out, || {
        Ok(cached_token(&self::client(client)?).unwrap_or_default())
    })
}

/// The usable token in memory, as the string handed out.
fn cached_token(c: &zitadel_sdk::Client) -> Option<String> {
    c.cached_access_token().map(|t| t.expose().to_owned())
}

/// Refreshes the tokens now; writes the session JSON.
///
/// # Safety
/// `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_refresh(client: ZidClient, out: *mut *mut c_char) -> i32 {
    blocking(client, out, |c| Ok(refresh_call(c)))
}

/// The userinfo of the signed-in user, as a JSON object.
///
/// # Safety
/// `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_userinfo(client: ZidClient, out: *mut *mut c_char) -> i32 {
    blocking(client, out, |c| {
        Ok(Box::pin(async move {
            c.userinfo().await.map(|u| u.to_json_string())
        }))
    })
}

/// The URL that ends the browser session (a plain string). Both string
/// arguments may be null.
///
/// # Safety
/// The strings are null or NUL-terminated; `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_end_session_url(
    client: ZidClient,
    post_logout_redirect_uri: *const c_char,
    state: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    blocking(client, out, |c| {
        // SAFETY: the caller's contract.
        let post = unsafe { opt_arg(post_logout_redirect_uri, "post_logout_redirect_uri")? };
        // SAFETY: the caller's contract.
        let state = unsafe { opt_arg(state, "state")? };
        Ok(Box::pin(async move {
            c.end_session_url(post.as_deref(), state.as_deref())
                .await
                .map(|u| u.to_string())
        }))
    })
}

/// Signs out (revoke + wipe); writes `{"revoked":true|false}`.
///
/// # Safety
/// `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_logout(client: ZidClient, out: *mut *mut c_char) -> i32 {
    blocking(client, out, |c| {
        Ok(Box::pin(async move {
            let r = c.logout().await?;
            Ok(serde_json::json!({"revoked": r.revoked}).to_string())
        }))
    })
}

// ----- browser login (custom scheme / app link) -----

/// Starts a browser login with the configured redirect URI; writes the URL
/// to open. `options_json` (may be null): `{"prompt"?, "login_hint"?,
/// "max_age_secs"?, "extra_scopes"?: [...]}`.
///
/// # Safety
/// `options_json` is null or NUL-terminated; `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_login_start(
    client: ZidClient,
    options_json: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct COptions {
        #[serde(default)]
        prompt: Option<String>,
        #[serde(default)]
        login_hint: Option<String>,
        #[serde(default)]
        max_age_secs: Option<u64>,
        #[serde(default)]
        extra_scopes: Vec<String>,
    }
    blocking(client, out, |c| {
        // SAFETY: the caller's contract.
        let o: COptions = match unsafe { opt_arg(options_json, "options_json")? } {
            Some(j) => serde_json::from_str(&j)
                .map_err(|_| FfiError::invalid_input("options_json is not valid login options"))?,
            None => COptions::default(),
        };
        let opts: zitadel_sdk::LoginOptions = LoginOptions {
            prompt: o.prompt,
            login_hint: o.login_hint,
            max_age_secs: o.max_age_secs,
            extra_scopes: o.extra_scopes,
        }
        .into();
        Ok(Box::pin(async move {
            c.start_login(&opts).await.map(|u| u.to_string())
        }))
    })
}

/// Completes a browser login with the callback URL; writes the session JSON.
///
/// # Safety
/// `callback_url` is NUL-terminated; `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_login_complete(
    client: ZidClient,
    callback_url: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    blocking(client, out, |c| {
        // SAFETY: the caller's contract.
        let url = unsafe { arg(callback_url, "callback_url")? };
        Ok(Box::pin(async move {
            c.complete_login(&url).await.map(session_json)
        }))
    })
}

// ----- device login -----

/// Starts a device login: writes a device handle and the codes to show as
/// JSON (`{"user_code","verification_uri","verification_uri_complete",
/// "expires_in","interval"}`).
///
/// # Safety
/// `out_device` is valid for a write; `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_device_start(
    client: ZidClient,
    out_device: *mut ZidDevice,
    out: *mut *mut c_char,
) -> i32 {
    guard(out, || {
        if out_device.is_null() {
            return Err(FfiError::invalid_input("out_device is null"));
        }
        let c = self::client(client)?;
        let core = c.clone();
        let auth = block_on(async move { core.start_device_login().await })?;
        let device = DeviceLogin::from_parts(c, auth);
        let codes = device.codes_json();
        // SAFETY: checked for null above.
        unsafe { put_handle(out_device, DEVICES.insert(device))? };
        Ok(codes)
    })
}

/// Frees a device handle (a task waiting on it is cancelled).
#[unsafe(no_mangle)]
pub extern "C" fn zid_device_free(device: ZidDevice) -> i32 {
    guard(std::ptr::null_mut(), || {
        let d = DEVICES.remove(device).ok_or_else(|| bad_handle("device"))?;
        d.cancel();
        Ok(String::new())
    })
}

/// Starts waiting for the user to approve the device login; writes a task
/// whose result is the session JSON. Cancel it with [`zid_task_cancel`].
///
/// # Safety
/// `out_task` is valid for a write; `out_error` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_device_wait_async(
    device: ZidDevice,
    out_task: *mut ZidTask,
    out_error: *mut *mut c_char,
) -> i32 {
    guard(out_error, || {
        let d = DEVICES.get(device).ok_or_else(|| bad_handle("device"))?;
        let (core, auth, parent) = d.parts();
        let token = parent.child_token();
        let wait = token.clone();
        spawn_task(out_task, token, async move {
            core.complete_device_login(&auth, &wait)
                .await
                .map(session_json)
                .map_err(FfiError::from)
        })
    })
}

// ----- other asynchronous calls -----

/// [`zid_refresh`] as a task (result: the session JSON).
///
/// # Safety
/// `out_task` is valid for a write; `out_error` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_refresh_async(
    client: ZidClient,
    out_task: *mut ZidTask,
    out_error: *mut *mut c_char,
) -> i32 {
    asynchronous(client, out_task, out_error, refresh_call)
}

/// [`zid_access_token`] as a task (result: the token).
///
/// # Safety
/// `out_task` is valid for a write; `out_error` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_access_token_async(
    client: ZidClient,
    out_task: *mut ZidTask,
    out_error: *mut *mut c_char,
) -> i32 {
    asynchronous(client, out_task, out_error, access_token_call)
}

// ----- tasks -----

/// Polls a task without blocking: [`ZID_PENDING`] while it runs; then its
/// status, with its result (or error JSON) written to `out` — on this and
/// every later poll, until the task is freed.
///
/// # Safety
/// `out` is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_task_poll(task: ZidTask, out: *mut *mut c_char) -> i32 {
    if !out.is_null() {
        // SAFETY: the caller's contract.
        unsafe { *out = std::ptr::null_mut() };
    }
    let polled = catch_unwind(AssertUnwindSafe(|| {
        let t = TASKS.get(task).ok_or_else(|| bad_handle("task"))?;
        let r = t
            .result
            .lock()
            .map_err(|_| FfiError::internal("task lock poisoned"))?;
        Ok::<_, FfiError>(r.clone())
    }))
    .unwrap_or_else(|_| Err(FfiError::internal("the SDK panicked")));
    match polled {
        Ok(None) => ZID_PENDING,
        Ok(Some((status, text))) => {
            // SAFETY: the caller's contract.
            unsafe { put(out, text) };
            status
        }
        Err(e) => {
            // SAFETY: the caller's contract.
            unsafe { put(out, e.to_json()) };
            status_of(&e)
        }
    }
}

/// Asks a task to stop. Waits (a device login) end with
/// [`ZID_ERR_CANCELLED`]; a refresh in flight finishes, so that a rotated
/// refresh token is not lost. Poll it as before, then free it.
#[unsafe(no_mangle)]
pub extern "C" fn zid_task_cancel(task: ZidTask) -> i32 {
    guard(std::ptr::null_mut(), || {
        let t = TASKS.get(task).ok_or_else(|| bad_handle("task"))?;
        t.cancel.cancel();
        Ok(String::new())
    })
}

/// Frees a task handle; a task still running is cancelled as by
/// [`zid_task_cancel`] and its result dropped.
#[unsafe(no_mangle)]
pub extern "C" fn zid_task_free(task: ZidTask) -> i32 {
    guard(std::ptr::null_mut(), || {
        let t = TASKS.remove(task).ok_or_else(|| bad_handle("task"))?;
        t.cancel.cancel();
        Ok(String::new())
    })
}

// ----- strings and codes -----

/// Frees a string written by this library. Null is ignored.
///
/// # Safety
/// `s` is null or a string from this library not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's contract: `s` came from CString::into_raw here.
        drop(unsafe { CString::from_raw(s) });
    }));
}

/// The stable name of a status code (`"ok"`, `"pending"`, `"session_expired"`,
/// ...); a static string, not to be freed.
#[unsafe(no_mangle)]
pub extern "C" fn zid_status_name(status: i32) -> *const c_char {
    let name: &'static CStr = match status {
        ZID_OK => c"ok",
        ZID_PENDING => c"pending",
        1 => c"internal",
        2 => c"retry_later",
        3 => c"invalid_input",
        4 => c"not_signed_in",
        5 => c"session_expired",
        6 => c"cancelled",
        7 => c"misconfigured",
        8 => c"server_rejected",
        9 => c"invalid_server_response",
        10 => c"storage",
        11 => c"expired",
        12 => c"access_denied",
        13 => c"permission_denied",
        14 => c"not_found",
        15 => c"already_exists",
        16 => c"user_locked",
        17 => c"wrong_code",
        18 => c"code_expired",
        19 => c"password_policy",
        20 => c"invalid_credentials",
        21 => c"failed_precondition",
        _ => c"unknown",
    };
    name.as_ptr()
}

/// The library version; a static string, not to be freed.
#[unsafe(no_mangle)]
pub extern "C" fn zid_version() -> *const c_char {
    const VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zitadel_sdk::ErrorCode;

    #[test]
    fn status_names_match_the_public_error_codes() {
        for code in ErrorCode::ALL {
            // SAFETY: zid_status_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(zid_status_name(i32::from(code.as_u16()))) };
            assert_eq!(name.to_str().ok(), Some(code.name()));
        }
    }

    #[test]
    fn a_freed_client_handle_is_refused_with_invalid_input() {
        let mut handle: ZidClient = 0;
        let mut err: *mut c_char = std::ptr::null_mut();
        let cfg = c"{\"issuer\":\"http://127.0.0.1:9\",\"client_id\":\"app\"}";
        // SAFETY: valid pointers.
        let st = unsafe { zid_client_new(cfg.as_ptr(), &mut handle, &mut err) };
        assert_eq!(st, ZID_OK);
        assert_eq!(zid_client_free(handle), ZID_OK);
        assert_eq!(zid_client_free(handle), ZID_ERR_INVALID_INPUT);
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid pointer.
        let st = unsafe { zid_session(handle, &mut out) };
        assert_eq!(st, ZID_ERR_INVALID_INPUT);
        // SAFETY: `out` came from this library.
        let text = unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned();
        assert!(text.contains("\"name\":\"invalid_input\""), "{text}");
        // SAFETY: as above.
        unsafe { zid_string_free(out) };
    }

    #[test]
    fn bad_configuration_is_misconfigured_or_invalid_input() {
        let mut handle: ZidClient = 0;
        let cfg = c"{\"issuer\":\"http://idp.example\",\"client_id\":\"app\"}";
        // SAFETY: valid pointers; a null out_error is allowed.
        let st = unsafe { zid_client_new(cfg.as_ptr(), &mut handle, std::ptr::null_mut()) };
        assert_eq!(st, ZID_ERR_MISCONFIGURED);
        // SAFETY: as above.
        let st = unsafe { zid_client_new(c"not json".as_ptr(), &mut handle, std::ptr::null_mut()) };
        assert_eq!(st, ZID_ERR_INVALID_INPUT);
        // SAFETY: a null config is refused, not read.
        let st = unsafe { zid_client_new(std::ptr::null(), &mut handle, std::ptr::null_mut()) };
        assert_eq!(st, ZID_ERR_INVALID_INPUT);
    }

    /// The status of `zid_client_new` for a loopback issuer plus `store_fields`.
    fn client_new_status(store_fields: &str) -> i32 {
        let cfg =
            format!("{{\"issuer\":\"http://127.0.0.1:9\",\"client_id\":\"app\"{store_fields}}}");
        let Ok(cfg) = std::ffi::CString::new(cfg) else {
            return -100;
        };
        let mut handle: ZidClient = 0;
        // SAFETY: valid pointers; a null out_error is allowed.
        let st = unsafe { zid_client_new(cfg.as_ptr(), &mut handle, std::ptr::null_mut()) };
        if st == ZID_OK {
            assert_eq!(zid_client_free(handle), ZID_OK);
        }
        st
    }

    #[test]
    fn the_configured_store_must_be_a_known_kind_with_only_its_own_fields() {
        let dir = std::env::temp_dir().join(format!("zid-c-store-{}", std::process::id()));
        let dir = dir.to_string_lossy().replace('\\', "/");
        assert_eq!(client_new_status(""), ZID_OK);
        assert_eq!(client_new_status(",\"store\":\"memory\""), ZID_OK);
        let file = format!(",\"store\":\"file\",\"store_directory\":\"{dir}\"");
        assert_eq!(client_new_status(&file), ZID_OK);
        let implied_file = format!(",\"store_directory\":\"{dir}\"");
        assert_eq!(client_new_status(&implied_file), ZID_OK);
        let _ = std::fs::remove_dir_all(&dir);
        for bad in [
            ",\"store\":\"sqlite\"",
            ",\"store\":\"file\"",
            ",\"store\":\"memory\",\"store_directory\":\"/tmp/x\"",
            ",\"store\":\"keyring\",\"store_directory\":\"/tmp/x\"",
            ",\"store_directory\":\"/tmp/x\",\"keyring_service\":\"s\"",
            ",\"keyring_service\":\"s\"",
            ",\"store\":\"keyring\",\"keyring_service\":\"\"",
        ] {
            assert_eq!(client_new_status(bad), ZID_ERR_INVALID_INPUT, "{bad}");
        }
    }

    #[cfg(not(feature = "keyring"))]
    #[test]
    fn without_the_keyring_feature_a_keyring_store_is_misconfigured() {
        assert_eq!(
            client_new_status(",\"store\":\"keyring\""),
            ZID_ERR_MISCONFIGURED
        );
        let err = crate::store::keyring_token_store(None).err();
        assert_eq!(err.map(|e| e.code()), Some(7));
    }
}
