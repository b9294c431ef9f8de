#!/usr/bin/env bash
# When the npm registry cannot be reached, the npm-ci.sh scripts that install the tests' pinned
# node tools fail saying that the first test run needs the registry. Each script runs from a
# copy of its folder layout in a temporary directory (with the real package files, without
# node_modules), against a registry address where nothing listens.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo=$(cd "$loadtest_dir/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fails_naming_the_registry SCRIPT PACKAGE_DIR: both copied into $work at their repository paths.
fails_naming_the_registry() {
  local script=$1 packages=$2 output
  mkdir -p "$work/$(dirname "$script")" "$work/$packages"
  cp "$repo/$script" "$work/$script"
  cp "$repo/$packages/package.json" "$repo/$packages/package-lock.json" "$work/$packages/"
  if output=$(npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0 \
    npm_config_cache="$work/npm-cache" bash "$work/$script" 2>&1); then
    echo "$script succeeded without a registry" >&2
    return 1
  fi
  grep -qF "the first test run installs the pinned tools from the npm registry (http://127.0.0.1:9/)" \
    <<<"$output" || { echo "no registry message in: $output" >&2; return 1; }
}

check "loadtest npm-ci.sh names the registry" fails_naming_the_registry tests/loadtest/npm-ci.sh loadtest/k6
check "deploy npm-ci.sh names the registry" fails_naming_the_registry tests/deploy/npm-ci.sh tests/deploy/node
finish
