#!/usr/bin/env bash
# shellcheck disable=SC2016  # the $names in single quotes are jq's, not the shell's
# Each wrk Lua scenario loads in the real wrk, drives the real brigade (the one given as $1) for
# a second, and prints a JSON summary whose counts match what the server answered: every request
# 200 where the endpoint exists, and the 404s counted where it does not. Bad options stop wrk
# with a message.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
brigade=${1:?usage: wrk_scripts_test.sh BRIGADE_BINARY}
wrk_dir=$loadtest_dir/wrk

# Runs a scenario for a second on two connections; its JSON summary line goes to $summary.
summary=""
run_scenario() {
  local script=$1
  shift
  local output
  output=$(wrk -t1 -c2 -d1s -s "$wrk_dir/$script" "$base_url" ${1+-- "$@"} 2>&1) || {
    echo "wrk $script failed: $output" >&2
    summary="{}"
    return
  }
  summary=$(grep -m1 '^{"' <<<"$output" || echo "{}")
}

only_200() {
  summary_has '.requests > 0 and .non_2xx == 0 and (.statuses | keys == ["200"])
               and .statuses["200"] == .requests'
}
well_formed() {
  # A percentile wrk could not place is null, and then the summary says why.
  summary_has --arg name "$1" '.scenario == $name and .duration_s > 0 and .requests_per_s > 0
    and (.latency_ms as $l | [$l.p50, $l.p90, $l.p99] | map(select(. != null))
         | . == sort and all(. >= 0 and . <= $l.max))
    and ((.latency_ms | [.p50, .p90, .p99] | all(. != null)) or .latency_note != null)
    and (.errors | keys == ["connect", "read", "status_over_399", "timeout", "write"])'
}
# jq -e over the last summary ([jq options...] EXPRESSION): passes when the expression is true.
summary_has() { jq -e "$@" >/dev/null <<<"$summary"; }

start_brigade "$brigade" --enable-block-endpoint

run_scenario plaintext.lua
check "plaintext: summary well formed" well_formed plaintext
check "plaintext: every GET / answered 200" only_200

run_scenario pipelined.lua depth=4
check "pipelined: summary well formed" well_formed pipelined
check "pipelined: depth reported" summary_has '.parameters.depth == 4'
check "pipelined: every pipelined GET / answered 200" only_200

run_scenario mixed.lua hash_percent=50 sizes=100,70000
check "mixed: summary well formed" well_formed mixed
check "mixed: every GET / and POST /hash answered 200" only_200
check "mixed: parameters reported" summary_has '.parameters == {"hash_percent": 50, "sizes": "100,70000"}'

run_scenario offload.lua work=10
check "offload: summary well formed" well_formed offload
check "offload: every /cpu answered 200" only_200
check "offload: path reported" summary_has '.parameters.path == "/cpu?work=10"'

run_scenario antipattern.lua ms=1
check "antipattern: summary well formed" well_formed antipattern
check "antipattern: every /block answered 200" only_200
stop_brigade

# Without --enable-block-endpoint, /block is 404: the summary must count every one.
start_brigade "$brigade"
run_scenario antipattern.lua ms=1
check "antipattern without the endpoint: every response counted as a 404" \
  summary_has '.requests > 0 and .statuses == {"404": .requests} and .non_2xx == .requests
               and .errors.status_over_399 == .requests'

refuses() {
  local expected=$1 output
  shift
  if output=$(wrk -t1 -c1 -d1s -s "$wrk_dir/$1" "$base_url" -- "${@:2}" 2>&1); then
    echo "wrk accepted $*" >&2
    return 1
  fi
  grep -qF -- "$expected" <<<"$output" || { echo "no '$expected' in: $output" >&2; return 1; }
}
check "a misspelt option stops wrk" refuses "unknown option 'dpeth'" pipelined.lua dpeth=4
check "a non-positive depth stops wrk" refuses "depth=0: expected a positive integer" pipelined.lua depth=0
check "malformed sizes stop wrk" refuses "sizes=1,x: expected byte counts" mixed.lua sizes=1,x
check "an option of another script stops wrk" refuses "unknown option 'work'" plaintext.lua work=1
stop_brigade

finish
