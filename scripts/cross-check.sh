#!/usr/bin/env bash
# Compile-checks sdk-core (and zid on the desktop systems, sdk-ffi — the
# Kotlin and Swift bindings — on Android and iOS) for the platforms
# this Linux machine cannot run: macOS, iOS, Windows and Android, each with
# its OS keyring store compiled in. A check, not a build: nothing is linked
# or run.
#
# How: rustup cannot download other targets' standard libraries here, so this
# uses Debian's rustc-web toolchain and its rust-web-src to build `std` for
# each target (-Zbuild-std, allowed by RUSTC_BOOTSTRAP on this stable
# compiler). Build scripts still run for the target, and ring's compiles C
# and assembly that needs the target's SDK; scripts/cross-check/no-cc stands
# in for that C compiler and writes empty objects, which `cargo check` never
# links. So the check covers every crate's Rust code, not ring's C.
#
# Usage: scripts/cross-check.sh [TARGET...]   (default: all four)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

log() { printf 'cross-check: %s\n' "$*" >&2; }

debian_rustc=/usr/bin/rustc
debian_cargo=/usr/bin/cargo
std_src=/usr/lib/rustlib/src/rust/library
if [ ! -x "$debian_rustc" ] || [ ! -x "$debian_cargo" ] || [ ! -d "$std_src" ] \
  || ! "$debian_rustc" --version | grep -q '^rustc 1\.\(8[5-9]\|9[0-9]\)'; then
  log "installing Debian's rustc-web, cargo-web and rust-web-src"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo -n); fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq rustc-web cargo-web rust-web-src >/dev/null
fi

export RUSTC="$debian_rustc" RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CROSS_CHECK_TARGET_DIR:-$repo/target/cross-check}"

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(x86_64-apple-darwin aarch64-apple-ios x86_64-pc-windows-msvc aarch64-linux-android)
fi

for target in "${targets[@]}"; do
  unset SDKROOT
  env_target="${target//-/_}"
  export "CC_${env_target}=$repo/scripts/cross-check/no-cc"
  export "AR_${env_target}=$repo/scripts/cross-check/no-ar"
  case "$target" in
    *-linux-android)
      packages=(-p zitadel-sdk-core -p zitadel-sdk-ffi --features zitadel-sdk-core/keyring-android) ;;
    *-apple-ios)
      # cc-rs asks xcrun for the iOS SDK unless SDKROOT names one; no-cc
      # ignores it anyway.
      export SDKROOT="$repo/scripts/cross-check"
      packages=(-p zitadel-sdk-core -p zitadel-sdk-ffi) ;;
    # zid without `demo`: the embedded emulator (a development tool) links
    # OpenSSL, which the desktop targets' cross builds do not have here.
    *) packages=(-p zitadel-sdk-core -p zid --no-default-features
                 --features zitadel-sdk-core/keyring,zid/keyring) ;;
  esac
  log "$target: cargo check ${packages[*]}"
  "$debian_cargo" check --quiet -Zbuild-std=std,panic_abort --target "$target" \
    --locked "${packages[@]}"
  log "$target: ok"
done
