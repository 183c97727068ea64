# Sourced by the benchmark scripts (bench/run.sh, bench/ffi-size.sh,
# bench/ffi-speed.sh): each writes only its own section of a report, between
# `<!-- NAME:begin -->` and `<!-- NAME:end -->`, and leaves the rest (other
# scripts' sections, findings written by hand) as it is.
# Usage: write_section REPORT NAME FILE [TITLE]
#   REPORT  the Markdown file (created, with TITLE as its first line, when missing)
#   NAME    the section's marker name
#   FILE    the section's new text
# A report without the markers gets the section appended.
write_section() {
  local report="$1" name="$2" section="$3" title="${4:-}"
  local begin="<!-- $name:begin -->" end="<!-- $name:end -->"
  if [ ! -f "$report" ] && [ -n "$title" ]; then
    printf '%s\n' "$title" >"$report"
  fi
  if [ -f "$report" ] && grep -qF "$begin" "$report"; then
    if ! grep -qF "$end" "$report"; then
      printf '%s: %s has "%s" but no "%s": not written\n' "${0##*/}" "$report" "$begin" "$end" >&2
      return 1
    fi
    awk -v b="$begin" -v e="$end" -v f="$section" '
      $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$report" >"$report.new"
    mv "$report.new" "$report"
  else
    { [ -s "$report" ] && echo; echo "$begin"; cat "$section"; echo "$end"; } >>"$report"
  fi
}
