#!/usr/bin/env bash
# Checks bench/ in a minute or two, measuring nothing (see CMakeLists.txt). $1: the brigade binary.
# Exits 77 (CTest: skipped) when the bench packages are missing, after running what it can.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../loadtest/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../loadtest/lib.sh"
brigade=${1:?usage: harness_check.sh BRIGADE_BINARY}
bench=$(cd "$loadtest_dir/../bench" && pwd)
work=$(mktemp -d)
trap 'stop_brigade; rm -rf "$work"' EXIT
missing=()

# --- bench/run: arguments and the plan ---------------------------------------------------------
check "bench/run parses" bash -n "$bench/run"
check "bench/run --help" bash -c "'$bench/run' --help | grep -q 'Usage: bench/run'"
refused() { ! "$bench/run" "$@" >/dev/null 2>&1; }
check "an unknown step is refused" refused fastest
check "an unknown server is refused" env SERVERS="brigade apache" bash -c "! '$bench/run' --dry-run 2>/dev/null"
plan=$(OUT=$work/dry MEMORY_REPS=1 "$bench/run" --dry-run 2>&1) || fail "bench/run --dry-run exits 0"
has() { grep -qF -- "$1" <<<"$plan"; }
check "plan: brigade pinned to CPU 0 with one worker" has "taskset -c 0 $(dirname "$loadtest_dir")/build/release/brigade --listen 127.0.0.1:18180 --worker-threads 1"
check "plan: nginx pinned to CPU 0" has "taskset -c 0 nginx -p $work/dry/run/nginx"
check "plan: hyper on one Tokio worker" has "hyper_hello 18182 1"
check "plan: wrk pinned to CPU 1, one thread" has "taskset -c 1 wrk -t1 -c1000 -d10s"
check "plan: pipelined batches" has "pipelined.lua http://127.0.0.1:18180 -- depth=16"
check "plan: idle connections held" has "conn_hold.py 18180 10000"
check "plan: echo servers side by side" has "memory_bench --serve lazy 18190"
check "plan: Tokio sleepers" has "sleepers 100000 2"
check "plan: Brigade's spawn_join on two workers" has "runtime_bench --benchmark_filter=^BM_spawn_join/2/"
check "plan: the same with the latency histograms on" has "runtime_bench --benchmark_filter=^BM_spawn_join_timed/2/"
check "plan: Tokio's spawn_join on two workers" has "spawn_join 2 2000 1"
check "plan: Tokio's connection future sizes" has "tokio_echo --future-sizes"
check "plan: brigade's system calls counted during wrk -c64" \
  has "perf stat -e syscalls:sys_enter_* -x, -o $work/dry/raw/syscalls-perf.csv -p PID -- taskset -c 1 wrk -t1 -c64"

# --- nginx's configuration, as bench/run renders it -------------------------------------------
if command -v nginx >/dev/null; then
  check "nginx -t accepts the rendered configuration" \
    nginx -q -t -p "$work/dry/run/nginx" -c "$work/dry/run/nginx/nginx.conf" -e "$work/nginx-t.log"
else
  missing+=(nginx)
fi

# --- the Tokio peers' manifest, offline against Debian's crates ---------------------------------
if command -v cargo >/dev/null && [[ -d /usr/share/cargo/registry/tokio-1.24.2 ]]; then
  # From bench/tokio, whose .cargo/config.toml makes Debian's crates the registry. Only cargo's
  # metadata goes to /dev/null, not the check's own line.
  resolves_offline() { env -C "$bench/tokio" cargo metadata --offline --format-version 1 -q >/dev/null; }
  check "the Tokio peers' Cargo.toml resolves offline" resolves_offline
else
  missing+=("cargo or librust-tokio-dev")
fi

# --- the ceiling compiles --------------------------------------------------------------------------
check "raw_epoll.cpp compiles" g++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only "$bench/ceiling/raw_epoll.cpp"

# --- conn_hold.py against a real brigade -------------------------------------------------------
start_brigade "$brigade" --worker-threads 1
port=${base_url##*:}
line=$(python3 "$bench/conn_hold.py" "$port" 50 "$brigade_pid") || fail "conn_hold.py exits 0: $line"
check "conn_hold.py: 50 held connections answered" grep -qE '^idle_kib=[0-9]+ held_kib=[0-9]+ n=50 ok=50 alive=1 bytes_per_conn=-?[0-9]+$' <<<"$line"
line=$(python3 "$bench/conn_hold.py" --partial-head 2000 "$port" 20 "$brigade_pid") ||
  fail "conn_hold.py --partial-head exits 0: $line"
check "conn_hold.py --partial-head: 20 heads held, the server still answers" \
  grep -qE '^idle_kib=[0-9]+ held_kib=[0-9]+ n=20 ok=20 alive=1 bytes_per_conn=-?[0-9]+$' <<<"$line"
stop_brigade

# --- summarize.py: medians and same-round ratios ------------------------------------------------
results=$work/results
mkdir -p "$results"
run_line() { # round server req/s cpu_s requests p99; half the CPU time is user time
  printf '{"phase":"plain","round":%s,"server":"%s","connections":64,"server_cpu_s":%s,"server_user_s":%s,"server_system_s":%s,"requests":%s,"requests_per_s":%s,"latency_ms":{"p50":0.5,"p99":%s}}\n' \
    "$1" "$2" "$4" "$(awk -v t="$4" 'BEGIN { print t / 2 }')" "$(awk -v t="$4" 'BEGIN { print t / 2 }')" "$5" "$3" "$6"
}
{
  run_line 1 brigade 100000 1.0 1000000 2
  run_line 1 nginx 50000 1.0 500000 4
  run_line 2 brigade 80000 1.0 800000 2
  run_line 2 nginx 60000 1.0 600000 4
  run_line 3 brigade 90000 1.0 900000 2
  run_line 3 nginx 45000 1.0 450000 4
} >"$results/results.jsonl"
printf '%s\n' '{"kind":"echo_lazy","server":"tokio_echo_lazy","rep":1,"bytes_per_conn":400}' \
  '{"kind":"echo_lazy","server":"brigade_echo_lazy","rep":1,"bytes_per_conn":360}' \
  '{"kind":"sleepers","server":"tokio","rep":1,"n":1,"peak_kib":1000}' \
  '{"kind":"sleepers","server":"tokio","rep":1,"n":1000,"peak_kib":2000}' >"$results/memory.jsonl"
printf 'per sleeping task                     256   (250, 256, 300)\n' >"$results/memory_bench.txt"
spawn_line() { # runtime rep ns
  printf '{"kind":"spawn_join","runtime":"%s","workers":1,"rep":%s,"ns_per_task":%s}\n' "$1" "$2" "$3"
}
{
  spawn_line brigade 1 100; spawn_line brigade_timed 1 140; spawn_line tokio 1 200
  spawn_line brigade 2 90; spawn_line brigade_timed 2 120; spawn_line tokio 2 150
  spawn_line brigade 3 120; spawn_line brigade_timed 3 160; spawn_line tokio 3 200
} >"$results/spawn.jsonl"
summary=$(python3 "$bench/summarize.py" "$results")
in_summary() { grep -qF -- "$1" <<<"$summary"; }
# nginx ÷ brigade per round: 0.5, 0.75, 0.5 -> median 0.50; CPU/req: 2, 1.33, 2 -> 2.00, and
# the same for user CPU (half of each).
check "summary: medians and same-round ratios" in_summary "| nginx | 50,000 | 0.50 | 4.00 | 2.00 | 1.00 | 0.50 | 2.00 | 2.00 |"
check "summary: brigade's own row" in_summary "| brigade | 90,000 | 0.50 | 2.00 | 1.11 | 0.56 | 1.00 | 1.00 | 1.00 |"
check "summary: echo memory, Brigade ÷ Tokio" in_summary "| idle echo connection, no buffer while idle | 400 | 360 | 0.90 |"
check "summary: sleepers from peak RSS and memory_bench" in_summary "| sleeping task | 1,024 | 256 | 0.25 |"
# brigade ÷ tokio per repetition: 0.5, 0.6, 0.6 -> 0.60; timed: 0.7, 0.8, 0.8 -> 0.80.
check "summary: spawn + join beside Tokio" in_summary "| 1 | 100.0 | 140.0 | 200.0 | 0.60 | 0.80 |"

# --- bench/instructions: arguments, and callgrind_summary.py on a hand-made dump -----------------
check "bench/instructions parses" bash -n "$bench/instructions"
check "bench/instructions --help" bash -c "'$bench/instructions' --help | grep -q 'Usage: bench/instructions'"
check "bench/instructions refuses an unknown mode" bash -c "! '$bench/instructions' --mode fastest 2>/dev/null"
# alpha runs 1,000 instructions itself and calls beta, which runs 500 (named once, then by id).
cat >"$work/callgrind.out" <<'DUMP'
events: Ir
fn=(1) alpha
0 1000
cfn=(2) beta
calls=1 0
0 500
fn=(2)
0 500
DUMP
callgrind=$(python3 "$bench/callgrind_summary.py" "$work/callgrind.out" 10)
in_callgrind() { grep -qF -- "$1" <<<"$callgrind"; }
check "callgrind summary: instructions per request" in_callgrind "instructions per request: 150"
check "callgrind summary: a function's own instructions, not its callee's" in_callgrind "     100.0   66.7%  alpha"
check "callgrind summary: a function named by id" in_callgrind "      50.0   33.3%  beta"

if ((${#missing[@]} > 0)); then
  finish
  echo "skipped: ${missing[*]} not installed (deploy/install-deps.sh bench installs them)"
  exit 77
fi
finish
