#!/usr/bin/env bash
# Builds sdk-ffi as the static library an app links, for Android
# (aarch64-linux-android) and iOS (aarch64-apple-ios), release profile, and
# checks what came out: every object of the archive is for the target's
# architecture, and the C ABI and the uniffi scaffolding are in it.
#
# Neither the Android NDK nor Xcode is here, so nothing is linked (a cdylib
# for Android and the XCFramework need them: bindings/README.md gives the
# commands). The Rust standard libraries come from rustup. ring's C and
# assembly are compiled by Debian's clang for the target without a libc
# sysroot — the way ring itself cross-builds for targets without one
# (-nostdlibinc, RING_CORE_NOSTDLIBINC) — and, for iOS, with
# scripts/cross-check/ios-include/TargetConditionals.h standing in for the
# SDK's header (ring reads TARGET_OS_IPHONE/OSX from it, nothing else).
#
# Usage: scripts/mobile-static-libs.sh [TARGET...]   (default: both)
# Honours CARGO_TARGET_DIR (default: target/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
log() { printf 'mobile-static-libs: %s\n' "$*" >&2; }
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")"

if ! command -v clang >/dev/null 2>&1 || ! command -v llvm-ar >/dev/null 2>&1 \
  || ! command -v llvm-nm >/dev/null 2>&1; then
  log "installing clang and llvm"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo -n); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq </dev/null
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends clang llvm </dev/null >/dev/null
fi

targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(aarch64-linux-android aarch64-apple-ios)
# The targets' standard libraries from rustup; where rustup cannot download
# them (or ZID_MOBILE_BUILD_STD=1), std is built from source with Debian's
# rustc-web, as scripts/cross-check.sh does.
cargo=(cargo)
if [ "${ZID_MOBILE_BUILD_STD:-0}" != 1 ]; then
  installed="$(rustup target list --installed 2>/dev/null || true)"
  for target in "${targets[@]}"; do
    if ! grep -qx "$target" <<<"$installed" && ! rustup target add "$target"; then
      log "rustup could not install the standard library for $target"
      ZID_MOBILE_BUILD_STD=1
    fi
  done
fi
if [ "${ZID_MOBILE_BUILD_STD:-0}" = 1 ]; then
  if [ ! -x /usr/bin/rustc ] || [ ! -x /usr/bin/cargo ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
    log "installing Debian's rustc-web, cargo-web and rust-web-src"
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo -n); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq </dev/null
    "${sudo[@]}" apt-get install -y -qq rustc-web cargo-web rust-web-src </dev/null >/dev/null
  fi
  log "building std from source with $(/usr/bin/rustc --version)"
  export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_DIR="$target_dir/mobile-build-std"
  target_dir="$CARGO_TARGET_DIR"
  cargo=(/usr/bin/cargo -Zbuild-std=std,panic_abort)
fi

cflags="-ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1"
for target in "${targets[@]}"; do
  start=$(date +%s)
  env_target="${target//-/_}"
  case "$target" in
    # ELF, 64-bit, little-endian
    *-linux-android) format=elf magic=7f454c460201; prefix='' ;;
    *-apple-ios)
      # MH_MAGIC_64, CPU_TYPE_ARM64 (little-endian)
      format=mach-o magic=cffaedfe0c000001; prefix='_'
      # cc-rs asks xcrun for the SDK unless SDKROOT names one; only the
      # stand-in header is read from it.
      export SDKROOT="$repo/scripts/cross-check"
      cflags_target="$cflags -I$repo/scripts/cross-check/ios-include" ;;
    *) log "unknown target $target"; exit 2 ;;
  esac
  export "CC_${env_target}=clang" "AR_${env_target}=llvm-ar" \
    "CFLAGS_${env_target}=${cflags_target:-$cflags}"
  log "$target: cargo rustc -p zitadel-sdk-ffi --release --crate-type staticlib"
  "${cargo[@]}" rustc --quiet --locked -p zitadel-sdk-ffi --lib --release --crate-type staticlib \
    --target "$target"
  lib="$target_dir/$target/release/libzitadel_sdk_ffi.a"
  # Each member's header: an ELF for AArch64 (e_machine 183) on Android, a
  # 64-bit Mach-O for arm64 (cputype 0x0100000c) on iOS. (Debian's
  # llvm-objdump is older than rustc's LLVM and cannot read every member.)
  members_dir="$(mktemp -d)"
  (cd "$members_dir" && llvm-ar x "$lib")
  members=0 wrong=()
  for member in "$members_dir"/*; do
    members=$((members + 1))
    header="$(od -An -tx1 -N20 "$member" | tr -d ' \n')"
    case "$header" in
      "$magic"*) ;;
      *) wrong+=("${member##*/}") ;;
    esac
    # ELF: e_machine (bytes 18-19) must be AArch64.
    if [ "$format" = elf ] && [ "${header:36:4}" != b700 ]; then wrong+=("${member##*/}"); fi
  done
  rm -rf "$members_dir"
  if [ "$members" -eq 0 ] || [ "${#wrong[@]}" -ne 0 ]; then
    log "FAILED: $lib has $members objects; not $target: ${wrong[*]}"
    exit 1
  fi
  # (llvm-nm exits non-zero for archive members without symbols)
  symbols="$({ llvm-nm --defined-only "$lib" 2>/dev/null || true; } | awk '$2 == "T" { print $3 }')"
  for symbol in zid_client_new zid_call_async ffi_zitadel_sdk_ffi_uniffi_contract_version \
    uniffi_zitadel_sdk_ffi_fn_constructor_zitadelclient_new; do
    if ! grep -qx "$prefix$symbol" <<<"$symbols"; then
      log "FAILED: $lib does not define $symbol"
      exit 1
    fi
  done
  unset SDKROOT cflags_target
  log "$target: ok ($members $format objects for $target, $(($(stat -c %s "$lib") / 1000000)) MB, $(($(date +%s) - start))s)"
done
