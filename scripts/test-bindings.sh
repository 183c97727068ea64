#!/usr/bin/env bash
# Tests the bindings of sdk-ffi (bindings/): the C header drift check, the C
# test and example against the emulator, the drift check of the committed
# Swift code (bindings/swift) and a gcc check of its FFI header, and the
# Kotlin tests (mvn test).
# Installs what it needs on a fresh Debian machine: gcc, libcurl (the C test's
# HTTP client), jq, a JDK, Maven, Chromium and chromedriver (Debian
# packages), and cbindgen 0.29 (cargo install, into the target directory).
#
# Usage: scripts/test-bindings.sh [--write-header] [--write-swift]
#   --write-header  regenerate bindings/c/zitadel_sdk.h instead of checking it
#   --write-swift   regenerate the committed Swift code (bindings/swift/Sources/ZitadelSdkFFI,
#                   bindings/swift/ffi) instead of checking it
# Honours CARGO_TARGET_DIR (default: target/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
# Absolute: mvn runs in bindings/kotlin.
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")"
write_header=false
write_swift=false
for arg in "$@"; do
  case "$arg" in
    --write-header) write_header=true ;;
    --write-swift) write_swift=true ;;
    *) printf 'usage: scripts/test-bindings.sh [--write-header] [--write-swift]\n' >&2; exit 2 ;;
  esac
done

log() { printf 'test-bindings: %s\n' "$*" >&2; }
elapsed() { printf 'test-bindings: %s took %ss\n' "$1" "$(($(date +%s) - $2))" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# --- Debian packages -------------------------------------------------------------
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q </dev/null
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

# --- cbindgen 0.29 (a tool, not a build-dependency: see bindings/README.md) -------
cbindgen="$target_dir/tools/bin/cbindgen"
if ! "$cbindgen" --version 2>/dev/null | grep -q '^cbindgen 0\.29\.'; then
  log "installing cbindgen 0.29"
  cargo install --quiet cbindgen --version '0.29.*' --locked --root "$target_dir/tools"
fi

# --- C header: generated, committed, checked for drift ----------------------------
start=$(date +%s)
header=bindings/c/zitadel_sdk.h
generated="$(mktemp)"
trap 'rm -f "$generated"' EXIT
"$cbindgen" --quiet --config bindings/c/cbindgen.toml --crate zitadel-sdk-ffi \
  --output "$generated" sdk-ffi
if $write_header; then
  cp "$generated" "$header"
  log "wrote $header"
elif ! diff -u "$header" "$generated"; then
  log "FAILED: $header differs from the code; run scripts/test-bindings.sh --write-header"
  exit 1
else
  log "$header matches the code"
fi
elapsed "the header check" "$start"

# --- builds ------------------------------------------------------------------------
start=$(date +%s)
log "building sdk-ffi (with uniffi-bindgen) and the emulator"
# One invocation with the same arguments as bindings/kotlin/pom.xml: built
# separately, the two would unify features differently and rebuild.
cargo build --quiet --locked -p zitadel-sdk-ffi -p zitadel-emulator \
  --features zitadel-sdk-ffi/bindgen,zitadel-sdk-ffi/software-authenticator,zitadel-sdk-ffi/keyring --lib --bins
lib_dir="$target_dir/debug"
emulator="$target_dir/debug/zitadel-emulator"
elapsed "the builds" "$start"

# --- C test and example --------------------------------------------------------------
start=$(date +%s)
c_out="$target_dir/bindings-c"
mkdir -p "$c_out"
cflags=(-std=c11 -Wall -Wextra -Werror -Wpedantic -I bindings/c)
link=(-L "$lib_dir" -Wl,-rpath,"$lib_dir" -lzitadel_sdk_ffi)
gcc "${cflags[@]}" -o "$c_out/game_loop" bindings/c/example/game_loop.c "${link[@]}"
# shellcheck disable=SC2046
gcc "${cflags[@]}" -o "$c_out/device_flow_test" bindings/c/test/device_flow_test.c \
  "${link[@]}" $(pkg-config --cflags --libs libcurl)
# The header is C++-compatible too.
if command -v g++ >/dev/null 2>&1; then
  echo '#include "zitadel_sdk.h"' | g++ -x c++ -fsyntax-only -Wall -Werror -I bindings/c -
fi
"$c_out/device_flow_test" "$emulator"
# The example against an emulator: nobody approves, so after 30 frames it
# cancels the wait like a player pressing "back".
seed_file="$c_out/emulator.json"
: >"$seed_file"
"$emulator" --port 0 >"$seed_file" 2>/dev/null &
emu_pid=$!
for _ in $(seq 100); do [ -s "$seed_file" ] && break; sleep 0.1; done
seed="$(head -n 1 "$seed_file")"
example_output="$("$c_out/game_loop" "$(jq -r .issuer <<<"$seed")" "$(jq -r .client_id <<<"$seed")" 30)" || true
kill "$emu_pid"
wait "$emu_pid" 2>/dev/null || true
printf '%s\n' "$example_output"
if ! grep -q '^Sign-in cancelled after' <<<"$example_output"; then
  log "FAILED: the game-loop example did not end with a cancelled sign-in"
  exit 1
fi
elapsed "the C test" "$start"

# --- Swift: what a Linux machine can check --------------------------------------------
# No Swift toolchain here. The generated Swift code is committed (the Swift
# package builds from the repository, without cargo): generate it and compare
# it with the committed copy, then check that the C header of its FFI module
# compiles (gcc knows no _Nonnull/_Nullable: defined away).
start=$(date +%s)
swift_out="$target_dir/bindings-swift"
rm -rf "$swift_out"
"$target_dir/debug/uniffi-bindgen" generate --library "$lib_dir/libzitadel_sdk_ffi.so" \
  --language swift --config uniffi.toml --no-format --out-dir "$swift_out" >/dev/null
# uniffi's module map names the clang builtin modules _Builtin_stdbool and
# _Builtin_stdint, which Xcode 26 no longer has: the FFI module would not build
# there (uniffi-rs issue 2917). The committed module map leaves those two out.
grep -v '^[[:space:]]*use "_Builtin_' "$swift_out/ZitadelSdkFFIC.modulemap" >"$swift_out/module.modulemap"
# generated file -> committed copy (bindings/swift/ffi is a SwiftPM system-library target)
swift_files=(
  "ZitadelSdkFFI.swift:bindings/swift/Sources/ZitadelSdkFFI/ZitadelSdkFFI.swift"
  "ZitadelSdkFFIC.h:bindings/swift/ffi/ZitadelSdkFFIC.h"
  "module.modulemap:bindings/swift/ffi/module.modulemap"
)
swift_drift=false
for pair in "${swift_files[@]}"; do
  generated_file="$swift_out/${pair%%:*}"
  committed="${pair#*:}"
  if $write_swift; then
    cp "$generated_file" "$committed"
    log "wrote $committed"
  elif ! diff -u "$committed" "$generated_file"; then
    swift_drift=true
  fi
done
if $swift_drift; then
  log "FAILED: the committed Swift bindings differ from the code; run scripts/test-bindings.sh --write-swift"
  exit 1
fi
$write_swift || log "the committed Swift bindings match the code"
printf '#include "ZitadelSdkFFIC.h"\n' \
  | gcc -fsyntax-only -Wall -Werror -D_Nonnull= -D_Nullable= -I bindings/swift/ffi -x c -
log "the committed Swift FFI header compiles with gcc"
elapsed "the Swift checks" "$start"

# --- Kotlin ---------------------------------------------------------------------------
start=$(date +%s)
# mvn builds sdk-ffi and the emulator (a no-op now), regenerates the Kotlin
# code with uniffi-bindgen and runs the JVM tests.
(cd bindings/kotlin && mvn -B -ntp -Dzitadel.cargoTargetDir="$target_dir" test)
elapsed "the Kotlin tests" "$start"
