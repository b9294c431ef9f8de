#!/usr/bin/env bash
# Builds Brigade's image from the Dockerfile with podman, runs it, and checks it as a user would:
# GET /, POST /hash, GET /files/hello.txt/sha256 and GET /metrics answer; the compose stack's
# Prometheus configuration (deploy/prometheus, mounted as compose mounts it) scrapes it as
# brigade:8080; the HEALTHCHECK passes; it runs as uid 10001; and SIGTERM while a
# GET /sleep?ms=2000 is in flight lets that request be answered (with Connection: close, as during
# a drain) and the container exit 0.
#
# No image registry is needed: the base images are made with debootstrap from the Debian mirror
# the host's apt sources name (deploy/containers/make-base-images.sh, cached after the first
# run). The build shares the host's ccache (bind-mounted over the Dockerfile's cache mount), so a
# rebuild after a CI build of the same sources compiles little. Prints each step's time.
#
# Usage: deploy/container-test.sh        (as root, from anywhere in the repository)
# Environment: CCACHE_DIR (default ~/.cache/ccache), BRIGADE_IMAGE (default localhost/brigade:test)
# Needs: podman, buildah, runc, slirp4netns, debootstrap, curl (Debian packages of those names),
# and prometheus (Debian's, for its prometheus and promtool).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Podman's settings for these VMs: runc, and ulimits the VM's hard limits allow.
export CONTAINERS_CONF="$PWD/deploy/containers/containers.conf"
export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}"
readonly IMAGE="${BRIGADE_IMAGE:-localhost/brigade:test}"
readonly CONTAINER="brigade-container-test-$$"
readonly PROMETHEUS="brigade-container-test-prometheus-$$"
# Short, so a SIGTERM that is not handled shows as podman's SIGKILL (exit 137) soon; longer than
# the grace period the container is given, so a handled one always ends on its own.
readonly GRACE_PERIOD=5s
readonly STOP_TIMEOUT_SECONDS=15
readonly SAMPLE_FILE=data/hello.txt

workdir="$(mktemp -d)"
base_url=""
test_start=$(date +%s)
summary=()

cleanup() {
  podman rm --force --ignore "$PROMETHEUS" "$CONTAINER" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

fail() {
  printf 'container-test: FAIL: %s\n' "$*" >&2
  return 1
}

print_summary() {
  printf '\n==> container-test summary\n'
  printf '%s\n' "${summary[@]}"
  printf '  %-14s         %5ds\n' "total" "$(($(date +%s) - test_start))"
}

# step NAME COMMAND [ARGS...]: runs the command and prints how long it took.
step() {
  local name=$1
  shift
  local start rc=0
  start=$(date +%s)
  printf '\n==> [%s]\n' "$name"
  "$@" || rc=$?
  local elapsed=$(($(date +%s) - start))
  if ((rc == 0)); then
    printf '<== [%s] ok in %ds\n' "$name" "$elapsed"
    summary+=("$(printf '  %-14s ok      %5ds' "$name" "$elapsed")")
  else
    printf '<== [%s] FAILED (exit %d) after %ds\n' "$name" "$rc" "$elapsed"
    summary+=("$(printf '  %-14s FAILED  %5ds' "$name" "$elapsed")")
    if podman container exists "$CONTAINER" 2>/dev/null; then
      printf -- '--- container log ---\n' >&2
      podman logs "$CONTAINER" >&2 || true
    fi
    print_summary
    exit "$rc"
  fi
}

preflight() {
  ((EUID == 0)) || fail "run as root (debootstrap and rootful podman)" || return
  local tool
  for tool in podman buildah runc slirp4netns debootstrap curl sha256sum promtool; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed" || return
  done
  mkdir -p "$CCACHE_DIR"
  podman --version
}

build_image() {
  # --format docker keeps the HEALTHCHECK (the OCI format has none); --pull=never uses the local
  # base images; the host's ccache replaces the Dockerfile's cache mount.
  podman build --pull=never --format docker \
    --volume "$CCACHE_DIR:/root/.cache/ccache" \
    --tag "$IMAGE" . >"$workdir/build.log" 2>&1 || {
    tail -n 40 "$workdir/build.log" >&2
    fail "podman build failed"
    return
  }
  # The build stage prints the compiler cache's hits and misses for this build.
  grep -E '^ *(Hits|Misses):|^\[[0-9]+/[0-9]+\] Linking CXX executable' "$workdir/build.log" || true
  podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$IMAGE"
}

check_image_config() {
  local user stop_signal ports
  user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
  stop_signal=$(podman image inspect --format '{{.Config.StopSignal}}' "$IMAGE")
  ports=$(podman image inspect --format '{{range $port, $_ := .Config.ExposedPorts}}{{$port}} {{end}}' "$IMAGE")
  [[ "$user" == 10001:10001 ]] || fail "image user is '$user', not 10001:10001" || return
  [[ "$stop_signal" == SIGTERM ]] || fail "STOPSIGNAL is '$stop_signal'" || return
  [[ "$ports" == *8080/tcp* ]] || fail "EXPOSE lists '$ports', not 8080/tcp" || return
  podman image inspect --format '{{.HealthCheck.Test}}' "$IMAGE" | grep -q 'brigade healthcheck' ||
    fail "the image has no HEALTHCHECK running 'brigade healthcheck'" || return
  # The runtime stage has the server and its libraries, not the toolchain.
  local tools
  tools=$(podman run --rm --no-healthcheck --entrypoint /bin/sh "$IMAGE" -c \
    'for tool in c++ g++ cmake ninja ccache; do command -v "$tool" || true; done') ||
    fail "cannot run a shell in the image" || return
  [[ -z "$tools" ]] || fail "the runtime image contains build tools: $tools"
}

start_container() {
  # slirp4netns forwards the published port in user space: the host only ever talks to
  # 127.0.0.1, and no bridge is needed. Without systemd, podman cannot put the HEALTHCHECK on a
  # timer and says so on stderr (kept in podman.log); the test runs the check itself.
  podman run --detach --name "$CONTAINER" \
    --network slirp4netns:port_handler=slirp4netns \
    --publish 127.0.0.1::8080 \
    --env BRIGADE_GRACE_PERIOD="$GRACE_PERIOD" \
    --add-host brigade:127.0.0.1 \
    "$IMAGE" >/dev/null 2>>"$workdir/podman.log" ||
    fail "podman run failed: $(cat "$workdir/podman.log")" || return
  local address
  address=$(podman port "$CONTAINER" 8080/tcp) || fail "no published port" || return
  base_url="http://$address"
  local tries
  for ((tries = 0; tries < 100; tries++)); do
    if curl -fsS -o /dev/null "$base_url/readyz" 2>/dev/null; then
      echo "serving on $base_url"
      return
    fi
    sleep 0.1
  done
  fail "not ready on $base_url/readyz after 10 s"
}

check_hello() {
  local body
  body=$(curl -fsS "$base_url/")
  [[ "$body" == "Hello, World!" ]] || fail "GET / answered '$body'"
}

# POST /hash with a body of SIZE random bytes; the digest must match sha256sum's.
check_hash_of() {
  local size=$1 body="$workdir/body-$1" answer expected
  head -c "$size" /dev/urandom >"$body" || return
  expected=$(sha256sum "$body" | cut -d' ' -f1) || return
  answer=$(curl -fsS --data-binary "@$body" -H 'Content-Type: application/octet-stream' \
    "$base_url/hash") || fail "POST /hash with $size bytes failed" || return
  [[ "$answer" == *"\"sha256\":\"$expected\""* && "$answer" == *"\"bytes\":$size"* ]] ||
    fail "POST /hash with $size bytes answered '$answer', expected sha256 $expected"
}

check_hash() {
  # Below and above hash_offload_threshold (64 KiB): hashed inline and on the blocking pool.
  check_hash_of 1000 && check_hash_of $((1024 * 1024))
}

check_files() {
  local answer expected
  expected=$(sha256sum "$SAMPLE_FILE" | cut -d' ' -f1)
  answer=$(curl -fsS "$base_url/files/hello.txt/sha256") ||
    fail "GET /files/hello.txt/sha256 failed (is the sample in data_dir?)" || return
  [[ "$answer" == *"\"sha256\":\"$expected\""* ]] ||
    fail "GET /files/hello.txt/sha256 answered '$answer', expected $expected"
}

check_metrics() {
  local metrics="$workdir/metrics.txt" name
  curl -fsS "$base_url/metrics" >"$metrics" || fail "GET /metrics failed" || return
  for name in brigade_runtime_workers brigade_runtime_blocking_threads \
    brigade_http_requests_total process_resident_memory_bytes; do
    grep -q "^$name" "$metrics" || fail "/metrics has no $name" || return
  done
  # The requests above were counted: POST /hash answered 200.
  grep -E '^brigade_http_requests_total\{' "$metrics" | grep 'route="/hash"' | grep -q 'code="200"' ||
    fail "/metrics did not count the POST /hash requests" || return
  promtool check metrics <"$metrics" || fail "promtool check metrics refused /metrics"
}

# The compose stack's Prometheus configuration, mounted as compose mounts it, scrapes the image
# under its compose service name. Prometheus is Debian's (the registry's image is out of reach),
# run in a container that shares the server's network namespace, where `brigade` is 127.0.0.1.
check_prometheus_scrape() {
  local config=deploy/prometheus/prometheus.yml
  if [[ ! -f "$config" ]]; then
    echo "SKIPPED: no $config in this tree"
    return
  fi
  command -v prometheus >/dev/null 2>&1 || fail "prometheus is not installed (Debian package)" || return
  podman run --detach --name "$PROMETHEUS" --network "container:$CONTAINER" \
    --volume "$PWD/deploy/prometheus:/etc/prometheus:ro" \
    --volume "$(command -v prometheus):/usr/local/bin/prometheus:ro" \
    --volume "$(command -v promtool):/usr/local/bin/promtool:ro" \
    --entrypoint /usr/local/bin/prometheus \
    docker.io/library/debian:bookworm-slim \
    --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/tmp/prometheus \
    --web.listen-address=127.0.0.1:9090 >/dev/null 2>>"$workdir/podman.log" ||
    fail "cannot start Prometheus: $(cat "$workdir/podman.log")" || return
  local tries up=""
  for ((tries = 0; tries < 60; tries++)); do
    up=$(podman exec "$PROMETHEUS" promtool query instant http://127.0.0.1:9090 'up{job="brigade"}' 2>&1) || true
    [[ "$up" == *'instance="brigade:8080"'*'=> 1 @'* ]] && break
    sleep 0.5
  done
  echo "${up:-no answer}"
  if [[ "$up" != *'=> 1 @'* ]]; then
    podman logs "$PROMETHEUS" 2>&1 | tail -n 20 >&2
    fail "Prometheus did not scrape brigade:8080 within 30 s" || return
  fi
  podman rm --force "$PROMETHEUS" >/dev/null 2>>"$workdir/podman.log"
}

check_healthcheck() {
  local status
  status=$(podman healthcheck run "$CONTAINER" 2>&1) || fail "HEALTHCHECK failed: $status" || return
  echo "healthcheck: ${status:-healthy}"
  local uid
  uid=$(podman exec "$CONTAINER" id -u)
  [[ "$uid" == 10001 ]] || fail "the server runs as uid $uid, not 10001"
}

check_graceful_stop() {
  local answer="$workdir/sleep.http" curl_pid stop_start stop_ms exit_code
  curl -sS -i --max-time 30 "$base_url/sleep?ms=2000" >"$answer" 2>&1 &
  curl_pid=$!
  # Let the request reach the server and start sleeping before the signal.
  sleep 0.5
  stop_start=$(date +%s%3N)
  podman stop --time "$STOP_TIMEOUT_SECONDS" "$CONTAINER" >/dev/null 2>>"$workdir/podman.log" ||
    fail "podman stop failed: $(cat "$workdir/podman.log")" || return
  stop_ms=$(($(date +%s%3N) - stop_start))
  wait "$curl_pid" || fail "the in-flight request failed: $(cat "$answer")" || return
  exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$CONTAINER")
  echo "podman stop took ${stop_ms} ms; exit code $exit_code"
  head -n 1 "$answer" | grep -q '^HTTP/1.1 200' ||
    fail "the in-flight request was not answered 200: $(cat "$answer")" || return
  grep -q '{"slept_ms":2000}' "$answer" || fail "unexpected body: $(cat "$answer")" || return
  # Answered during the drain: the server closes the connection after it.
  grep -qi '^Connection: close' "$answer" ||
    fail "no 'Connection: close': the request was not in flight when SIGTERM came" || return
  [[ "$exit_code" == 0 ]] || fail "exit code $exit_code after SIGTERM, not 0"
}

step preflight preflight
step base-images deploy/containers/make-base-images.sh
step build build_image
step image-config check_image_config
step start start_container
step get-root check_hello
step post-hash check_hash
step get-files check_files
step get-metrics check_metrics
step prometheus check_prometheus_scrape
step healthcheck check_healthcheck
step sigterm check_graceful_stop
print_summary
