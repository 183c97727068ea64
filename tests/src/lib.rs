//! Test harness for the integration tests.
