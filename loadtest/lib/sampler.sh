# shellcheck shell=bash
# Samples brigade's /metrics while a scenario runs. Sourced by loadtest/run.

# One line per scrape, tab-separated: seconds since the first scrape, blocking threads,
# blocking-queue depth, then each worker's busy seconds (worker 0, 1, ...). Scrapes that fail or
# lack the runtime metrics are skipped. Runs until killed.
sample_metrics() {
  local url=$1 interval=$2 out=$3
  local start=$EPOCHREALTIME body now
  while :; do
    body=$(curl -fsS -m 2 "$url/metrics" 2>/dev/null) || body=""
    now=$EPOCHREALTIME
    awk -v now="$now" -v start="$start" '
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
        line = sprintf("%.3f\t%s\t%s", now - start, threads, depth == "" ? 0 : depth)
        for (w = 0; w < workers; w++) line = line "\t" busy[w]
        print line
      }' <<<"$body" >>"$out"
    sleep "$interval"
  done
}

# Turns the samples into what is plotted: seconds, blocking threads, queue depth, and each
# worker's busy ratio over the last `window` seconds (at least one sample interval). A worker's
# busy time grows when a poll ends, so a poll that blocks for tens of milliseconds lands in one
# interval whole: over short intervals the ratio swings past 1 and back. A window of a second
# keeps the swings small while still showing the run's shape.
busy_ratios() {
  awk -F'\t' -v OFS='\t' -v window="$2" '
    {
      t[NR] = $1
      for (i = 4; i <= NF; i++) busy[NR, i] = $i
      first = NR
      while (first > 1 && t[NR] - t[first] < window) first--
      if (first == NR || t[NR] <= t[first]) next
      line = $1 OFS $2 OFS $3
      for (i = 4; i <= NF; i++) line = line OFS sprintf("%.3f", (busy[NR, i] - busy[first, i]) / (t[NR] - t[first]))
      print line
    }' "$1"
}
