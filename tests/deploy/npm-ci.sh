#!/usr/bin/env bash
# Installs the pinned npm tools of tests/deploy/node (package-lock.json) with `npm ci`, only when
# node_modules is missing or was installed from another lock file. Needs the npm registry.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/node" && pwd)"
stamp="$dir/node_modules/.installed-package-lock.json"

if cmp -s "$dir/package-lock.json" "$stamp"; then
  echo "npm tools of $dir are installed"
  exit 0
fi
if ! npm ci --prefix "$dir" --no-audit --no-fund; then
  echo "npm ci failed in $dir: the first test run installs the pinned tools from the npm" \
    "registry ($(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/))," \
    "which must be reachable then; later runs reuse node_modules and need no network" >&2
  exit 1
fi
cp "$dir/package-lock.json" "$stamp"
