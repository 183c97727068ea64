#!/usr/bin/env bash
# Runs a command with a private D-Bus session and an unlocked GNOME Keyring
# (Secret Service) in a throw-away data directory, and ZID_TEST_KEYRING=1,
# so the OS keyring store is tested for real on a headless machine.
# Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [[ "${ZID_IN_KEYRING_SESSION:-}" != 1 ]]; then
  export ZID_IN_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
data=$(mktemp -d)
keyring_pid=""
trap '[[ -n "$keyring_pid" ]] && kill "$keyring_pid" 2>/dev/null; rm -rf "$data"' EXIT
export XDG_DATA_HOME="$data"
# --unlock reads the (new) login keyring's password from stdin.
eval "$(printf 'test-password' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
keyring_pid=$(pgrep -n -x gnome-keyring-d || true)
export ZID_TEST_KEYRING=1
"$@"
