//! [`AuthStateListener`]: the host learns when a session starts, is
//! refreshed, ends or expires.

use std::sync::Arc;

/// Something that happened to an account's session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum AuthEvent {
    /// A login completed.
    SignedIn {
        /// The account name.
        account: String,
        /// The user id (`sub`).
        subject: String,
    },
    /// The tokens were refreshed (the rotated refresh token is already stored).
    Refreshed {
        /// The account name.
        account: String,
    },
    /// The app signed the user out.
    SignedOut {
        /// The account name.
        account: String,
    },
    /// The server ended the session; sign in again.
    SessionExpired {
        /// The account name.
        account: String,
    },
}

impl AuthEvent {
    /// The FFI form of a core event; `None` for kinds this version does not know.
    pub(crate) fn from_core(e: &zitadel_sdk::Event) -> Option<Self> {
        use zitadel_sdk::Event;
        Some(match e {
            Event::SignedIn { account, subject } => AuthEvent::SignedIn {
                account: account.clone(),
                subject: subject.clone(),
            },
            Event::Refreshed { account } => AuthEvent::Refreshed {
                account: account.clone(),
            },
            Event::SignedOut { account } => AuthEvent::SignedOut {
                account: account.clone(),
            },
            Event::SessionExpired { account } => AuthEvent::SessionExpired {
                account: account.clone(),
            },
            _ => return None,
        })
    }
}

/// Receives [`AuthEvent`]s, implemented by the host (the Kotlin layer turns
/// them into a `StateFlow`, the Swift layer into an `AsyncStream`). Called
/// synchronously on an SDK thread; keep it short and do not call back into
/// the client from it.
#[uniffi::export(foreign)]
pub trait AuthStateListener: Send + Sync {
    /// Called for each event.
    fn on_event(&self, event: AuthEvent);
}

/// A host listener as the listener sdk-core calls.
pub(crate) struct ListenerAdapter(pub(crate) Arc<dyn AuthStateListener>);

impl zitadel_sdk::EventListener for ListenerAdapter {
    fn on_event(&self, event: &zitadel_sdk::Event) {
        if let Some(e) = AuthEvent::from_core(event) {
            self.0.on_event(e);
        }
    }
}
