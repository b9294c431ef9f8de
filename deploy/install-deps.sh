#!/usr/bin/env bash
# shellcheck disable=SC2034  # the package groups are read through a nameref (declare -n)
# Installs the Debian (bookworm) packages Brigade needs to build, test and benchmark.
#
# This is the one place that installs system packages: the README's set-up commands and .ci/run
# call it, and so does the Dockerfile. It is idempotent: it asks dpkg which packages are already
# installed and, only when some are missing, runs `apt-get update` once and installs just those.
# A second run installs nothing and never touches the network.
#
# Usage: deploy/install-deps.sh [--check] [GROUP...]
#   GROUP     build       compilers and the libraries the release preset builds against: enough
#                         to build and run brigade (and to compile its tests)
#             test        what the test suites run besides the binaries: Prometheus (promtool
#                         and a real server), Node.js and npm, tmux (the console's terminal)
#             fuzz        clang 16 and its libFuzzer (the fuzz preset)
#             containers  podman, buildah, podman-compose: the image, its test and the stack
#             loadtest    wrk, gnuplot, jq and curl for loadtest/
#             bench       the peers of bench/: nginx, Rust and Debian's Tokio and hyper crates;
#                         perf for the system-call counts
#             Without a group: every group but bench (what the test command and CI need).
#   --check   only report; exit 1 if any package is missing, install nothing.
#   --list    print the packages the groups name, one a line, and exit (dpkg is not asked).
#
# To add a dependency, put it in its group below (or add a group and list it in PACKAGE_GROUPS).
set -euo pipefail

# --- package groups ------------------------------------------------------------------------------
# build: compilers and build tools; toml++ (header-only, the config layer); llhttp (Debian ships
# its C sources, built by server/CMakeLists.txt) and OpenSSL for TLS; prometheus-cpp (the
# handlers' metrics). The release preset also builds the tests and benchmarks, so their
# libraries are here too: GoogleTest, Google Benchmark, and Boost (Beast: the integration tests'
# independent HTTP client).
BUILD_PACKAGES=(
  build-essential
  g++
  cmake
  ninja-build
  ccache
  pkg-config
  git
  libtomlplusplus-dev
  node-llhttp
  libssl-dev
  prometheus-cpp-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libboost1.81-dev
)
# test: Prometheus itself: promtool lints the exposition and checks the rules, and the deploy
# tests run a real Prometheus server. The deploy and load-test checks also run node tools (pinned
# under tests/deploy/node and loadtest/k6, installed by their tests with `npm ci`): Node.js and
# npm are added below unless the machine has its own. tmux is the real terminal `brigade console`
# is tested in.
TEST_PACKAGES=(
  prometheus
  tmux
)
# fuzz: libFuzzer comes with clang only. Bookworm's default clang 14 lacks std::source_location,
# so clang 16; its libFuzzer and sanitizer runtimes are only recommended by clang-16, hence listed.
FUZZ_PACKAGES=(
  clang-16
  libclang-rt-16-dev
)
# containers: the container image test (deploy/container-test.sh: podman builds and runs the
# Dockerfile; where no registry is reachable, debootstrap makes the Debian base images), the
# compose check, and podman-compose for the README's dashboard stack. podman only recommends
# slirp4netns and buildah, and this script installs no recommends.
CONTAINERS_PACKAGES=(
  podman
  buildah
  runc
  slirp4netns
  debootstrap
  curl
  python3-yaml
  podman-compose
)
# loadtest: wrk, the report's plots (gnuplot) and the runner's JSON and HTTP.
LOADTEST_PACKAGES=(
  wrk
  gnuplot-nox
  jq
  curl
)
# bench: the peers bench/run compares brigade with. nginx; Tokio + hyper built offline by cargo
# from the crate sources Debian ships (/usr/share/cargo/registry; cargo and rustc are added below
# unless the machine has its own); python3 for the connection-holding probe and the report;
# taskset (util-linux) pins server and client; perf (linux-perf) counts the server's system
# calls per request (bench/run syscalls); openssl's `speed` times SHA-256 (handlers/README.md);
# valgrind counts instructions per request (bench/instructions).
BENCH_PACKAGES=(
  nginx
  librust-tokio-dev
  librust-hyper-dev
  librust-socket2-dev
  python3
  util-linux
  wrk
  curl
  linux-perf
  valgrind
  openssl
)

PACKAGE_GROUPS=(build test fuzz containers loadtest bench)
DEFAULT_GROUPS=(build test fuzz containers loadtest)
# -------------------------------------------------------------------------------------------------

log() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

check_only=0
list_only=0
chosen=()
for argument in "$@"; do
  case "$argument" in
    --check) check_only=1 ;;
    --list) list_only=1 ;;
    -h|--help) sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *)
      [[ " ${PACKAGE_GROUPS[*]} " == *" $argument "* ]] ||
        die "unknown argument '$argument' (groups: ${PACKAGE_GROUPS[*]}; try --help)"
      chosen+=("$argument") ;;
  esac
done
((${#chosen[@]} > 0)) || chosen=("${DEFAULT_GROUPS[@]}")

wanted=()
for group in "${chosen[@]}"; do
  declare -n list="${group^^}_PACKAGES"
  for pkg in "${list[@]}"; do
    [[ " ${wanted[*]} " == *" $pkg "* ]] || wanted+=("$pkg")
  done
  unset -n list
done

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

# A machine with its own Node.js keeps it; otherwise Debian's.
if [[ " ${chosen[*]} " == *" test "* ]] &&
  { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
  wanted+=(nodejs npm)
fi

if [[ " ${chosen[*]} " == *" bench "* ]] && ! command -v cargo >/dev/null 2>&1; then
  wanted+=(cargo rustc)
fi

if ((list_only)); then
  printf '%s\n' "${wanted[@]}"
  exit 0
fi
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script targets Debian"

missing=()
for pkg in "${wanted[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  log "all ${#wanted[@]} packages of ${chosen[*]} already installed; nothing to do"
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
