#!/usr/bin/env bash
# Builds bindings/swift/ZitadelSdkFFILib.xcframework, the binary target of the
# Swift package: the static library of sdk-ffi (libzitadel_sdk_ffi.a) for
# iOS devices, the iOS simulator and macOS. It carries no headers: the C
# module is the package's system-library target ffi/. Runs on macOS with
# Xcode and rustup.
#
# Before building it checks that the committed Swift code
# (Sources/ZitadelSdkFFI, ffi/) matches the library, as scripts/test-bindings.sh
# does on Linux.
#
# Usage: bindings/swift/build-xcframework.sh [--macos-only] [--debug] [--write-swift]
#   --macos-only   only the macOS slice of the host architecture (enough for `swift test`)
#   --debug        debug builds (faster to build; the release profile is the one to ship)
#   --write-swift  update the committed Swift code from the library instead of failing on drift
# Honours CARGO_TARGET_DIR (default: target/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$PWD"
target_dir="$(cd "$repo" && mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)"
swift_dir="$repo/bindings/swift"
output="$swift_dir/ZitadelSdkFFILib.xcframework"

macos_only=false
profile=release
write_swift=false
for arg in "$@"; do
  case "$arg" in
    --macos-only) macos_only=true ;;
    --debug) profile=debug ;;
    --write-swift) write_swift=true ;;
    *) printf 'usage: bindings/swift/build-xcframework.sh [--macos-only] [--debug] [--write-swift]\n' >&2; exit 2 ;;
  esac
done

log() { printf 'build-xcframework: %s\n' "$*" >&2; }

if [ "$(uname -s)" != Darwin ]; then
  log "needs macOS with Xcode (xcodebuild, lipo); on Linux scripts/test-bindings.sh checks the Swift code"
  exit 1
fi
for tool in cargo rustup xcodebuild lipo; do
  command -v "$tool" >/dev/null 2>&1 || { log "missing $tool"; exit 1; }
done

# The package's minimum platforms (Package.swift): the libraries must not ask for newer ones.
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

host_arch="$(uname -m)"
[ "$host_arch" = arm64 ] && host_arch=aarch64
host_target="$host_arch-apple-darwin"
if $macos_only; then
  targets=("$host_target")
else
  targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
fi

# --- the libraries -------------------------------------------------------------------
log "adding the Rust targets: ${targets[*]}"
rustup target add "${targets[@]}" >/dev/null
cargo_profile=()
[ "$profile" = release ] && cargo_profile=(--release)
for t in "${targets[@]}"; do
  log "building sdk-ffi for $t ($profile)"
  # (the ${a[@]+…} form: macOS ships bash 3.2, where an empty array is "unbound")
  cargo build --locked -p zitadel-sdk-ffi --lib ${cargo_profile[@]+"${cargo_profile[@]}"} --target "$t"
done
lib() { printf '%s/%s/%s/libzitadel_sdk_ffi.%s' "$target_dir" "$1" "$profile" "$2"; }

# --- the committed Swift code must match the library ----------------------------------
log "checking the committed Swift code against the library"
cargo build --locked -p zitadel-sdk-ffi --features bindgen --bin uniffi-bindgen
generated="$(mktemp -d)"
staging="$(mktemp -d)"
trap 'rm -rf "$generated" "$staging"' EXIT
"$target_dir/debug/uniffi-bindgen" generate --library "$(lib "$host_target" dylib)" \
  --language swift --config uniffi.toml --no-format --out-dir "$generated" >/dev/null
# Without the clang builtin modules Xcode 26 no longer has (as scripts/test-bindings.sh).
grep -v '^[[:space:]]*use "_Builtin_' "$generated/ZitadelSdkFFIC.modulemap" >"$generated/module.modulemap"
drift=false
for pair in \
  "ZitadelSdkFFI.swift:Sources/ZitadelSdkFFI/ZitadelSdkFFI.swift" \
  "ZitadelSdkFFIC.h:ffi/ZitadelSdkFFIC.h" \
  "module.modulemap:ffi/module.modulemap"; do
  committed="$swift_dir/${pair#*:}"
  if $write_swift; then
    cp "$generated/${pair%%:*}" "$committed"
    log "wrote ${committed#"$repo"/}"
  elif ! diff -q "$committed" "$generated/${pair%%:*}" >/dev/null; then
    log "${committed#"$repo"/} differs from the library"
    drift=true
  fi
done
if $drift; then
  log "FAILED: the committed Swift code is out of date; run with --write-swift (or scripts/test-bindings.sh --write-swift) and commit"
  exit 1
fi

# --- fat libraries per platform, the XCFramework -----------------------------------------
fat() { # fat NAME TARGET... : one static library for one platform
  local name="$1"
  shift
  mkdir -p "$staging/$name"
  local inputs=()
  for t in "$@"; do inputs+=("$(lib "$t" a)"); done
  lipo -create "${inputs[@]}" -output "$staging/$name/libzitadel_sdk_ffi.a"
  printf '%s' "$staging/$name/libzitadel_sdk_ffi.a"
}

args=()
if $macos_only; then
  args+=(-library "$(fat macos "$host_target")")
else
  args+=(-library "$(fat ios aarch64-apple-ios)")
  args+=(-library "$(fat ios-simulator aarch64-apple-ios-sim x86_64-apple-ios)")
  args+=(-library "$(fat macos aarch64-apple-darwin x86_64-apple-darwin)")
fi
rm -rf "$output"
xcodebuild -create-xcframework "${args[@]}" -output "$output" >/dev/null
log "wrote ${output#"$repo"/} ($profile)"
