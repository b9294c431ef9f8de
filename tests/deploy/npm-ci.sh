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
npm ci --prefix "$dir" --no-audit --no-fund
cp "$dir/package-lock.json" "$stamp"
