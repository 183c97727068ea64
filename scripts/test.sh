#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine
# (Chromium, chromedriver, the oidc-provider npm packages, GNOME Keyring),
# checks formatting and lints, compile-checks sdk-core for macOS, iOS,
# Windows and Android (scripts/cross-check.sh), builds sdk-ffi as the static
# library for aarch64 Android and iOS (scripts/mobile-static-libs.sh), and
# runs every test suite of the workspace — the OS keyring tests (Rust, C and
# Kotlin) inside a private D-Bus session with an unlocked keyring.
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-test-deps.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== the benchmark scripts' report sections"
bench/sections-test.sh
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cross-check: macOS, iOS, Windows, Android (keyring stores included)"
scripts/cross-check.sh
echo "== sdk-ffi as the static library of Android and iOS apps (aarch64)"
scripts/mobile-static-libs.sh
echo "== cargo test (in a keyring session)"
scripts/with-keyring.sh cargo test --workspace --no-fail-fast
echo "== bindings (in a keyring session: the C test and Kotlin use the keyring store)"
scripts/with-keyring.sh scripts/test-bindings.sh
