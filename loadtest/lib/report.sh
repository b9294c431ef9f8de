# shellcheck shell=bash
# shellcheck disable=SC2154  # the run's settings are loadtest/run's globals
# The Markdown report and its gnuplot figures, from the files loadtest/run left in OUT/data/.
# Sourced by loadtest/run.

# What each scenario is, for the tables.
describe_scenario() {
  case $1 in
    plaintext) echo "GET /, keep-alive" ;;
    pipelined) echo "GET /, $depth pipelined per connection (latency per batch)" ;;
    mixed) echo "GET / and 10% POST /hash (1 KiB, 16 KiB, 128 KiB bodies)" ;;
    baseline) echo "GET / alone, on the probe's connections" ;;
    offload) echo "GET / while /cpu?work=$cpu_work runs on the blocking pool" ;;
    offload_nice0) echo "the same, the blocking pool at blocking_nice 0" ;;
    offload_pinned) echo "the same, the blocking pool on CPU $(pinned_cpu) alone (blocking_cpus)" ;;
    baseline_isolated) echo "GET / alone, the workers on CPU $(apart_cpus), the pool on CPU $(pinned_cpu)" ;;
    offload_isolated) echo "GET / while /cpu?work=$cpu_work runs, the workers and the pool apart (worker_cpus)" ;;
    antipattern) echo "GET / while /block?ms=$(block_ms_used) blocks the workers" ;;
  esac
}

block_ms_used() {
  cat "$work_dir/block-ms.txt" 2>/dev/null || echo "?"
}

connections_of() {
  case $1 in
    plaintext | pipelined | mixed) echo "$threads × $connections" ;;
    *) echo "1 × $probe_connections" ;;
  esac
}

# "503×12, 404×3", or "0".
statuses_text() {
  jq -r '[(.statuses // {}) | to_entries[] | select(.key | test("^2") | not) | "\(.key)×\(.value)"]
         | if length == 0 then "0" else join(", ") end' "$1"
}

# A row of the throughput table.
scenario_row() {
  local scenario=$1 file=$work_dir/$1.json
  if [[ -f $work_dir/$scenario.skipped.txt ]]; then
    printf '| %s | skipped: %s | – | – | – | – | – | – | – | – |\n' "$scenario" \
      "$(cat "$work_dir/$scenario.skipped.txt")"
    return
  fi
  jq -r --arg name "$scenario" --arg what "$(describe_scenario "$scenario")" \
    --arg conns "$(connections_of "$scenario")" --arg statuses "$(statuses_text "$file")" '
    def ms: if . == null then "n/a" else . * 100 | round / 100 end;
    "| \($name) | \($what) | \($conns) | \(.requests_per_s | round) | \(.latency_ms.p50 | ms) | \(.latency_ms.p90 | ms) | \(.latency_ms.p99 | ms) | \(.latency_ms.max | ms) | \(.errors | "\(.connect)/\(.read)/\(.write)/\(.timeout)") | \($statuses) |"' "$file"
}

# A row of the headline table: GET / as the probe saw it, and the load beside it.
headline_row() {
  local scenario=$1 label=$2 file=$work_dir/$1.json load=$work_dir/$1-load.json
  [[ -f $file ]] || return 0
  local load_rate="" load_statuses=""
  if [[ -f $load ]]; then
    load_rate=$(jq -r '.requests_per_s | round' "$load")
    load_statuses=$(statuses_text "$load")
  fi
  jq -r --arg heading "$label" --arg rate "$load_rate" --arg statuses "$load_statuses" '
    def ms: if . == null then "n/a" else . * 100 | round / 100 end;
    "| \($heading) | \(.latency_ms.p50 | ms) | \(.latency_ms.p90 | ms) | \(.latency_ms.p99 | ms) | \(.latency_ms.max | ms) | \(.requests_per_s | round) | \(if $rate == "" then "–" else $rate end) | \(if $statuses == "" then "–" else $statuses end) |"' "$file"
}

# Maximum of a column over a runtime file, or "–" without samples.
column_max() {
  awk -F'\t' -v c="$2" 'NF >= c { if (!seen || $c > m) m = $c; seen = 1 } END { print seen ? m : "–" }' "$1"
}

# "87%, 91%": each worker's busy ratio over the whole run, from the first and last raw samples
# (measured as busy_ratios does: from the first scrape's sending to the last one's answer).
busy_means() {
  awk -F'\t' 'NR == 1 { t0 = $1; for (i = 5; i <= NF; i++) b0[i] = $i }
    { t = $2; n = NF; for (i = 5; i <= NF; i++) b[i] = $i }
    END { if (NR < 2 || t <= t0) { print "–"; exit }
          for (i = 5; i <= n; i++) {
            ratio = (b[i] - b0[i]) / (t - t0)
            out = out (i > 5 ? ", " : "") sprintf("%.0f%%", 100 * (ratio > 1 ? 1 : ratio))
          }
          print out }' "$1"
}

runtime_row() {
  local scenario=$1 file=$work_dir/$1.runtime.tsv
  [[ -f $file ]] || return 0
  local samples=$work_dir/$1.samples.tsv
  printf '| %s | %s | %s | %s | %s |\n' "$scenario" "$(wc -l <"$samples")" \
    "$(column_max "$samples" 3)" "$(column_max "$samples" 4)" "$(busy_means "$samples")"
}

gnuplot_common() {
  cat <<'GP'
set terminal pngcairo size 960,540 font "sans,10" noenhanced
set style fill solid 0.85 border -1
set grid ytics
set key top left
GP
}

# Latency percentiles per scenario, one cluster of bars each, on a log scale.
plot_latency() {
  local table=$work_dir/latency.plot.tsv scenario
  : >"$table"
  for scenario in "${scenarios[@]}"; do
    [[ -f $work_dir/$scenario.json ]] || continue
    jq -r --arg name "$scenario" '[$name, .latency_ms.p50, .latency_ms.p90, .latency_ms.p99] | @tsv' \
      "$work_dir/$scenario.json" >>"$table"
  done
  [[ -s $table ]] || return 0
  local floor
  floor=$(awk -F'\t' '{ for (i = 2; i <= 4; i++) if ($i != "" && (!m || $i + 0 < m)) m = $i + 0 } END { print (m > 0 ? m : 0.01) / 2 }' "$table")
  {
    gnuplot_common
    cat <<GP
set output "$out/latency.png"
set title "Latency percentiles per scenario (wrk; pipelined: per batch of requests)"
set ylabel "milliseconds (log scale)"
set logscale y
set yrange [$floor:*]
set style data histograms
set style histogram clustered gap 1
set datafile separator "\t"
plot "$table" using 2:xtic(1) title "p50", "" using 3 title "p90", "" using 4 title "p99"
GP
  } | gnuplot
}

# The headline: GET / p50 and p99 alone, beside offloaded work, beside blocking work.
plot_headline() {
  local table=$work_dir/headline.plot.tsv
  : >"$table"
  local scenario label
  for scenario in baseline offload offload_nice0 offload_pinned baseline_isolated offload_isolated \
    antipattern; do
    [[ -f $work_dir/$scenario.json ]] || continue
    case $scenario in
      baseline) label="GET / alone" ;;
      offload) label="+ /cpu (pool)" ;;
      offload_nice0) label="+ /cpu (nice 0)" ;;
      offload_pinned) label="+ /cpu (1 CPU)" ;;
      baseline_isolated) label="alone (apart)" ;;
      offload_isolated) label="+ /cpu (apart)" ;;
      antipattern) label="+ /block (workers)" ;;
    esac
    # Rounded as in the table, so that the bars' labels read the same.
    jq -r --arg heading "$label" '
      def ms: if . == null then null else . * 100 | round / 100 end;
      [$heading, (.latency_ms.p50 | ms), (.latency_ms.p99 | ms)] | @tsv' \
      "$work_dir/$scenario.json" >>"$table"
  done
  [[ -s $table ]] || return 0
  local floor
  floor=$(awk -F'\t' '{ for (i = 2; i <= 3; i++) if ($i != "" && (!m || $i + 0 < m)) m = $i + 0 } END { print (m > 0 ? m : 0.01) / 2 }' "$table")
  # Headroom above the tallest bar for its label.
  local ceiling
  ceiling=$(awk -F'\t' '{ for (i = 2; i <= 3; i++) if ($i + 0 > m) m = $i + 0 } END { print (m > 0 ? m : 1) * 3 }' "$table")
  {
    gnuplot_common
    cat <<GP
set output "$out/headline.png"
set title "GET / latency while other requests keep the server busy (same work: offloaded vs blocking)"
set ylabel "milliseconds (log scale)"
set logscale y
set yrange [$floor:$ceiling]
set style data histograms
set style histogram clustered gap 1
set datafile separator "\t"
plot "$table" using 2:xtic(1) title "p50", "" using 3 title "p99", \
     "" using (\$0 - 1.0/6):2:(sprintf("%.2f", \$2)) with labels offset 0,0.8 notitle, \
     "" using (\$0 + 1.0/6):3:(sprintf("%.2f", \$3)) with labels offset 0,0.8 notitle
GP
  } | gnuplot
}

# Blocking threads, blocking-queue depth and worker busy ratio over time, for the given
# scenarios side by side on shared scales.
plot_runtime() {
  local name=$1
  shift
  local present=() scenario
  for scenario in "$@"; do
    [[ -s $work_dir/$scenario.runtime.tsv ]] && present+=("$scenario")
  done
  ((${#present[@]} > 0)) || return 0
  local threads_max=1 depth_max=1 columns=4 seconds=1 file value
  for scenario in "${present[@]}"; do
    file=$work_dir/$scenario.runtime.tsv
    value=$(awk -F'\t' '{ t = $1 } END { print int(t) + 1 }' "$file"); ((value > seconds)) && seconds=$value
    value=$(column_max "$file" 2); ((value > threads_max)) && threads_max=$value
    value=$(column_max "$file" 3); ((value > depth_max)) && depth_max=$value
    value=$(awk -F'\t' '{ print NF; exit }' "$file"); ((value > columns)) && columns=$value
  done
  {
    gnuplot_common
    printf 'set output "%s/%s.png"\n' "$out" "$name"
    printf 'set terminal pngcairo size %d,720 font "sans,10" noenhanced\n' $((480 * ${#present[@]} + 120))
    printf 'set multiplot layout 3,%d columnsfirst\n' "${#present[@]}"
    printf 'set xlabel "seconds"\nset xrange [0:%d]\nset key top left horizontal\n' "$seconds"
    for scenario in "${present[@]}"; do
      file=$work_dir/$scenario.runtime.tsv
      cat <<GP
set title "$scenario: blocking threads"
set yrange [0:$((threads_max + 1))]
set ytics $(((threads_max + 5) / 6))
set ylabel "threads"
plot "$file" using 1:2 with steps lw 2 notitle
set title "$scenario: blocking-queue depth"
set yrange [0:$((depth_max + 1))]
set ytics $(((depth_max + 5) / 6))
set ylabel "jobs waiting"
plot "$file" using 1:3 with steps lw 2 notitle
set title "$scenario: worker busy ratio (over ${busy_window} s)"
set yrange [0:1.5]
set ytics 0.25
set ylabel "busy / wall time"
plot for [c=4:$columns] "$file" using 1:c with lines lw 2 title sprintf("worker %d", c - 4)
GP
    done
    echo "unset multiplot"
  } | gnuplot
}

write_report() {
  local report=$out/report.md scenario
  local cpu_model
  cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  local target_text workers_text
  if [[ -n $url ]]; then
    target_text="the server at $url"
  else
    target_text="brigade $target_version (\`${brigade_bin#"$repo/"}\`${brigade_args[*]:+ with \`${brigade_args[*]}\`}), a fresh process per scenario on a loopback port"
  fi
  workers_text=${target_workers:-"(unknown)"}

  plot_latency
  plot_headline
  plot_runtime runtime-offload-vs-antipattern offload antipattern
  for scenario in plaintext pipelined mixed baseline; do plot_runtime "runtime-$scenario" "$scenario"; done

  {
    echo "# Brigade load test"
    echo
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs ($cpu_model) against"
    echo "$target_text; $workers_text async workers. Load from $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
    echo "on the same machine (it shares the CPUs with the server), ${duration} s per scenario. The"
    echo "machine's load average (1 min) was $load_before before the run and $(cut -d' ' -f1 /proc/loadavg) after it."
    echo "Latencies in milliseconds, as wrk measures them from its side of the loopback."
    echo
    if [[ -f $work_dir/offload.json || -f $work_dir/antipattern.json ]]; then
      echo "## GET / while the server does heavy work: offloaded vs on the workers"
      echo
      echo "A wrk process measures GET / on $probe_connections connections while a second one keeps"
      echo "$load_connections connections busy with slow requests. \`/cpu?work=$cpu_work\` hashes on the blocking"
      local cpu_ms
      cpu_ms=$(cat "$work_dir/cpu-ms.txt" 2>/dev/null || echo "?")
      echo "pool and took $cpu_ms ms on an idle server; \`/block?ms=$(block_ms_used)\` sleeps on a worker"
      if [[ $cpu_ms == "$(block_ms_used)" ]]; then
        echo "thread for as long, the anti-pattern the runtime's blocking pool exists to avoid."
      else
        echo "thread (--block-ms), the anti-pattern the runtime's blocking pool exists to avoid."
      fi
      if [[ -f $work_dir/offload_nice0.json ]]; then
        echo "The pool's threads run \`blocking_nice\` nicer than the workers (brigade's default, 10, unless"
        echo "given after \`--\`), so that the hashing gives the cores to GET / first; the row at"
        echo "\`blocking_nice 0\` shows the same load with the pool's threads competing as equals."
      fi
      if [[ -f $work_dir/offload_pinned.json ]]; then
        echo "At \`blocking_cpus $(pinned_cpu)\` the pool's threads may run on that CPU alone while the workers"
        echo "keep every CPU: on the others a worker never waits for a hashing thread to give way."
      fi
      if [[ -f $work_dir/offload_isolated.json ]]; then
        echo "Apart, the workers (as many as in the other rows) run on CPU $(apart_cpus) alone (\`worker_cpus\`)"
        echo "and the pool on CPU $(pinned_cpu): GET / is measured alone and beside /cpu in that same setting."
      fi
      echo
      echo "| GET / | p50 | p90 | p99 | max | GET / req/s | load req/s | load non-2xx |"
      echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
      headline_row baseline "alone"
      headline_row offload "with /cpu?work=$cpu_work (blocking pool)"
      headline_row offload_nice0 "with /cpu?work=$cpu_work (blocking pool at blocking_nice 0)"
      headline_row offload_pinned "with /cpu?work=$cpu_work (blocking pool on CPU $(pinned_cpu) alone)"
      headline_row baseline_isolated "alone, workers on CPU $(apart_cpus) and pool on CPU $(pinned_cpu)"
      headline_row offload_isolated "with /cpu?work=$cpu_work, workers on CPU $(apart_cpus) and pool on CPU $(pinned_cpu)"
      headline_row antipattern "with /block?ms=$(block_ms_used) (on the workers)"
      echo
      [[ -f $out/headline.png ]] && echo "![GET / latency, offloaded vs blocking](headline.png)" && echo
      if [[ -f $out/runtime-offload-vs-antipattern.png ]]; then
        echo "What the runtime's metrics showed meanwhile (sampled from /metrics every ${sample_interval} s):"
        echo
        echo "![runtime during offload and anti-pattern](runtime-offload-vs-antipattern.png)"
        echo
      fi
    fi
    echo "## Throughput and latency"
    echo
    echo "| scenario | what | wrk threads × connections | req/s | p50 | p90 | p99 | max | socket errors (connect/read/write/timeout) | non-2xx |"
    echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    for scenario in "${scenarios[@]}"; do scenario_row "$scenario"; done
    echo
    if jq -e 'select(.latency_note != null)' "$work_dir"/*.json >/dev/null 2>&1; then
      echo "n/a: a percentile wrk could not place (its coordinated-omission correction adds samples"
      echo "below the recorded minimum, which its percentile walk skips); it is left out, not guessed."
      echo
    fi
    [[ -f $out/latency.png ]] && echo "![latency percentiles per scenario](latency.png)" && echo
    echo "## The runtime during each scenario"
    echo
    if compgen -G "$work_dir/*.runtime.tsv" >/dev/null && [[ -n $(cat "$work_dir"/*.runtime.tsv) ]]; then
      echo "From \`/metrics\`, every ${sample_interval} s: \`brigade_runtime_blocking_threads\`,"
      echo "\`brigade_runtime_blocking_queue_depth\`, and each worker's busy ratio (the growth of"
      echo "\`brigade_runtime_worker_busy_seconds_total{worker}\` over the last ${busy_window} s, divided by the time"
      echo "measured between the two scrapes; busy time is counted when a poll ends, so a window can be"
      echo "credited with a poll that began before it: what would exceed 1 is shown as 1)."
      echo
      echo "| scenario | samples | blocking threads (max) | blocking-queue depth (max) | worker busy (whole run, per worker) |"
      echo "| --- | ---: | ---: | ---: | --- |"
      for scenario in "${scenarios[@]}"; do runtime_row "$scenario"; done
      echo
      for scenario in plaintext pipelined mixed baseline; do
        [[ -f $out/runtime-$scenario.png ]] && echo "![runtime during $scenario](runtime-$scenario.png)" && echo
      done
    else
      echo "No samples: the target's \`/metrics\` did not answer with the runtime metrics."
      echo
    fi
    echo "## Files"
    echo
    echo "\`data/\` holds each wrk run's output (\`*.wrk.txt\`) and its JSON summary (\`*.json\`, printed by"
    echo "the scenario's \`done()\`), the raw /metrics samples (\`*.samples.tsv\`: seconds when each scrape was sent"
    echo "and answered, blocking threads, queue depth, busy seconds per worker) and the ratios plotted (\`*.runtime.tsv\`)."
  } >"$report"
}
