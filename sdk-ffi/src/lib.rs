//! # ZITADEL self-service SDK — Kotlin, Swift and C bindings
//!
//! The only crate of the workspace that knows uniffi and the C ABI. Every
//! export is a thin conversion over [`zitadel_sdk`] (sdk-core): convert the
//! arguments, call the core on this crate's own tokio runtime, convert the
//! result and the error. No business logic lives here.
//!
//! One module per concern, mirroring sdk-core:
//! - [`client`]: [`ZitadelClient`] and its [`ClientConfig`];
//! - [`login`]: browser login (custom scheme / app link, and the loopback redirect);
//! - [`device`]: the device authorization grant ([`DeviceLogin`]);
//! - [`session`]: the session, access token, refresh, userinfo, logout;
//! - [`store`]: the [`TokenStore`] foreign trait and the Rust stores;
//! - [`events`]: the [`AuthStateListener`] foreign trait;
//! - [`error`]: [`FfiError`], the one error type of the bindings, carrying the stable
//!   numeric code of [`zitadel_sdk::ErrorCode`];
//! - [`c`]: the C ABI for game engines and desktop apps (handles, tasks, JSON results).
//!
//! # Async and cancellation
//! Async exports run on a tokio runtime owned by this crate (two worker
//! threads, started on first use); the future handed to Kotlin or Swift
//! only awaits the spawned task, so it works under any foreign executor.
//! Dropping that future (a cancelled coroutine or Swift `Task`) cancels the
//! long waits — waiting for the browser callback, polling a device code —
//! which then end with [`FfiError::Cancelled`]; operations that must not be
//! torn apart (a refresh whose rotated token must be stored) finish in the
//! background instead.
//!
//! # Security
//! Errors carry only sdk-core's safe messages; no token, code or query
//! string is put into an error, a log line or a `Debug` output by this crate.

uniffi::setup_scaffolding!("zitadel_sdk");

pub mod c;
pub mod client;
pub mod device;
pub mod error;
pub mod events;
pub mod flows;
pub mod login;
mod runtime;
pub mod session;
pub mod store;

pub use client::{ClientConfig, ZitadelClient};
pub use device::DeviceLogin;
pub use error::FfiError;
pub use events::{AuthEvent, AuthStateListener};
pub use login::{BrowserLauncher, CancelHandle, LoginOptions};
pub use session::{LogoutResult, SessionInfo};
pub use store::TokenStore;
