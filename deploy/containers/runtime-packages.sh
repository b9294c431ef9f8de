#!/usr/bin/env bash
# Prints, one per line, the Debian packages that provide the shared libraries a binary loads
# (its whole dependency closure, as ldd resolves it). The Dockerfile's build stage runs it on the
# built `brigade` so the runtime stage installs exactly those libraries and nothing else, and the
# list follows the code when it links a new library.
#
# Usage: deploy/containers/runtime-packages.sh BINARY
set -euo pipefail

die() { printf 'runtime-packages: error: %s\n' "$*" >&2; exit 1; }

(($# == 1)) || die "usage: $0 BINARY"
binary=$1
[[ -x "$binary" ]] || die "$binary is not an executable"

# The package that owns a file. With merged /usr, /lib/x/y and /usr/lib/x/y are the same file,
# but dpkg knows it under the path its package shipped, so try each spelling.
owner_of() {
  local path=$1 candidate owner
  for candidate in "$path" "$(realpath "$path")" "/usr${path#/usr}" "${path#/usr}"; do
    # "libstdc++6:amd64: /usr/lib/x86_64-linux-gnu/libstdc++.so.6" -> libstdc++6
    owner=$(dpkg-query --search "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1) || true
    if [[ -n "$owner" ]]; then
      printf '%s\n' "$owner"
      return
    fi
  done
  die "no Debian package owns $path"
}

resolved=$(ldd "$binary")
if grep -q 'not found' <<<"$resolved"; then
  die "$binary needs libraries that are not installed: $(grep 'not found' <<<"$resolved")"
fi
# ldd lines: "libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)", or the loader itself as
# "/lib64/ld-linux-x86-64.so.2 (0x...)"; linux-vdso has no file.
libraries=$(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$resolved")
[[ -n "$libraries" ]] || die "ldd found no shared libraries in $binary"

while read -r library; do
  owner_of "$library"
done <<<"$libraries" | sort -u
