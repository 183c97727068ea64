#!/usr/bin/env bash
# The main job: `zid` against a local ZITADEL emulator this script starts.
# Signs in through the emulator's hosted login (a scripted user fills the
# forms; DEMO_INTERACTIVE=1 opens your real browser instead), then shows
# whoami, token, userinfo, refresh and logout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== building zid and the emulator"
cargo build -q -p zid -p zitadel-emulator
bin=target/debug
work=$(mktemp -d)
emu_pid=""
cleanup() { [[ -n "$emu_pid" ]] && kill "$emu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== starting zitadel-emulator on a free loopback port"
"$bin/zitadel-emulator" --port 0 >"$work/emulator.json" 2>"$work/emulator.log" &
emu_pid=$!
for _ in $(seq 1 100); do [[ -s "$work/emulator.json" ]] && break; sleep 0.1; done
[[ -s "$work/emulator.json" ]] || { echo "the emulator did not start:"; cat "$work/emulator.log"; exit 1; }
read -r issuer client_id login password < <(python3 -c '
import json,sys
d=json.load(open(sys.argv[1])); u=[u for u in d["users"] if not u["roles"]][0]
print(d["issuer"], d["client_id"], u["login_name"], u["password"])' "$work/emulator.json")
echo "   issuer $issuer, client $client_id, user $login / $password"

export ZID_ISSUER="$issuer" ZID_CLIENT_ID="$client_id" ZID_STORE="file:$work/store"
export DEMO_LOGIN="$login" DEMO_PASSWORD="$password"
if [[ "${DEMO_INTERACTIVE:-0}" != 1 ]]; then
  export BROWSER="$PWD/scripts/demo-user.py"
fi

run() { echo; echo "\$ zid $*"; "$bin/zid" "$@"; }
run login --timeout 120
run whoami
echo; echo "\$ zid token"; "$bin/zid" token | cut -c1-24 | sed 's/$/… (truncated)/'
run --json userinfo
run refresh
run logout
run whoami || echo "(signed out, as expected)"
echo; echo "== demo finished"
