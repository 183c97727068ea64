#!/usr/bin/env bash
# Issue 9 §5, speed: one access_token() call with a valid cached token, from
# Rust, from C (zid_access_token, blocking) and from Kotlin through uniffi
# (ZitadelClient.accessToken(), suspend), timed call by call in the same run.
# Writes the "speed" section of bench/FFI.md.
#
# Usage: bench/ffi-speed.sh        (no stdin; run by hand, not by CI)
# Env:   BENCH_ROUNDS (3: Rust, C and Kotlin interleaved, each round a new
#        process), BENCH_N (10000 timed calls per measurement and round),
#        BENCH_WARMUP (10000 untimed calls first: the JIT compiles the Kotlin
#        path), BENCH_NICE (15, the builds),
#        CARGO_TARGET_DIR (default: the workspace's target/).
#
# No server: the Rust side writes a signed-in session (valid for a day) into a
# file store the way the SDK does; C and Kotlin open the same directory with
# the same issuer and client id. Needs gcc, a JDK and Maven
# (scripts/install-test-deps.sh installs them).
set -euo pipefail
exec </dev/null

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
log() { printf 'ffi-speed: %s\n' "$*" >&2; }
target="${CARGO_TARGET_DIR:-$repo/target}"
rounds="${BENCH_ROUNDS:-3}"
n="${BENCH_N:-10000}"
warmup="${BENCH_WARMUP:-10000}"
nice=(nice -n "${BENCH_NICE:-15}")
for tool in gcc java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing: run scripts/install-test-deps.sh"; exit 1; }
done

# --- builds ------------------------------------------------------------------------------
log "building the release library, the debug library with uniffi-bindgen, and the Rust benchmark"
"${nice[@]}" cargo build --quiet --locked --release -p zitadel-sdk-ffi --lib
# The stripped release library has no uniffi metadata left: the Kotlin code is
# generated from the debug build of the same source (same API checksums).
"${nice[@]}" cargo build --quiet --locked -p zitadel-sdk-ffi --features bindgen --lib --bins
rust_bench="$("${nice[@]}" cargo bench --quiet --locked -p zitadel-sdk-ffi --bench ffi_access_token \
  --no-run --message-format=json | sed -n 's/.*"executable":"\([^"]*ffi_access_token[^"]*\)".*/\1/p' | tail -n 1)"
[ -x "$rust_bench" ] || { log "the Rust benchmark was not built"; exit 1; }
lib_dir="$target/release"
work="$target/ffi-speed"
rm -rf "$work"
mkdir -p "$work/samples" "$work/store"
log "building the C benchmark (gcc -O2)"
gcc -O2 -std=c11 -Wall -Werror -I bindings/c -o "$work/access_token_bench" \
  bench/ffi-c/access_token_bench.c -L "$lib_dir" -Wl,-rpath,"$lib_dir" -lzitadel_sdk_ffi
log "building the Kotlin benchmark (Maven)"
mvn -q -B -ntp -f bench/ffi-kotlin/pom.xml -Dzitadel.cargoTargetDir="$target" \
  compile dependency:build-classpath
kotlin_cp="bench/ffi-kotlin/target/classes:$(cat bench/ffi-kotlin/target/classpath.txt)"

# --- the runs ------------------------------------------------------------------------------
ZID_BENCH_STORE="$work/store" ZID_BENCH_PREPARE_ONLY=1 "$rust_bench"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  log "round $round of $rounds"
  ZID_BENCH_STORE="$work/store" ZID_BENCH_OUT="$work/samples" ZID_BENCH_ROUND="$round" \
    ZID_BENCH_N="$n" ZID_BENCH_WARMUP="$warmup" "$rust_bench" >&2
  "$work/access_token_bench" "$work/store" "$work/samples/c-blocking.$round.txt" "$n" "$warmup" >&2
  java -Djna.library.path="$lib_dir" -cp "$kotlin_cp" com.zitadel.sdk.bench.AccessTokenBenchKt \
    "$work/store" "$work/samples" "$round" "$n" "$warmup" >&2
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- statistics ------------------------------------------------------------------------------
# stats NAME: "median p10 p90 min-of-round-medians max-of-round-medians" in µs.
quantile() { # SORTED_FILE Q
  awk -v q="$2" '{ v[NR] = $1 } END { i = int((NR - 1) * q) + 1; printf "%.2f", v[i] / 1000 }' "$1"
}
stats() {
  local name="$1" all="$work/$1.sorted" medians=()
  cat "$work/samples/$name".*.txt | sort -n >"$all"
  for f in "$work/samples/$name".*.txt; do
    medians+=("$(sort -n "$f" | quantile /dev/stdin 0.5)")
  done
  printf '%s %s %s %s %s\n' "$(quantile "$all" 0.5)" "$(quantile "$all" 0.1)" "$(quantile "$all" 0.9)" \
    "$(printf '%s\n' "${medians[@]}" | sort -g | head -n 1)" "$(printf '%s\n' "${medians[@]}" | sort -g | tail -n 1)"
}
read -r base _ < <(stats rust-core-task)
section="$(mktemp)"
trap 'rm -f "$section"' EXIT
row() { # NAME DESCRIPTION
  local med p10 p90 lo hi
  read -r med p10 p90 lo hi < <(stats "$1")
  awk -v d="$2" -v m="$med" -v a="$p10" -v b="$p90" -v lo="$lo" -v hi="$hi" -v base="$base" 'BEGIN {
    printf "| %s | **%.2f** | %.2f – %.2f | %.2f – %.2f | %.1f× | %+.2f |\n", d, m, a, b, lo, hi, m / base, m - base }'
}
mem_kib="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
{
  echo "## Speed: one \`access_token()\` call with a valid cached token (issue 9 §5)"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/ffi-speed.sh\` at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- sdk-core sdk-ffi bench ':!bench/FFI.md' ':!bench/REPORT.md' || echo ' (with uncommitted changes)')."
  echo "Machine: $(nproc) CPUs (${cpu:-unknown}), $((mem_kib / 1024 / 1024)) GiB memory, $(uname -sr); $(rustc --version); $(java -version 2>&1 | head -n 1)."
  echo "Load average (1, 5, 15 min) before / after the runs: $load_before / $load_after (the machine is shared: medians are steadier than the tails)."
  echo
  echo "The stripped release library (\`cargo build --release -p zitadel-sdk-ffi\`); $rounds rounds, each running Rust, C and"
  echo "Kotlin one after the other in new processes; per measurement and round $warmup untimed calls, then $n calls"
  echo "timed one by one (\`Instant\`, \`clock_gettime(CLOCK_MONOTONIC)\`, \`System.nanoTime\`: the timer's own cost, some"
  echo "20–40 ns, is in every figure). Median and p10–p90 over all rounds' samples; the range of the rounds' medians."
  echo "Each call returns the 43-character token (checked). The overhead columns are against Rust's own call in a task."
  echo
  echo "| call | median µs | p10 – p90 µs | round medians µs | × Rust | overhead µs |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  row rust-core-task "Rust: \`zitadel_sdk::Client::access_token().await\` in a task (current-thread runtime)"
  row rust-core-block-on "Rust: \`block_on(client.access_token())\` per call (current-thread runtime)"
  row rust-ffi-await "Rust: the exported \`zitadel_sdk_ffi::ZitadelClient::access_token().await\` (a token in memory is returned on the caller's thread; no foreign side)"
  row rust-ffi-session-await "Rust, for comparison: the exported \`ZitadelClient::session().await\` (the session in memory): the hop onto the SDK's runtime and back that every call doing work pays"
  row c-blocking "C: \`zid_access_token\` (blocking) + \`zid_string_free\`"
  row kotlin-suspend "Kotlin: \`ZitadelClient.accessToken()\` (uniffi, suspend) in one coroutine"
  row kotlin-blocking "Kotlin: \`runBlocking { accessToken() }\` per call"
  row kotlin-sync-cached "Kotlin: \`client.cachedAccessToken()\` (uniffi, synchronous; the token in memory or null)"
  row kotlin-sync-account "Kotlin, for comparison: \`client.account()\`, a synchronous uniffi call returning a String (no runtime hop)"
  echo
  echo "Sources: \`sdk-ffi/benches/ffi_access_token.rs\` (Rust, and the session it writes), \`bench/ffi-c/access_token_bench.c\`,"
  echo "\`bench/ffi-kotlin/\` (Kotlin on the JVM; uniffi's generated code over JNA). Reproduce: \`bench/ffi-speed.sh\`"
  echo "(knobs: \`BENCH_ROUNDS\`, \`BENCH_N\`, \`BENCH_WARMUP\`; the raw samples stay in \`target/ffi-speed/samples/\`)."
} >"$section"

. bench/sections.sh
write_section bench/FFI.md ffi-speed "$section" "# FFI library: size and speed (issue 9 §5)"
log "wrote the speed section of bench/FFI.md"
cat "$section"
