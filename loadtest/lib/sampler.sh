# shellcheck shell=bash
# Samples brigade's /metrics while a scenario runs. Sourced by loadtest/run.

# One line per scrape, tab-separated: when the scrape was sent and when its answer had arrived
# (seconds since the sampler started), blocking threads, blocking-queue depth, then each worker's
# busy seconds (worker 0, 1, ...). The server read its counters somewhere between the two times:
# on a server whose workers are blocked (the anti-pattern) the answer can take tens of
# milliseconds. Scrapes that fail or lack the runtime metrics are skipped. Runs until killed.
sample_metrics() {
  local url=$1 interval=$2 out=$3
  local start=$EPOCHREALTIME body sent answered
  while :; do
    sent=$EPOCHREALTIME
    body=$(curl -fsS -m 2 "$url/metrics" 2>/dev/null) || body=""
    answered=$EPOCHREALTIME
    awk -v sent="$sent" -v answered="$answered" -v start="$start" '
      $1 == "brigade_runtime_blocking_threads" { threads = $NF }
      $1 == "brigade_runtime_blocking_queue_depth" { depth = $NF }
      /^brigade_runtime_worker_busy_seconds_total\{/ {
        if (match($0, /worker="[0-9]+"/)) {
          worker = substr($0, RSTART + 8, RLENGTH - 9) + 0
          busy[worker] = $NF
          if (worker + 1 > workers) workers = worker + 1
        }
      }
      END {
        if (threads == "" || workers == 0) exit
        line = sprintf("%.3f\t%.3f\t%s\t%s", sent - start, answered - start, threads, depth == "" ? 0 : depth)
        for (w = 0; w < workers; w++) line = line "\t" busy[w]
        print line
      }' <<<"$body" >>"$out"
    sleep "$interval"
  done
}

# Turns the samples into what is plotted: seconds (when the later scrape was answered), blocking
# threads, queue depth, and each worker's busy ratio over the last `window` seconds (at least one
# sample interval): the growth of its busy seconds between two samples divided by the measured
# time between them, from the earlier scrape's sending to the later one's answer (the longest
# the two readings can be apart, whatever the scrapes waited).
#
# A worker's busy time is credited when a poll ends, so a poll that started before the window
# lands in it whole: a window can be credited up to one poll more than it lasted. A ratio of busy
# time to wall time cannot exceed 1, so that excess is cut off at 1.
busy_ratios() {
  awk -F'\t' -v OFS='\t' -v window="$2" '
    {
      sent[NR] = $1
      answered[NR] = $2
      for (i = 5; i <= NF; i++) busy[NR, i] = $i
      first = NR
      while (first > 1 && answered[NR] - sent[first] < window) first--
      elapsed = answered[NR] - sent[first]
      if (first == NR || elapsed <= 0) next
      line = $2 OFS $3 OFS $4
      for (i = 5; i <= NF; i++) {
        ratio = (busy[NR, i] - busy[first, i]) / elapsed
        line = line OFS sprintf("%.3f", ratio > 1 ? 1 : ratio)
      }
      print line
    }' "$1"
}
