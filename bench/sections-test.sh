#!/usr/bin/env bash
# Tests bench/sections.sh: a benchmark script rewrites only its own section
# of a report; text written by hand and other scripts' sections stay.
# Usage: bench/sections-test.sh   (run by scripts/test.sh; no build, < 1 s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/sections.sh
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { printf 'sections-test: FAILED: %s\n' "$*" >&2; exit 1; }
expect() { # FILE TEXT
  diff -u <(printf '%s' "$2") "$1" >&2 || fail "$1 is not as expected"
}

printf 'one\n' >"$dir/one"
printf 'two\nlines\n' >"$dir/two"

# A missing report is created with its title and the section.
write_section "$dir/new.md" a "$dir/one" "# Title"
expect "$dir/new.md" $'# Title\n\n<!-- a:begin -->\none\n<!-- a:end -->\n'

# A report without the markers keeps its text; the section is appended.
printf '# Report\n\nby hand\n' >"$dir/r.md"
write_section "$dir/r.md" a "$dir/one"
write_section "$dir/r.md" b "$dir/one"
printf 'more by hand\n' >>"$dir/r.md"
# Rewriting a section replaces only what is between its markers.
write_section "$dir/r.md" a "$dir/two"
expect "$dir/r.md" $'# Report\n\nby hand\n\n<!-- a:begin -->\ntwo\nlines\n<!-- a:end -->\n\n<!-- b:begin -->\none\n<!-- b:end -->\nmore by hand\n'

# A begin marker without its end is refused, and the report is left alone.
printf '<!-- c:begin -->\nold\n' >"$dir/broken.md"
if write_section "$dir/broken.md" c "$dir/one" 2>/dev/null; then fail "a report without the end marker was written"; fi
expect "$dir/broken.md" $'<!-- c:begin -->\nold\n'
echo "sections-test: ok"
