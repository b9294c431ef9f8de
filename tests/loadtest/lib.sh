# shellcheck shell=bash
# shellcheck disable=SC2034  # loadtest_dir and base_url are for the scripts that source this
# Helpers of the loadtest tests: assertions that count, and a brigade on a free loopback port.

passed=0
failed=0
loadtest_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../loadtest" && pwd)

pass() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1" >&2; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local description=$1
  shift
  if "$@"; then pass "$description"; else fail "$description"; fi
}

finish() {
  printf '%d passed, %d failed\n' "$passed" "$failed"
  ((failed == 0))
}

brigade_pid=""
# Starts brigade (path $1, then its flags) on a free loopback port; sets base_url.
start_brigade() {
  local bin=$1 log
  shift
  log=$(mktemp)
  "$bin" --listen 127.0.0.1:0 --log-format json "$@" >"$log" 2>&1 &
  brigade_pid=$!
  local line="" tries
  for ((tries = 0; tries < 100; tries++)); do
    line=$(grep -m1 '"msg":"brigade started"' "$log" || true)
    [[ -n $line ]] && break
    sleep 0.1
  done
  if [[ -z $line ]]; then
    echo "brigade did not start: $(cat "$log")" >&2
    exit 1
  fi
  base_url="http://$(jq -r .address <<<"$line")"
  rm -f "$log"
}

stop_brigade() {
  [[ -n $brigade_pid ]] || return 0
  kill -TERM "$brigade_pid" 2>/dev/null || true
  wait "$brigade_pid" 2>/dev/null || true
  brigade_pid=""
}
trap stop_brigade EXIT
