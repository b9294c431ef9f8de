#!/usr/bin/env bash
# Installs the npm tools pinned by loadtest/k6/package-lock.json (typescript, @types/k6) with
# `npm ci`, unless node_modules already holds exactly that lock file's install. Needs the npm
# registry the first time only.
set -euo pipefail

k6_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../loadtest/k6" && pwd)
installed_lock=$k6_dir/node_modules/.brigade-installed-lock.json

if cmp -s "$k6_dir/package-lock.json" "$installed_lock"; then
  echo "loadtest/k6: node_modules matches package-lock.json"
  exit 0
fi
if ! npm ci --prefix "$k6_dir" --no-audit --no-fund; then
  echo "npm ci failed in $k6_dir: the first test run installs the pinned tools from the npm" \
    "registry ($(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/))," \
    "which must be reachable then; later runs reuse node_modules and need no network" >&2
  exit 1
fi
cp "$k6_dir/package-lock.json" "$installed_lock"
