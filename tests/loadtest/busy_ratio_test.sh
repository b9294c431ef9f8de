#!/usr/bin/env bash
# The report's worker busy ratio (loadtest/lib/sampler.sh's busy_ratios and report.sh's
# busy_means) on hand-made samples: busy seconds divided by the measured time between two
# scrapes, never by a nominal interval, and never above 1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR/../../loadtest source=lib/sampler.sh
source "$loadtest_dir/lib/sampler.sh"
# shellcheck source-path=SCRIPTDIR/../../loadtest source=lib/report.sh
source "$loadtest_dir/lib/report.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Columns: sent, answered, blocking threads, queue depth, busy seconds of worker 0 and 1.
samples=$work/samples.tsv
printf '%s\n' \
  $'0.000\t0.010\t1\t0\t0.000\t0.000' \
  $'0.500\t0.510\t1\t0\t0.101\t0.500' \
  $'1.000\t1.600\t2\t3\t0.303\t1.900' >"$samples"

ratios=$(busy_ratios "$samples" 1)
# The last ratio's window (at least 1 s) runs from the second scrape's sending (0.500) to the
# third one's answer (1.600): 1.1 s. Worker 0 was busy 0.202 s of it; worker 1 was credited 1.4 s
# (a long poll that ended in the window) and shows 1. Dividing by the 0.5 s between the nominal
# sampling times would give 0.404 and 2.8.
expected=$'1.600\t2\t3\t0.184\t1.000'
check "ratio over the measured interval, capped at 1" test "$(tail -n1 <<<"$ratios")" = "$expected"
# shellcheck disable=SC2016  # an awk program, not a shell expansion
check "every ratio is at most 1" awk -F'\t' '{ for (i = 4; i <= NF; i++) if ($i > 1) exit 1 }' <<<"$ratios"
check "whole-run means over the measured interval, capped at 100%" test "$(busy_means "$samples")" = "19%, 100%"
check "a single sample gives no ratio" test -z "$(head -n1 "$samples" | busy_ratios /dev/stdin 1)"

finish
