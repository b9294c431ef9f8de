#!/usr/bin/env bash
# Type-checks the k6 scripts against k6's published types (@types/k6), with the TypeScript
# pinned in loadtest/k6/package-lock.json. Run from loadtest/k6; $1 is node.
set -euo pipefail
node=$1
tsc=node_modules/typescript/bin/tsc
if [[ ! -f $tsc || ! -d node_modules/@types/k6 ]]; then
  echo "typescript and @types/k6 are not installed: tests/loadtest/npm-ci.sh installs them" >&2
  exit 1
fi
"$node" "$tsc" --version
"$node" "$tsc" --project tsconfig.json --listFilesOnly | grep -v node_modules
"$node" "$tsc" --project tsconfig.json
echo "tsc: no type errors"
