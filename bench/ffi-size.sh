#!/usr/bin/env bash
# Issue 9 §5, size: the stripped release FFI library (libzitadel_sdk_ffi.so,
# x86_64 Linux) per optional feature and per opt-level, and what dominates it
# (cargo bloat --crates). Writes the "size" section of bench/FFI.md.
#
# Usage: bench/ffi-size.sh         (no stdin; run by hand, not by CI: about
#                                   six fat-LTO builds, 15-30 min on 2 cores)
# Env:   CARGO_TARGET_DIR (default: the workspace's target/),
#        BENCH_NICE (nice level of the builds, default 15),
#        BENCH_REPORT_ONLY=1 (no builds: the section from target/ffi-size/),
#        BENCH_KEEP_PROFILES=1 (keep the build directories of the temporary
#        profiles, ~0.5-1.2 GB each; by default each is removed after use).
#
# Every build is `cargo build -p zitadel-sdk-ffi --lib` with the workspace's
# release profile (or a profile inheriting it, defined here with --config so
# Cargo.toml keeps only the one shipped profile); each .so is copied to
# $target/ffi-size/ before the next build replaces it.
set -euo pipefail
exec </dev/null

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
log() { printf 'ffi-size: %s\n' "$*" >&2; }
target="${CARGO_TARGET_DIR:-$repo/target}"
out="$target/ffi-size"
mkdir -p "$out"
nice=(nice -n "${BENCH_NICE:-15}")

# A profile inheriting release with one setting changed, as --config arguments.
profile_args() { # NAME KEY VALUE
  printf '%s\n' --config "profile.$1.inherits=\"release\"" --config "profile.$1.$2=$3"
}

# build NAME PROFILE [cargo args...]: builds and keeps a copy of the .so.
build() {
  local name="$1" profile="$2"
  shift 2
  if [ "${BENCH_REPORT_ONLY:-0}" = 1 ]; then return; fi
  log "building $name (profile $profile${*:+, $*})"
  "${nice[@]}" cargo build --quiet --locked -p zitadel-sdk-ffi --lib --profile "$profile" "$@"
  cp "$target/$profile/libzitadel_sdk_ffi.so" "$out/$name.so"
  # A profile of its own is a full build (~0.5 GB): not kept.
  if [ "$profile" != release ] && [ "${BENCH_KEEP_PROFILES:-0}" != 1 ]; then rm -rf "${target:?}/$profile"; fi
}

has_feature() { grep -Eq "^$1 *=" sdk-ffi/Cargo.toml; }

# --- features (release profile as shipped) ------------------------------------------
build default release
build keyring release --features keyring
variants=(default keyring)
all=(keyring)
if has_feature software-authenticator; then
  build software-authenticator release --features software-authenticator
  variants+=(software-authenticator)
  all+=(software-authenticator)
else
  log "sdk-ffi has no software-authenticator feature: not measured"
fi
if [ "${#all[@]}" -gt 1 ]; then
  build all-features release --features "$(IFS=,; echo "${all[*]}")"
  variants+=(all-features)
fi

# --- opt-level (default features; "s" is the release build above) ------------------
mapfile -t z_args < <(profile_args ffi-size-z opt-level '"z"')
build opt-z ffi-size-z "${z_args[@]}"
mapfile -t o3_args < <(profile_args ffi-size-o3 opt-level 3)
build opt-3 ffi-size-o3 "${o3_args[@]}"
# For comparison only: panic = "abort" is not shippable (uniffi and the C ABI
# catch a panic and return an error instead of aborting the host app).
mapfile -t abort_args < <(profile_args ffi-size-abort panic '"abort"')
build panic-abort ffi-size-abort "${abort_args[@]}"

# --- what dominates it: cargo bloat on the same profile without stripping ------------
bloat() { # OUTPUT [cargo args...]
  [ "${BENCH_REPORT_ONLY:-0}" = 1 ] && return
  local output="$1"
  shift
  # cargo bloat passes on one --config only (and no inline table): the rest
  # of the profile comes from the environment.
  PATH="$target/tools/bin:$PATH" CARGO_PROFILE_FFI_SIZE_BLOAT_STRIP=false "${nice[@]}" \
    cargo bloat --locked -p zitadel-sdk-ffi --lib --profile ffi-size-bloat \
    --config 'profile.ffi-size-bloat.inherits="release"' --crates -n 25 "$@" >"$out/$output"
}
if [ "${BENCH_REPORT_ONLY:-0}" != 1 ] && [ ! -x "$target/tools/bin/cargo-bloat" ]; then
  log "installing cargo-bloat into $target/tools"
  "${nice[@]}" cargo install --quiet cargo-bloat --version '0.12.*' --locked --root "$target/tools"
fi
log "cargo bloat --crates (profile ffi-size-bloat: release without strip)"
bloat bloat-crates.txt
bloat bloat-crates-all.txt --features "$(IFS=,; echo "${all[*]}")"
[ "${BENCH_KEEP_PROFILES:-0}" = 1 ] || rm -rf "${target:?}/ffi-size-bloat"

# --- the section ------------------------------------------------------------------------
bytes() { stat -c %s "$out/$1.so"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB (%.2f MiB)", b / 1e6, b / 1048576 }'; }
delta() { awk -v b="$1" -v a="$2" 'BEGIN { d = b - a; printf "%+.0f KB", d / 1e3 }'; }
base=$(bytes default)
section="$(mktemp)"
trap 'rm -f "$section"' EXIT
bloat_table() { # FILE: cargo bloat's table as markdown
  awk 'BEGIN { print "| file | .text | size | crate |"; print "| ---: | ---: | ---: | --- |" }
       /^ *[0-9.]+% +[0-9.]+% / { name = $4; for (i = 5; i <= NF; i++) name = name " " $i;
         printf "| %s | %s | %s | %s |\n", $1, $2, $3, name }
       /^File +\.text/ { next }' "$1"
  grep -E '^Note|^Warning' "$1" | sed 's/^/> /' || true
}
{
  echo "## Size of the release FFI library (issue 9 §5)"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/ffi-size.sh\` at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- sdk-core sdk-ffi Cargo.toml || echo ' (with uncommitted changes)'); $(rustc --version); x86_64 Linux."
  echo
  echo "\`cargo build --release -p zitadel-sdk-ffi --lib\`: the root release profile (\`opt-level = \"s\"\`, fat LTO,"
  echo "one codegen unit, \`strip = \"symbols\"\`; \`panic\` stays \`unwind\`: uniffi and the C ABI catch panics at the boundary)."
  echo "Target: at most 6 MB with every flow in it; Mozilla's fxa-client ships about 3.5 MB per architecture."
  echo
  echo "| features | stripped \`libzitadel_sdk_ffi.so\` | against default |"
  echo "| --- | ---: | ---: |"
  for v in "${variants[@]}"; do
    b=$(bytes "$v")
    label="$v"
    [ "$v" = all-features ] && label="all: $(IFS=,; echo "${all[*]}")"
    echo "| $label | $b bytes = $(mb "$b") | $( [ "$v" = default ] && echo — || delta "$b" "$base") |"
  done
  has_feature software-authenticator || echo "| software-authenticator | not measured: sdk-ffi declares no such feature at this commit | |"
  echo
  echo "### opt-level (default features, everything else as the release profile)"
  echo
  echo "| opt-level | stripped size | against \"s\" |"
  echo "| --- | ---: | ---: |"
  echo "| \"s\" (shipped) | $base bytes = $(mb "$base") | — |"
  for v in opt-z:'"z"' opt-3:3; do
    f="${v%%:*}"
    b=$(bytes "$f")
    echo "| ${v#*:} | $b bytes = $(mb "$b") | $(delta "$b" "$base") |"
  done
  b=$(bytes panic-abort)
  echo
  echo "For comparison, \`panic = \"abort\"\` (opt-level \"s\"): $b bytes = $(mb "$b"), $(delta "$b" "$base") — not shippable:"
  echo "uniffi and the C ABI catch a panic and return an error; with abort a panic would end the host app."
  echo
  echo "### Sections of the stripped library (default features, \`size -A\`)"
  echo
  echo "| section | bytes | share |"
  echo "| --- | ---: | ---: |"
  size -A "$out/default.so" | awk -v total="$base" '$1 ~ /^\./ && $2 >= 4096 {
    printf "| `%s` | %d | %.1f%% |\n", $1, $2, 100 * $2 / total }' | sort -t'|' -k3 -n -r
  echo
  echo "\`.eh_frame\`, \`.eh_frame_hdr\` and \`.gcc_except_table\` are the unwinding tables of \`panic = \"unwind\"\`;"
  echo "\`.rela.dyn\` and \`.data.rel.ro\` the relocations and relocated constants (vtables, string tables) of position-independent code."
  echo
  echo "### What dominates it: \`cargo bloat --crates\`, default features"
  echo
  echo "\`cargo bloat -p zitadel-sdk-ffi --lib --crates\` on a profile inheriting release with \`strip = false\`"
  echo "(defined on the command line: \`CARGO_PROFILE_FFI_SIZE_BLOAT_STRIP=false cargo bloat --profile ffi-size-bloat --config 'profile.ffi-size-bloat.inherits=\"release\"'\`)."
  echo "\`file\` is the share of the unstripped file, \`.text\` the share of the code section; generic code is counted"
  echo "in the crate it was instantiated in, and \`std\` includes what LTO inlined from it."
  echo
  bloat_table "$out/bloat-crates.txt"
  if [ -s "$out/bloat-crates-all.txt" ]; then
    echo
    echo "### \`cargo bloat --crates\` with all optional features ($(IFS=,; echo "${all[*]}"))"
    echo
    bloat_table "$out/bloat-crates-all.txt"
  fi
  echo
  echo "Reproduce: \`bench/ffi-size.sh\` (the copies of every .so stay in \`target/ffi-size/\`)."
} >"$section"

. bench/sections.sh
write_section bench/FFI.md ffi-size "$section" "# FFI library: size and speed (issue 9 §5)"
log "wrote the size section of bench/FFI.md"
cat "$section"
