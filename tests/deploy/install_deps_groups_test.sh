#!/usr/bin/env bash
# deploy/install-deps.sh's package groups, read with --list (no dpkg, no network), and the two
# places that install only the `build` group: the README's run command and the Dockerfile.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
script=$repo/deploy/install-deps.sh
passed=0
failed=0
check() {
  local description=$1
  shift
  if "$@"; then
    passed=$((passed + 1)); printf 'ok   %s\n' "$description"
  else
    failed=$((failed + 1)); printf 'FAIL %s\n' "$description" >&2
  fi
}
# lists GROUPS... -- PACKAGES...: every package is in the list of those groups.
lists() {
  local groups=() list pkg
  while [[ $1 != -- ]]; do groups+=("$1"); shift; done
  shift
  list=$("$script" --list "${groups[@]}")
  for pkg in "$@"; do grep -qx -- "$pkg" <<<"$list" || { echo "$pkg missing" >&2; return 1; }; done
}
# omits GROUPS... -- PACKAGES...: no package is in the list of those groups.
omits() {
  local groups=() list pkg
  while [[ $1 != -- ]]; do groups+=("$1"); shift; done
  shift
  list=$("$script" --list "${groups[@]}")
  for pkg in "$@"; do ! grep -qx -- "$pkg" <<<"$list" || { echo "$pkg listed" >&2; return 1; }; done
}

check "build: compilers and the libraries the release preset needs" \
  lists build -- g++ cmake ninja-build libtomlplusplus-dev node-llhttp libssl-dev \
  prometheus-cpp-dev libgtest-dev libbenchmark-dev libboost1.81-dev
check "build: no test, fuzz, container or load-test tool" \
  omits build -- prometheus tmux nodejs npm clang-16 podman buildah podman-compose wrk gnuplot-nox nginx
check "default: everything the tests and CI use, podman-compose included" \
  lists -- prometheus tmux clang-16 podman buildah podman-compose wrk gnuplot-nox jq g++
check "default: not the bench peers" omits -- nginx librust-tokio-dev librust-hyper-dev
check "test: Prometheus and the console's terminal" lists test -- prometheus tmux
check "bench: nginx and Debian's Tokio and hyper crates" \
  lists bench -- nginx librust-tokio-dev librust-hyper-dev librust-socket2-dev
check "bench: perf for the system-call counts, openssl for the SHA-256 timing" \
  lists bench -- linux-perf openssl
check "an unknown group is refused" bash -c "! '$script' --list everything 2>/dev/null"
check "the Dockerfile installs the build group only" \
  grep -qx 'RUN ./deploy/install-deps.sh build' "$repo/Dockerfile"
check "the README's run command installs the build group only" grep -qF \
  './deploy/install-deps.sh build && cmake --preset release && cmake --build --preset release && ./build/release/brigade' \
  "$repo/README.md"

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
