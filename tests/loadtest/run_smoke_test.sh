#!/usr/bin/env bash
# loadtest/run end to end against the real brigade ($1), with very short scenarios: the report
# and its plots are made and hold a row of numbers for every scenario. Performance is not
# judged. Also: bad arguments are refused with a message.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
brigade=${1:?usage: run_smoke_test.sh BRIGADE_BINARY}
out=$(mktemp -d)
trap 'stop_brigade; rm -rf "$out"' EXIT

run=$loadtest_dir/run
report=$out/report.md

if ! "$run" --bin "$brigade" --out "$out" --duration 2 --sample-interval 0.25 --cpu-work 2000; then
  fail "loadtest/run exits 0"
  finish
fi
pass "loadtest/run exits 0"

has_line() { grep -qE "$1" "$report"; }
json_has() { jq -e "$1" "$2" >/dev/null; }
# A PNG of some substance: the signature, and more than a blank canvas.
is_png() {
  [[ -f $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a && $(stat -c %s "$1") -gt 10000 ]]
}
number='[0-9]+(\.[0-9]+)?'
latency="($number|n/a)"  # n/a: a percentile wrk could not place (see wrk/lib/summary.lua)
# A table row for the scenario with requests/s and four latencies as numbers.
scenario_row() {
  has_line "^\| $1 \| [^|]+ \| [0-9]+ × [0-9]+ \| [1-9][0-9]* \| $latency \| $latency \| $latency \| $number \| 0/0/0/0 \| 0 \|$"
}

check "report.md written" test -s "$report"
check "throughput table header" has_line '^\| scenario \| what \| wrk threads × connections \| req/s \| p50 \| p90 \| p99 \| max \|'
scenarios=(plaintext pipelined mixed baseline offload offload_nice0 offload_pinned antipattern)
# The pool and the workers apart need two CPUs; on one, loadtest/run skips those scenarios.
(($(nproc) >= 2)) && scenarios+=(baseline_isolated offload_isolated)
for scenario in "${scenarios[@]}"; do
  check "row of numbers, no errors: $scenario" scenario_row "$scenario"
  check "JSON summary kept: $scenario" json_has '.requests > 0' "$out/data/$scenario.json"
done
check "headline table: GET / alone" has_line "^\| alone \| $latency \| $latency \| $latency \| $number \| [1-9][0-9]* \| – \| – \|$"
check "headline table: beside /cpu" has_line "^\| with /cpu\?work=2000 \(blocking pool\) \| ($latency \| ){3}$number \| $number \| [1-9][0-9]* \| 0 \|$"
check "headline table: beside /cpu, the pool at nice 0" has_line "^\| with /cpu\?work=2000 \(blocking pool at blocking_nice 0\) \| ($latency \| ){3}$number \| $number \| [1-9][0-9]* \| 0 \|$"
check "headline table: beside /cpu, the pool on one CPU" has_line "^\| with /cpu\?work=2000 \(blocking pool on CPU [0-9]+ alone\) \| ($latency \| ){3}$number \| $number \| [1-9][0-9]* \| 0 \|$"
if (($(nproc) >= 2)); then
  check "headline table: alone, the workers and the pool apart" has_line "^\| alone, workers on CPU [0-9,]+ and pool on CPU [0-9]+ \| ($latency \| ){3}$number \| [1-9][0-9]* \| – \| – \|$"
  check "headline table: beside /cpu, the workers and the pool apart" has_line "^\| with /cpu\?work=2000, workers on CPU [0-9,]+ and pool on CPU [0-9]+ \| ($latency \| ){3}$number \| $number \| [1-9][0-9]* \| 0 \|$"
else
  check "the scenarios apart are skipped on one CPU" test -f "$out/data/offload_isolated.skipped.txt"
fi
check "headline table: beside /block, as long as one /cpu" has_line "^\| with /block\?ms=$(cat "$out/data/cpu-ms.txt") \(on the workers\) \|"
check "runtime table header" has_line '^\| scenario \| samples \| blocking threads \(max\) \| blocking-queue depth \(max\) \| worker busy'
check "runtime row: offload grew the blocking pool" \
  has_line '^\| offload \| [1-9][0-9]* \| [1-9][0-9]* \| [0-9]+ \| [0-9]+%(, [0-9]+%)* \|$'
for plot in latency headline runtime-offload-vs-antipattern runtime-plaintext; do
  check "$plot.png is a PNG" is_png "$out/$plot.png"
  check "$plot.png embedded in the report" has_line "\]\($plot\.png\)"
done

refused() {
  local expected=$1 output
  shift
  if output=$("$run" "$@" 2>&1); then return 1; fi
  grep -qF -- "$expected" <<<"$output" || { echo "no '$expected' in: $output" >&2; return 1; }
}
check "an unknown scenario is refused" refused "unknown scenario 'fast'" --bin "$brigade" --scenarios fast
check "a zero duration is refused" refused "--duration 0: expected a positive integer" --duration 0
check "a missing binary is refused" refused "no brigade binary at /nonexistent" --bin /nonexistent
check "an unknown option is refused" refused "unknown argument '--turbo'" --turbo

# Without --out: the report goes to build/loadtest-report/, and the committed one is untouched.
default_report=$loadtest_dir/../build/loadtest-report/report.md
# Every file under the committed report (the soak's folder included), names and contents.
committed_digest() { (cd "$loadtest_dir/report" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
committed_before=$(committed_digest)
rm -f "$default_report"
if "$run" --bin "$brigade" --duration 1 --scenarios baseline 2>/dev/null; then
  pass "loadtest/run without --out exits 0"
  check "without --out: the report is in build/loadtest-report" test -s "$default_report"
  check "without --out: loadtest/report/ is untouched" \
    test "$(committed_digest)" = "$committed_before"
else
  fail "loadtest/run without --out exits 0"
fi

# --url: a server started elsewhere, one scenario; the report names it.
start_brigade "$brigade"
if "$run" --url "$base_url" --out "$out/url" --duration 1 --scenarios plaintext 2>/dev/null; then
  pass "loadtest/run --url exits 0"
  check "--url: the report names the target" grep -qF "the server at $base_url" "$out/url/report.md"
  report=$out/url/report.md
  check "--url: plaintext row" scenario_row plaintext
else
  fail "loadtest/run --url exits 0"
fi
stop_brigade

finish
