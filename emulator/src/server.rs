//! Starting and stopping the emulator; the router.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::keys::{KeyError, SigningKey};
use crate::model::{OutboxMessage, State};
use crate::persist::{PersistError, Store};
use crate::request_log::RequestLog;
use crate::seed::{Seed, SeedError, SeedInfo, build_state};
use crate::util::random_token;

/// Largest request body accepted, in bytes.
pub(crate) const BODY_LIMIT: usize = 256 * 1024;

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// TCP port on the loopback interface; 0 picks a free one.
    pub port: u16,
    /// Host name used in the issuer URL (`http://{host}:{port}`), default `localhost`.
    pub host: String,
    /// Directory for persistent state (SQLite). When it holds state from an
    /// earlier run, that state is used and the seed is ignored.
    pub data_dir: Option<PathBuf>,
    /// The seed; `None` uses [`Seed::default`].
    pub seed: Option<Seed>,
    /// Append one JSON line per request to this file (secrets redacted).
    pub request_log: Option<PathBuf>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 8080,
            host: "localhost".to_owned(),
            data_dir: None,
            seed: None,
            request_log: None,
        }
    }
}

impl EmulatorConfig {
    /// In-memory, default seed, free loopback port: the configuration for tests
    /// and `zid demo`.
    pub fn ephemeral() -> Self {
        Self {
            port: 0,
            ..Self::default()
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Binding the port failed.
    #[error("cannot listen on port {port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The seed is invalid.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// Key generation failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The request log file cannot be opened.
    #[error("cannot open request log: {0}")]
    RequestLog(#[source] std::io::Error),
    /// The data directory cannot be used.
    #[error(transparent)]
    Persist(#[from] PersistError),
}

/// Shared server state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) issuer: String,
    /// Secret from which CSRF tokens are derived.
    pub(crate) csrf_secret: String,
    state: Mutex<State>,
    /// The SQLite store with `--data`.
    store: Option<Store>,
    /// Seed info, persisted with the state.
    info: SeedInfo,
}

impl Shared {
    /// Locks the state (recovering from a poisoned lock: state is plain data).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Absolute URL for a path.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// Writes the state through to the store, if there is one and it changed.
    pub(crate) fn persist(&self) -> Result<(), PersistError> {
        match &self.store {
            Some(store) => store.save(|| serde_json::to_string(&*self.lock()), &self.info),
            None => Ok(()),
        }
    }
}

/// Persists after every request (skipped when nothing changed).
async fn persist_layer(
    axum::extract::State(shared): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let response = next.run(request).await;
    let saved = tokio::task::spawn_blocking(move || shared.persist()).await;
    match saved {
        Ok(Ok(())) => response,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "persisting state failed");
            ApiError::new(
                crate::error::GrpcCode::Internal,
                "EMU-DATA01",
                "persisting state failed",
            )
            .into_response()
        }
        Err(_) => ApiError::new(
            crate::error::GrpcCode::Internal,
            "EMU-DATA01",
            "persisting state failed",
        )
        .into_response(),
    }
}

/// Handle to shared state used by handlers.
pub(crate) type AppState = Arc<Shared>;

/// The emulator.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Starts an emulator on the loopback interface and returns once it
    /// accepts connections.
    ///
    /// # Errors
    /// [`StartError`] if the port is taken, the seed is invalid, the request
    /// log cannot be opened, or the data directory cannot be used.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, StartError> {
        let v4 = TcpListener::bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            config.port,
        ))
        .await
        .map_err(|source| StartError::Bind {
            port: config.port,
            source,
        })?;
        let port = v4
            .local_addr()
            .map_err(|source| StartError::Bind {
                port: config.port,
                source,
            })?
            .port();
        // Best effort: also serve ::1 so `localhost` works whichever address it resolves to.
        let v6 = TcpListener::bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port))
            .await
            .ok();
        let issuer = format!("http://{}:{port}", config.host);
        let store = match &config.data_dir {
            Some(dir) => Some(Store::open(dir)?),
            None => None,
        };
        let loaded = match &store {
            Some(store) => store.load(&issuer)?,
            None => None,
        };
        let (state, info) = match loaded {
            Some(loaded) => loaded,
            None => {
                let key = tokio::task::spawn_blocking(|| SigningKey::generate("1".to_owned()))
                    .await
                    .map_err(|_| StartError::Key(KeyError::NoKey))??;
                let seed = config.seed.clone().unwrap_or_default();
                build_state(&seed, &issuer, key)?
            }
        };
        let request_log = match &config.request_log {
            Some(path) => Some(RequestLog::open(path).map_err(StartError::RequestLog)?),
            None => None,
        };
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            csrf_secret: random_token(32),
            state: Mutex::new(state),
            store,
            info: info.clone(),
        });
        shared.persist()?;
        let router = router(shared.clone(), request_log);
        let (tx, rx) = oneshot::channel::<()>();
        let (tx6, rx6) = oneshot::channel::<()>();
        let mut tasks = Vec::new();
        let app = router.clone();
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(v4, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        }));
        let shutdown6 = if let Some(v6) = v6 {
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(v6, router)
                    .with_graceful_shutdown(async {
                        let _ = rx6.await;
                    })
                    .await;
            }));
            Some(tx6)
        } else {
            None
        };
        let gc_shared = shared.clone();
        let gc = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                gc_shared.lock().gc();
            }
        });
        Ok(RunningEmulator {
            issuer,
            port,
            info,
            shared,
            shutdown: vec![Some(tx), shutdown6].into_iter().flatten().collect(),
            tasks,
            gc,
        })
    }
}

/// A running emulator. Dropping it without [`RunningEmulator::shutdown`]
/// leaves the server tasks running until the runtime ends.
#[derive(Debug)]
pub struct RunningEmulator {
    issuer: String,
    port: u16,
    info: SeedInfo,
    shared: AppState,
    shutdown: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
    gc: JoinHandle<()>,
}

impl RunningEmulator {
    /// The issuer, e.g. `http://localhost:8080`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the seed created (client id, login-client PAT, org id, users).
    pub fn seed_info(&self) -> &SeedInfo {
        &self.info
    }

    /// The start-up line printed by the binary: one JSON object.
    pub fn startup_json(&self) -> String {
        serde_json::to_string(&self.info).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Rotates the signing key: a new key signs from now on, the previous one
    /// stays in the JWKS. Returns the new key id.
    ///
    /// # Errors
    /// [`KeyError`] if key generation fails.
    pub async fn rotate_signing_key(&self) -> Result<String, KeyError> {
        let kid = crate::oidc::rotate_key(&self.shared).await?;
        if let Err(e) = self.shared.persist() {
            tracing::error!(error = %e, "persisting state failed");
        }
        Ok(kid)
    }

    /// Lets every pending email, phone and password-reset code of the users
    /// expire now (for tests of the expired-code paths).
    pub fn expire_pending_codes(&self) {
        let mut model = self.shared.lock();
        let past = crate::util::now() - 1;
        for user in &mut model.users {
            if let crate::model::UserKind::Human(h) = &mut user.kind {
                for code in [&mut h.email_code, &mut h.phone_code, &mut h.password_code]
                    .into_iter()
                    .flatten()
                {
                    code.expires = past;
                }
            }
        }
    }

    /// Messages ZITADEL would have sent by email or SMS.
    pub fn outbox(&self) -> Vec<OutboxMessage> {
        self.shared.lock().outbox.clone()
    }

    /// Stops the server and waits for open connections to finish.
    pub async fn shutdown(self) {
        for tx in self.shutdown {
            let _ = tx.send(());
        }
        for t in self.tasks {
            let _ = t.await;
        }
        self.gc.abort();
    }
}

fn router(shared: AppState, request_log: Option<RequestLog>) -> Router {
    let router = Router::new()
        .merge(crate::oidc::routes())
        .merge(crate::login::routes())
        .merge(crate::api::routes())
        .route("/_emulator/outbox", axum::routing::get(outbox))
        .route("/_emulator/keys/rotate", axum::routing::post(rotate_keys))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(crate::error_i18n::translate));
    // Write-through persistence only with a data directory.
    let router = if shared.store.is_some() {
        router.layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            persist_layer,
        ))
    } else {
        router
    };
    let router = router.with_state(shared);
    match request_log {
        Some(log) => router.layer(axum::middleware::from_fn_with_state(
            Arc::new(log),
            crate::request_log::middleware,
        )),
        None => router,
    }
}

async fn fallback() -> ApiError {
    ApiError::route_not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

#[derive(serde::Deserialize)]
struct OutboxQuery {
    to: Option<String>,
}

async fn outbox(
    axum::extract::State(shared): axum::extract::State<AppState>,
    query: Result<axum::extract::Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> axum::response::Response {
    let to = query.ok().and_then(|q| q.0.to);
    let messages: Vec<OutboxMessage> = shared
        .lock()
        .outbox
        .iter()
        .filter(|m| to.as_deref().is_none_or(|t| m.to.eq_ignore_ascii_case(t)))
        .cloned()
        .collect();
    axum::Json(serde_json::json!({ "messages": messages })).into_response()
}

async fn rotate_keys(
    axum::extract::State(shared): axum::extract::State<AppState>,
) -> axum::response::Response {
    match crate::oidc::rotate_key(&shared).await {
        Ok(kid) => axum::Json(serde_json::json!({ "kid": kid })).into_response(),
        Err(_) => ApiError::new(
            crate::error::GrpcCode::Internal,
            "EMU-KEY01",
            "key rotation failed",
        )
        .into_response(),
    }
}
