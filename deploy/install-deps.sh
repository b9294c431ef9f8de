#!/usr/bin/env bash
# shellcheck disable=SC2034  # the package groups are read through a nameref (declare -n)
# Installs the Debian (bookworm) packages Brigade needs to build, test and benchmark.
#
# This is the one place that installs system packages: the README's set-up commands and .ci/run
# call it, and so does the Dockerfile. It is idempotent: it asks dpkg which packages are already
# installed and, only when some are missing, runs `apt-get update` once and installs just those.
# A second run installs nothing and never touches the network.
#
# Usage: deploy/install-deps.sh [--check]
#   --check   only report; exit 1 if any package is missing, install nothing.
#
# To add a dependency, put it in its group below (or add a group and list it in PACKAGE_GROUPS).
set -euo pipefail

# --- package groups ------------------------------------------------------------------------------
# Compilers and build tools.
TOOLCHAIN_PACKAGES=(
  build-essential
  g++
  cmake
  ninja-build
  ccache
  pkg-config
  git
)
# Libraries for the test suites and the benchmarks.
TEST_PACKAGES=(
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
)
# Libraries the layers link: the config layer parses TOML with toml++ (header-only).
LIBRARY_PACKAGES=(
  libtomlplusplus-dev
)
# The server layer: llhttp (Debian ships its C sources, built by server/CMakeLists.txt), OpenSSL
# for TLS, and Boost (Beast: the integration tests' independent HTTP client).
SERVER_PACKAGES=(
  node-llhttp
  libssl-dev
  libboost1.81-dev
)
# The handlers' Prometheus metrics (prometheus-cpp core), and Prometheus itself: promtool lints
# the exposition and checks the rules, and the deploy tests run a real Prometheus server.
METRICS_PACKAGES=(
  prometheus-cpp-dev
  prometheus
)
# The fuzz targets (the `fuzz` preset, a CI step): libFuzzer comes with clang only. Bookworm's
# default clang 14 lacks std::source_location, so clang 16; its libFuzzer and sanitizer runtimes
# are only recommended by clang-16, hence listed.
FUZZ_PACKAGES=(
  clang-16
  libclang-rt-16-dev
)

# The container image test (deploy/container-test.sh: podman builds and runs the Dockerfile;
# where no registry is reachable, debootstrap makes the Debian base images) and the compose check.
# podman only recommends slirp4netns and buildah, and this script installs no recommends.
CONTAINER_PACKAGES=(
  podman
  buildah
  runc
  slirp4netns
  debootstrap
  curl
  python3-yaml
)

# The load-test tooling (loadtest/): wrk, the report's plots (gnuplot) and the runner's JSON and
# HTTP.
LOADTEST_PACKAGES=(
  wrk
  gnuplot-nox
  jq
  curl
)

PACKAGE_GROUPS=(TOOLCHAIN_PACKAGES TEST_PACKAGES LIBRARY_PACKAGES SERVER_PACKAGES METRICS_PACKAGES
  FUZZ_PACKAGES CONTAINER_PACKAGES LOADTEST_PACKAGES)
# -------------------------------------------------------------------------------------------------

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

check_only=0
case "${1:-}" in
  "") ;;
  --check) check_only=1 ;;
  -h|--help) sed -n '3,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script targets Debian"

wanted=()
for group in "${PACKAGE_GROUPS[@]}"; do
  declare -n list="$group"
  wanted+=("${list[@]}")
  unset -n list
done

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

# The deploy and load-test checks run node tools (pinned under tests/deploy/node and loadtest/k6,
# installed by their tests with `npm ci`). A machine with its own Node.js keeps it; otherwise
# Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  wanted+=(nodejs npm)
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  log "all ${#wanted[@]} packages already installed; nothing to do"
  exit 0
fi

log "missing ${#missing[@]} of ${#wanted[@]} packages: ${missing[*]}"
if ((check_only)); then
  exit 1
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo --preserve-env=DEBIAN_FRONTEND)
else
  die "must run as root (or with sudo available) to install packages"
fi

export DEBIAN_FRONTEND=noninteractive

log "running apt-get update"
"${as_root[@]}" apt-get update -q

log "installing: ${missing[*]}"
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

still_missing=()
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || still_missing+=("$pkg")
done
if ((${#still_missing[@]} > 0)); then
  die "still not installed after apt-get: ${still_missing[*]}"
fi
log "installed ${#missing[@]} packages: ${missing[*]}"
