//! The generic C calls of the self-service flows: [`zid_call`],
//! [`zid_call_async`] and [`zid_object_free`].
//!
//! A method is named `"group.name"` after the sdk-core sub-client and
//! method it runs (`"profile.get"`, `"mfa.totp_start"`, …); its arguments are
//! one JSON object and its result one JSON value (`null` for none), with
//! the field names of sdk-core's `serde` types. Each flow module of
//! [`crate::flows`] maps its own names in a `c_call` function; this module
//! only routes, runs and stores objects.
//!
//! Objects that carry state from one call to the next (a registration
//! awaiting its email code, a native login between factors) are returned as
//! `{"handle": N, ...}` and passed back as `"handle"`; free them with
//! [`zid_object_free`]. Like every handle, a freed or forged one is refused
//! with `ZID_ERR_INVALID_INPUT`.

use super::handles::Table;
use super::{ZidClient, ZidTask, arg, client, guard, opt_arg, spawn_task};
use crate::error::FfiError;
use crate::runtime::runtime;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::any::Any;
use std::ffi::c_char;
use std::future::Future;
use std::pin::Pin;
use zitadel_sdk::CancellationToken;

/// An object handle of a flow in progress, from a [`zid_call`] result's
/// `"handle"`; free it with [`zid_object_free`].
pub type ZidObject = u64;

/// A running C call: its JSON result.
pub(crate) type CallFuture = Pin<Box<dyn Future<Output = Result<Value, FfiError>> + Send>>;

/// A stored flow object (type-erased; [`object_get`] checks the type).
type Object = Box<dyn Any + Send + Sync>;

static OBJECTS: Table<Object> = Table::new(4);

/// Parses the JSON arguments of a call into `T`.
pub(crate) fn args<T: DeserializeOwned>(a: Value) -> Result<T, FfiError> {
    serde_json::from_value(a)
        .map_err(|e| FfiError::invalid_input(format!("the arguments do not fit the method: {e}")))
}

/// A call's result as JSON.
pub(crate) fn json<T: Serialize>(v: T) -> Result<Value, FfiError> {
    serde_json::to_value(v).map_err(|_| FfiError::internal("a result cannot be written as JSON"))
}

/// The result of a call that returns nothing: `null`.
pub(crate) fn done(_: ()) -> Result<Value, FfiError> {
    Ok(Value::Null)
}

/// The error for a method name no flow knows.
pub(crate) fn unknown_method(group: &str, name: &str) -> FfiError {
    FfiError::invalid_input(format!("unknown method {group}.{name}"))
}

#[allow(dead_code)] // until the first stateful flow uses it
/// Stores a flow object; its handle goes into the result as `"handle"`.
pub(crate) fn object_put<T: Any + Send + Sync>(value: T) -> Result<ZidObject, FfiError> {
    OBJECTS
        .insert(Box::new(value))
        .ok_or_else(|| FfiError::internal("the handle table is unavailable"))
}

#[allow(dead_code)] // until the first stateful flow uses it
/// The flow object named by the `"handle"` of `a`, if it is a `T`.
pub(crate) fn object_get<T: Any + Send + Sync + Clone>(a: &Value) -> Result<T, FfiError> {
    let bad = || {
        FfiError::invalid_input(
            "the object handle is not valid (freed, never issued or of another flow)",
        )
    };
    let handle = a.get("handle").and_then(Value::as_u64).ok_or_else(bad)?;
    let object = OBJECTS.get(handle).ok_or_else(bad)?;
    object.downcast_ref::<T>().cloned().ok_or_else(bad)
}

/// Routes `"group.name"` to the flow module of `group`.
fn dispatch(core: zitadel_sdk::Client, method: &str, a: Value) -> Result<CallFuture, FfiError> {
    let (group, name) = method
        .split_once('.')
        .ok_or_else(|| FfiError::invalid_input("a method is named group.name, e.g. profile.get"))?;
    match group {
        "profile" => crate::flows::profile::c_call(core, name, a),
        "registration" => crate::flows::registration::c_call(core, name, a),
        "native_login" => crate::flows::native_login::c_call(core, name, a),
        "manager" => crate::flows::manager::c_call(core, name, a),
        "email" => crate::flows::verification::c_call_email(core, name, a),
        "phone" => crate::flows::verification::c_call_phone(core, name, a),
        "password" => crate::flows::password::c_call(core, name, a),
        "mfa" => crate::flows::mfa::c_call(core, name, a),
        "passkeys" => crate::flows::passkeys::c_call(core, name, a),
        "sessions" => crate::flows::sessions::c_call(core, name, a),
        "links" => crate::flows::links::c_call(core, name, a),
        "settings" => crate::flows::settings::c_call(core, name, a),
        _ => Err(FfiError::invalid_input(format!(
            "unknown method group {group}"
        ))),
    }
}

/// Looks up the client, parses the method and arguments and builds the call.
///
/// # Safety
/// `method` and `args_json` as in [`zid_call`].
unsafe fn prepare(
    handle: ZidClient,
    method: *const c_char,
    args_json: *const c_char,
) -> Result<CallFuture, FfiError> {
    let core = client(handle)?;
    // SAFETY: the caller's contract.
    let method = unsafe { arg(method, "method")? };
    // SAFETY: the caller's contract.
    let a = match unsafe { opt_arg(args_json, "args_json")? } {
        None => Value::Object(serde_json::Map::new()),
        Some(s) if s.trim().is_empty() => Value::Object(serde_json::Map::new()),
        Some(s) => serde_json::from_str(&s)
            .map_err(|_| FfiError::invalid_input("args_json is not valid JSON"))?,
    };
    dispatch(core, &method, a)
}

/// Runs a self-service method and blocks until it ends: `method` is
/// `"group.name"` (see the README of the C bindings for the list), `args_json`
/// a JSON object (null or `""` for none). Writes the JSON result (`null` when
/// the method returns nothing) or the error JSON to `out`.
///
/// # Safety
/// `method` is a NUL-terminated string; `args_json` is null or one; `out`
/// is null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_call(
    client: ZidClient,
    method: *const c_char,
    args_json: *const c_char,
    out: *mut *mut c_char,
) -> i32 {
    guard(out, || {
        // SAFETY: forwarded from the caller.
        let call = unsafe { prepare(client, method, args_json)? };
        let rt = runtime()?;
        let v = rt
            .block_on(rt.spawn(call))
            .map_err(|_| FfiError::internal("an SDK task failed unexpectedly"))??;
        Ok(v.to_string())
    })
}

/// As [`zid_call`], but runs as a task: poll it with `zid_task_poll` (the
/// result JSON arrives there), cancel and free it. Bad arguments are
/// reported at once, with no task.
///
/// # Safety
/// As [`zid_call`]; `out_task` is valid for a write; `out_error` is null or
/// valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zid_call_async(
    client: ZidClient,
    method: *const c_char,
    args_json: *const c_char,
    out_task: *mut ZidTask,
    out_error: *mut *mut c_char,
) -> i32 {
    guard(out_error, || {
        // SAFETY: forwarded from the caller.
        let call = unsafe { prepare(client, method, args_json)? };
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        spawn_task(out_task, cancel, async move {
            tokio::select! {
                v = call => v.map(|v| v.to_string()),
                () = token.cancelled() => Err(FfiError::new(zitadel_sdk::ErrorCode::Cancelled, "cancelled")),
            }
        })
    })
}

/// Frees an object handle from a call's result. A second free returns
/// `ZID_ERR_INVALID_INPUT`.
#[unsafe(no_mangle)]
pub extern "C" fn zid_object_free(object: ZidObject) -> i32 {
    guard(std::ptr::null_mut(), || {
        OBJECTS
            .remove(object)
            .map(|_| String::new())
            .ok_or_else(|| {
                FfiError::invalid_input("the object handle is not valid (freed or never issued)")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_found_by_its_handle_and_type_only_until_freed() {
        let h = object_put(String::from("pending")).unwrap_or_default();
        let a = serde_json::json!({"handle": h});
        assert_eq!(object_get::<String>(&a).ok().as_deref(), Some("pending"));
        assert!(
            object_get::<u32>(&a).is_err(),
            "another flow's type is refused"
        );
        assert_eq!(zid_object_free(h), 0);
        assert!(
            object_get::<String>(&a).is_err(),
            "a freed handle is refused"
        );
        assert_eq!(zid_object_free(h), super::super::ZID_ERR_INVALID_INPUT);
        assert!(object_get::<String>(&serde_json::json!({})).is_err());
    }

    #[test]
    fn unknown_methods_and_bad_arguments_are_invalid_input() {
        let core = zitadel_sdk::Client::builder("http://127.0.0.1:9", "app")
            .build()
            .ok();
        let Some(core) = core else {
            panic!("a loopback client builds");
        };
        for m in ["profile", "nope.get", "profile.nope"] {
            let e = dispatch(core.clone(), m, Value::Null).err();
            assert_eq!(e.map(|e| e.code()), Some(3), "{m}");
        }
        let e = dispatch(core, "profile.set_metadata", serde_json::json!({"key": 1})).err();
        assert_eq!(e.map(|e| e.code()), Some(3));
    }
}
