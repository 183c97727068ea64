#!/usr/bin/env bash
# The benchmark of issue 2 §6: zid against a minimal openidconnect client
# (bench/baseline), against the same oidc-provider on loopback, logins approved
# in headless Chromium. Writes its section of bench/REPORT.md (between the
# `oidc-bench` markers; the other sections stay as they are).
#
# Usage: bench/run.sh            (no stdin; installs what it needs)
# Env:   BENCH_TOKEN_RUNS (50), BENCH_LOGINS (5), BENCH_SKIP_CRITERION=1,
#        CARGO_TARGET_DIR (default: the workspace's target/).
set -euo pipefail
exec </dev/null

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
log() { printf 'bench: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else log "need root for: $*"; return 1; fi
}

# --- what it needs ---------------------------------------------------------------
scripts/install-test-deps.sh
if [ ! -x /usr/bin/time ]; then
  log "installing GNU time (peak RSS)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends time
fi

# --- the two binaries --------------------------------------------------------------
target="${CARGO_TARGET_DIR:-$repo/target}"
log "building zid (release)"
cargo build --release -p zid
zid="$target/release/zid"
log "building the baseline (release, its own Cargo.lock)"
CARGO_TARGET_DIR="$target/bench-baseline" \
  cargo build --release --locked --manifest-path bench/baseline/Cargo.toml
baseline="$target/bench-baseline/release/baseline"

# --- process-level figures -----------------------------------------------------------
table="$(mktemp)"
criterion_out="$(mktemp)"
report_section="$(mktemp)"
trap 'rm -f "$table" "$criterion_out" "$report_section"' EXIT
log "process-level benchmark (provider + Chromium)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
BENCH_ZID="$zid" BENCH_BASELINE="$baseline" BENCH_GNU_TIME=/usr/bin/time \
  BENCH_TABLE="$table" \
  cargo test --release -p integration-tests --test bench_process -- --ignored --nocapture

# --- in-process figures (criterion) ------------------------------------------------------
if [ "${BENCH_SKIP_CRITERION:-0}" != 1 ]; then
  log "criterion: Client::access_token()"
  cargo bench -p zitadel-sdk-core --bench access_token -- \
    --warm-up-time 1 --measurement-time 3 | tee "$criterion_out"
fi

# --- the report -----------------------------------------------------------------------------
mem_kib="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
{
  echo "# Benchmark: zid against a minimal openidconnect client (issue 2 §6)"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/run.sh\` at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- sdk-core cli || echo ' (with uncommitted changes in sdk-core/cli)')."
  echo
  echo "Machine: $(nproc) CPUs (${cpu:-unknown}), $((mem_kib / 1024 / 1024)) GiB memory, $(uname -sr); $(rustc --version)."
  echo "Load average (1, 5, 15 min) when the process-level run started: $load_before (other work on the machine shares its CPUs: wall times are noisy, the interleaved ratios and CPU times less so)."
  echo
  echo "Both clients run as child processes against the same \`oidc-provider\` on 127.0.0.1;"
  echo "browser logins are approved in headless Chromium (fresh profile per login: login and consent pages)."
  echo "Requests are the clients' own (discovery, JWKS, token, device authorization), from the provider's request log."
  echo "Wall times run from process spawn to exit; peak RSS is GNU time's \`%M\`; binary sizes are of the stripped release builds."
  echo
  cat "$table"
  if [ -s "$criterion_out" ]; then
    echo
    echo "## In process (criterion, \`sdk-core/benches/access_token.rs\`)"
    echo
    echo "| benchmark | time (lower bound, estimate, upper bound) |"
    echo "| --- | --- |"
    awk '/^access_token\// {name=$1} /time:/ {sub(/^.*time: */, ""); if (name != "") print "| `" name "` | " $0 " |"; name=""}' "$criterion_out"
    echo
    echo "\`warm\`: the same client asked again; \`cold\`: a new Client per call (store read and decode);"
    echo "\`build\`: ClientBuilder::build() alone. ID token validation is crate-private and not benchmarked."
  fi
  echo
  echo "Reproduce: \`bench/run.sh\` (see bench/README.md)."
  echo
  echo "The FFI library's size and the cost of one \`accessToken()\` from Kotlin and C (issue 9 §5): bench/FFI.md"
  echo "(\`bench/ffi-size.sh\`, \`bench/ffi-speed.sh\`, run by hand)."
} >"$report_section"
. bench/sections.sh
write_section bench/REPORT.md oidc-bench "$report_section"
log "wrote the oidc-bench section of bench/REPORT.md"
cat "$report_section"
