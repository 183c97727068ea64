//! The self-service flows, one module per flow of sdk-core's
//! [`zitadel_sdk::flows`] and [`zitadel_sdk::manager`].
//!
//! # The pattern every flow module follows
//! - **Sub-client object.** [`ZitadelClient`](crate::ZitadelClient) hands
//!   out one uniffi object per flow (`client.profile()` → [`profile::ProfileClient`]),
//!   as sdk-core's `Client` does. Each async method clones the core client,
//!   runs the core call with [`crate::runtime::run`] and returns
//!   `Result<_, FfiError>`: a thin conversion, no logic.
//! - **Types.** sdk-core's plain result and input types cross as uniffi
//!   *remote* records and enums (`#[uniffi::remote(Record)]`): a mirror of
//!   the core definition that the compiler checks field by field, so there
//!   is no copy to keep in sync. Only where a core type holds something
//!   uniffi cannot carry (a `Secret`, a generic `Page<T>`, a URL) does the
//!   module declare its own record and a `From` conversion.
//! - **C.** Each module has a `c_call(core, name, args)` that maps a method
//!   name (`"profile.get"` → `"get"`) and its JSON arguments to the core call
//!   and its JSON result (core types are `serde` types); the C functions
//!   [`crate::c::zid_call`] and [`crate::c::zid_call_async`] dispatch to it
//!   through [`crate::c::calls`]. Objects that carry state between calls (a
//!   registration awaiting its code, a native login between factors) are
//!   stored with [`crate::c::calls::object_put`] and addressed by a
//!   `"handle"` argument.

pub(crate) mod browser_c;
pub mod links;
pub mod manager;
pub mod mfa;
pub mod native_login;
pub mod passkeys;
pub mod password;
pub mod profile;
pub mod registration;
pub mod sessions;
pub mod settings;
pub mod verification;
