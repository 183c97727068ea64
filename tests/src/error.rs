//! The harness's error type.

use std::time::Duration;

/// What went wrong in the harness (not in the code under test).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A program the harness needs could not be started or is missing.
    #[error("could not start {what}: {detail}")]
    Start {
        /// What was being started.
        what: String,
        /// Why it failed, with hints where the harness has them.
        detail: String,
    },
    /// A bounded wait ran out.
    #[error("timed out after {after:?} waiting for {what}; last seen: {seen}")]
    Timeout {
        /// What the harness was waiting for.
        what: String,
        /// How long it waited.
        after: Duration,
        /// The last state it saw (a URL, a page's text, a log tail).
        seen: String,
    },
    /// An I/O error.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A WebDriver command failed.
    #[error("WebDriver error while {context}: {source}")]
    WebDriver {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<fantoccini::error::CmdError>,
    },
    /// The browser landed on a page the harness did not expect (an error page,
    /// a wrong user code).
    #[error("unexpected page at {url}: {detail}")]
    UnexpectedPage {
        /// The page's URL.
        url: String,
        /// What the page said.
        detail: String,
    },
    /// Anything else, with a message.
    #[error("{0}")]
    Other(String),
}

impl HarnessError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn webdriver(
        context: impl Into<String>,
        source: fantoccini::error::CmdError,
    ) -> Self {
        Self::WebDriver {
            context: context.into(),
            source: Box::new(source),
        }
    }
}
