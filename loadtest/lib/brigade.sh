# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # globals shared with loadtest/run, which sources this
# Starting and stopping the brigade under test. Sourced by loadtest/run, which sets
# brigade_bin, brigade_args (extra flags from the command line) and work_dir.

brigade_pid=""

# The CPU the offload_pinned scenario keeps the blocking pool to: the highest-numbered one this
# script may run on (Linux lists them as "0-3" or "0,2,5-7").
pinned_cpu() {
  awk '/^Cpus_allowed_list:/ { n = split($2, cpus, /[,-]/); print cpus[n] }' /proc/self/status
}

# The CPUs the *_isolated scenarios keep the workers to: every other one this script may run on,
# as a list ("0", "0,1,2"); empty when it may run on one CPU only.
apart_cpus() {
  awk '/^Cpus_allowed_list:/ {
    n = split($2, parts, ",")
    for (i = 1; i <= n; i++) {
      if (split(parts[i], range, "-") == 1) range[2] = range[1]
      for (cpu = range[1]; cpu <= range[2]; cpu++) cpus[++count] = cpu
    }
    for (i = 1; i < count; i++) printf "%s%s", (i > 1 ? "," : ""), cpus[i]
    print ""
  }' /proc/self/status
}

# Starts brigade on a free loopback port with the given extra flags, waits for its start-up
# line, and sets target_url, target_workers and target_version from it.
start_brigade() {
  local log="$work_dir/brigade-$1.log"
  shift
  # Flags given after `--` on loadtest/run's command line come last, so they win.
  "$brigade_bin" --listen 127.0.0.1:0 --log-format json --grace-period 5s "$@" \
    "${brigade_args[@]}" >"$log" 2>&1 &
  brigade_pid=$!
  local line="" tries
  for ((tries = 0; tries < 100; tries++)); do
    line=$(grep -m1 '"msg":"brigade started"' "$log" || true)
    [[ -n $line ]] && break
    if ! kill -0 "$brigade_pid" 2>/dev/null; then
      brigade_pid=""
      die "brigade exited at start-up; its log ($log) ends with: $(tail -n 3 "$log")"
    fi
    sleep 0.1
  done
  [[ -n $line ]] || die "brigade did not log its start-up line within 10 s (see $log)"
  target_url="http://$(jq -r .address <<<"$line")"
  target_workers=$(jq -r .workers <<<"$line")
  target_version=$(jq -r .version <<<"$line")
}

# SIGTERM, as an orchestrator would, and wait for the graceful exit.
stop_brigade() {
  [[ -n $brigade_pid ]] || return 0
  kill -TERM "$brigade_pid" 2>/dev/null || true
  wait "$brigade_pid" 2>/dev/null || true
  brigade_pid=""
}
