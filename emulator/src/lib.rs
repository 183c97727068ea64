//! `zitadel-emulator`: a local ZITADEL-compatible identity server for
//! development, demos and tests.
//!
//! It serves ZITADEL's OpenID provider paths (`/.well-known/openid-configuration`,
//! `/oauth/v2/*`, `/oidc/v1/*`), hosted login pages under `/ui/v2/login/`,
//! ZITADEL-style error bodies and an outbox at `/_emulator/outbox`. See the
//! crate README for what is implemented and where it differs from ZITADEL.
//!
//! # Embedding
//!
//! ```no_run
//! # async fn demo() -> Result<(), zitadel_emulator::StartError> {
//! use zitadel_emulator::{Emulator, EmulatorConfig};
//!
//! // Port 0 picks a free loopback port.
//! let running = Emulator::start(EmulatorConfig::ephemeral()).await?;
//! println!("issuer: {}", running.issuer());
//! let admin = &running.seed_info().users[0];
//! println!("log in as {} / {}", admin.login_name, admin.password);
//! running.shutdown().await;
//! # Ok(()) }
//! ```

mod api;
#[cfg(feature = "contract")]
pub mod contract;
mod error;
mod error_i18n;
mod factors;
mod keys;
mod login;
mod model;
mod oidc;
mod persist;
mod request_log;
#[cfg(feature = "scripted")]
pub mod scripted;
mod seed;
mod server;
mod totp;
mod util;
mod webauthn;

pub use api::API_ROUTES;
pub use keys::KeyError;
pub use model::OutboxMessage;
pub use persist::PersistError;
pub use seed::{
    Seed, SeedApp, SeedError, SeedHuman, SeedInfo, SeedLoginClient, SeedOrg, SeedProject,
    SeedUserInfo,
};
pub use server::{Emulator, EmulatorConfig, RunningEmulator, StartError};
