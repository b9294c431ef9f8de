#!/usr/bin/env bash
# README.md's "Exit statuses" table says what `brigade --help` prints: the same statuses, each
# with the same meaning (backticks and line wrapping aside). $1: the brigade binary.
set -euo pipefail
brigade=${1:?usage: exit_status_table_check.sh BRIGADE_BINARY}
readme="$(dirname "${BASH_SOURCE[0]}")/../../README.md"

# "STATUS<TAB>meaning" lines, whitespace collapsed, from --help's "Exit status:" section, whose
# rows start with two spaces and a status, their continuation lines with more spaces.
from_help() {
  "$brigade" --help | awk '
    /^Exit status:$/ { in_table = 1; next }
    in_table && /^  [0-9]/ { if (row != "") print row; sub(/^ +/, ""); code = $1; sub(/^[0-9]+ +/, "");
                             row = code "\t" $0; next }
    in_table && /^   +[^ ]/ { sub(/^ +/, ""); row = row " " $0; next }
    in_table { in_table = 0 }
    END { if (row != "") print row }'
}

# The same from the README's table under "### Exit statuses", without its backticks.
from_readme() {
  awk -F' \\| ' '
    /^### Exit statuses$/ { in_section = 1; next }
    in_section && /^#/ { in_section = 0 }
    in_section && /^\| [0-9]/ { code = $1; sub(/^\| /, "", code); meaning = $2; sub(/ \|$/, "", meaning);
                                gsub(/`/, "", meaning); print code "\t" meaning }' "$readme"
}

help_rows=$(from_help)
readme_rows=$(from_readme)
[[ -n $help_rows ]] || { echo "FAIL: no exit-status table in brigade --help"; exit 1; }
[[ -n $readme_rows ]] || { echo "FAIL: no exit-status table under '### Exit statuses' in README.md"; exit 1; }
if [[ $help_rows != "$readme_rows" ]]; then
  echo "FAIL: README.md's exit-status table differs from brigade --help (< README, > --help):"
  diff <(echo "$readme_rows") <(echo "$help_rows") || true
  exit 1
fi
echo "ok: README.md's exit-status table matches brigade --help ($(wc -l <<<"$help_rows") statuses)"
