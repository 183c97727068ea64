//! Checks HTTP traffic against ZITADEL's API contract: the
//! `google.api.http` rules and messages of the official `.proto` files
//! (only with the cargo feature `contract`).
//!
//! The usual use is a test that sends a client's traffic through an
//! emulator started with a request log (`EmulatorConfig::request_log`, or
//! `--request-log FILE`) and then asserts that no request broke the
//! contract:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use zitadel_emulator::{Emulator, EmulatorConfig, contract};
//!
//! let dir = tempfile::tempdir()?;
//! let log = dir.path().join("requests.jsonl");
//! let emu = Emulator::start(EmulatorConfig {
//!     request_log: Some(log.clone()),
//!     ..EmulatorConfig::ephemeral()
//! })
//! .await?;
//! // … drive the client under test against emu.issuer() …
//! emu.shutdown().await;
//! let violations = contract::check_request_log(&log, &contract::default_proto_dir())?;
//! assert!(violations.is_empty(), "{}", contract::report(&violations));
//! # Ok(()) }
//! ```
//!
//! What is checked, for every request to the REST API (paths under `/v2/`,
//! `/auth/v1/`, `/management/v1/`, `/admin/v1/` and `/system/v1/`;
//! OpenID Connect endpoints, the hosted login and the emulator's own
//! routes are outside the proto contract and skipped), whatever its
//! response status:
//! - the method and path match an HTTP rule of the protos;
//! - the JSON body (as the rule's `body` selects it) has only fields of the
//!   request message (JSON or proto names), with protojson's types: 64-bit
//!   integers as strings, 32-bit ones and floats as numbers, enums as
//!   names of known values, timestamps and durations as strings;
//! - query parameter names are (dotted) fields of the request message, and
//!   enum values among them are known names.
//!
//! The request log redacts secrets to the string `"[redacted]"`, so a
//! secret sent as a JSON number would be reported as a wrong type.

mod schema;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One way a request (or response) breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// HTTP method of the request.
    pub method: String,
    /// Request path, without the query.
    pub path: String,
    /// What is wrong: `"no HTTP rule …"`, or a JSON location such as
    /// `body.checks.user.foo` followed by the problem.
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.method, self.path, self.problem)
    }
}

/// One line per violation, for an assertion message.
pub fn report(violations: &[Violation]) -> String {
    let mut out = format!("{} contract violation(s):", violations.len());
    for v in violations {
        out.push_str(&format!("\n  {v}"));
    }
    out
}

/// Why the protos or the request log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The proto directory could not be read.
    #[error("cannot read the protos in {dir}: {source}")]
    Protos {
        /// The proto directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The protos hold no HTTP rule (probably the wrong directory).
    #[error("no google.api.http rules found in {0}")]
    NoRules(PathBuf),
    /// The request log could not be read.
    #[error("cannot read the request log {path}: {source}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of the request log is not an entry as the emulator writes it.
    #[error("request log {path}, line {line}: not a request log entry")]
    BadEntry {
        /// The log file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// The protos next to this workspace: `shared/zitadel-api/proto` beside the
/// repository (as laid out for this project's machines and CI).
pub fn default_proto_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/zitadel-api/proto")
}

/// Writes every parameter of a path template (`{user_id}`, `{name=**}`)
/// as `{}`, the form of [`Contract::routes`].
pub fn normalize_template(template: &str) -> String {
    schema::normalize(template)
}

/// Checks every REST request of an emulator request log (see the module
/// documentation for what is checked) against the protos in `proto_dir`.
/// Returns the violations in log order; empty when the traffic keeps to
/// the contract.
pub fn check_request_log(log: &Path, proto_dir: &Path) -> Result<Vec<Violation>, ContractError> {
    let contract = Contract::load(proto_dir)?;
    let mut violations = Vec::new();
    for entry in read_request_log(log)? {
        violations.extend(contract.check_request(&entry.method, &entry.path, &entry.request_body));
    }
    Ok(violations)
}

/// One entry of an emulator request log (`--request-log`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LogEntry {
    /// HTTP method.
    pub method: String,
    /// Path with query (secret parameters redacted).
    pub path: String,
    /// Response status code.
    pub status: u16,
    /// The request body as JSON (`null` when empty or not JSON/form).
    #[serde(default)]
    pub request_body: Value,
    /// The response body as JSON (`null` when empty or HTML).
    #[serde(default)]
    pub response_body: Value,
}

/// Reads an emulator request log (one JSON object a line).
pub fn read_request_log(log: &Path) -> Result<Vec<LogEntry>, ContractError> {
    let text = std::fs::read_to_string(log).map_err(|source| ContractError::Log {
        path: log.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|_| ContractError::BadEntry {
                path: log.to_path_buf(),
                line: n + 1,
            })
        })
        .collect()
}

/// Whether a path belongs to the REST API described by the protos.
pub fn is_api_path(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    [
        "/v2/",
        "/auth/v1/",
        "/management/v1/",
        "/admin/v1/",
        "/system/v1/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

/// The parsed protos: HTTP rules, messages and enums.
#[derive(Debug)]
pub struct Contract {
    schema: schema::Schema,
}

impl Contract {
    /// Reads every `.proto` file under `proto_dir`.
    pub fn load(proto_dir: &Path) -> Result<Self, ContractError> {
        let schema = schema::load(proto_dir).map_err(|source| ContractError::Protos {
            dir: proto_dir.to_path_buf(),
            source,
        })?;
        if schema.rules.is_empty() {
            return Err(ContractError::NoRules(proto_dir.to_path_buf()));
        }
        Ok(Self { schema })
    }

    /// Every HTTP rule as `(METHOD, path template)`, parameters written
    /// `{}` (e.g. `("GET", "/v2/users/{}")`).
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.schema
            .rules
            .iter()
            .map(|r| (r.method.as_str(), r.path.as_str()))
    }

    /// Whether an HTTP rule has this method and path template (either
    /// `{}` or named parameters such as `{user_id}`).
    pub fn has_route(&self, method: &str, template: &str) -> bool {
        let template = schema::normalize(template);
        self.routes().any(|(m, p)| m == method && p == template)
    }

    /// The fully qualified request and response message of the rule that
    /// serves a concrete request (the most specific template wins).
    pub fn messages_of(&self, method: &str, path: &str) -> Option<(&str, &str)> {
        let path = path.split('?').next().unwrap_or_default();
        self.schema
            .rule_for(method, path)
            .map(|r| (r.request.as_str(), r.response.as_str()))
    }

    /// Checks one request: its route, its query parameter names and its
    /// JSON body (`Value::Null` for none). Requests outside the REST API
    /// ([`is_api_path`]) have no violations.
    pub fn check_request(&self, method: &str, path: &str, body: &Value) -> Vec<Violation> {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let violation = |problem: String| Violation {
            method: method.to_owned(),
            path: route.to_owned(),
            problem,
        };
        if !is_api_path(route) {
            return Vec::new();
        }
        let Some(rule) = self.schema.rule_for(method, route) else {
            let others: Vec<&str> = self
                .schema
                .rules
                .iter()
                .filter(|r| r.method != method && schema::template_matches(&r.path, route))
                .map(|r| r.method.as_str())
                .collect();
            let problem = if others.is_empty() {
                "no HTTP rule in the protos for this path".to_owned()
            } else {
                format!("no {method} rule for this path (the protos have {others:?})")
            };
            return vec![violation(problem)];
        };
        let mut problems = Vec::new();
        self.schema.check_query(rule, query, &mut problems);
        self.schema
            .check_request_body(rule, body, "body", &mut problems);
        problems.into_iter().map(violation).collect()
    }

    /// Checks a successful response body against the rule's response
    /// message: unknown fields, JSON types, and zero values or empty lists
    /// that protojson omits. A request without a rule has a violation as in
    /// [`Contract::check_request`].
    pub fn check_response(&self, method: &str, path: &str, body: &Value) -> Vec<Violation> {
        let route = path.split('?').next().unwrap_or_default();
        let violation = |problem: String| Violation {
            method: method.to_owned(),
            path: route.to_owned(),
            problem,
        };
        let Some(rule) = self.schema.rule_for(method, route) else {
            return vec![violation(
                "no HTTP rule in the protos for this path".to_owned(),
            )];
        };
        let mut problems = Vec::new();
        self.schema
            .check(&rule.response, body, "response", &mut problems);
        problems.into_iter().map(violation).collect()
    }
}
