#!/usr/bin/env bash
# Installs what the integration tests (the `tests/` crate) need on a fresh
# Debian machine, and nothing when it is all there already:
#   - chromium and chromium-driver (Debian packages), for the Browser harness;
#   - gnome-keyring, dbus and procps (Debian packages), for the OS keyring tests
#     (scripts/with-keyring.sh);
#   - libssl-dev and pkg-config (Debian packages), for building the emulator
#     (webauthn-rs links OpenSSL);
#   - tests/provider/node_modules (npm ci from the committed lock file), for the
#     oidc-provider the tests start.
# Node.js and npm are expected to be installed already.
#
# Idempotent and non-interactive; run as root (or with sudo available) for apt.
# Usage: scripts/install-test-deps.sh
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
provider_dir="$repo_root/tests/provider"

log() { printf 'install-test-deps: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    log "need root for: $*"
    return 1
  fi
}

# --- Chromium and chromedriver -------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v gnome-keyring-daemon >/dev/null 2>&1 || missing+=(gnome-keyring)
command -v dbus-run-session >/dev/null 2>&1 || missing+=(dbus)
command -v pgrep >/dev/null 2>&1 || missing+=(procps)
# The emulator's WebAuthn verification (webauthn-rs) links the system OpenSSL.
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q </dev/null
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  log "chromium, chromedriver, gnome-keyring and libssl-dev present"
fi

# --- oidc-provider (npm) ---------------------------------------------------------
command -v node >/dev/null 2>&1 || { log "node is not installed"; exit 1; }
command -v npm >/dev/null 2>&1 || { log "npm is not installed"; exit 1; }

# node_modules is stale when the lock file changed since the last npm ci here:
# a copy of the lock file is kept in node_modules after each successful npm ci.
stamp="$provider_dir/node_modules/.install-test-deps.lock-copy"
if [ -d "$provider_dir/node_modules/oidc-provider" ] \
  && [ -f "$stamp" ] \
  && cmp -s "$stamp" "$provider_dir/package-lock.json"; then
  log "tests/provider/node_modules up to date"
else
  log "npm ci in tests/provider"
  (cd "$provider_dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
  cp "$provider_dir/package-lock.json" "$stamp"
fi

log "done"
