# Sourced by bench/ffi-size.sh and bench/ffi-speed.sh: replaces (or appends)
# one section of bench/FFI.md between its markers, leaving the other alone.
# Usage: write_ffi_section NAME FILE
write_ffi_section() {
  local name="$1" section="$2" report=bench/FFI.md
  local begin="<!-- $name:begin -->" end="<!-- $name:end -->"
  if [ ! -f "$report" ]; then
    printf '%s\n' '# FFI library: size and speed (issue 9 §5)' '' \
      'Written by `bench/ffi-size.sh` (size) and `bench/ffi-speed.sh` (speed), each run by hand;' \
      'neither is part of the tests or CI. Each script replaces only its own section.' >"$report"
  fi
  if grep -qF "$begin" "$report"; then
    awk -v b="$begin" -v e="$end" -v f="$section" '
      $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$report" >"$report.new"
    mv "$report.new" "$report"
  else
    { echo; echo "$begin"; cat "$section"; echo "$end"; } >>"$report"
  fi
}
