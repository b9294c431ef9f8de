#!/usr/bin/env bash
# Makes the Dockerfile's base images, docker.io/library/debian:bookworm and
# docker.io/library/debian:bookworm-slim, from Debian's own packages with debootstrap, for
# machines that reach Debian's mirror but no image registry.
#
# One `debootstrap --variant=minbase` (what Debian's official images are built from) gives both:
# `bookworm` is that root file system set up for containers; `bookworm-slim` is the same without
# documentation, manual pages and translations, and with dpkg told to leave them out of later
# installs too. The mirror is the one the host's apt sources name. The two root file systems are
# cached as tarballs under ${XDG_CACHE_HOME:-~/.cache}/brigade/base-images/, so a rerun only
# imports them (seconds); an image already present is left alone.
#
# Usage: deploy/containers/make-base-images.sh [--refresh]
#   --refresh  debootstrap again (newer packages) and replace the images.
# Environment:
#   BRIGADE_DEBIAN_MIRROR           mirror to use instead of the host's (e.g. http://deb.debian.org/debian)
#   BRIGADE_DEBIAN_SECURITY_MIRROR  security mirror instead of the host's
# Runs as root (debootstrap and rootful podman). Needs debootstrap, podman, tar.
set -euo pipefail

readonly SUITE=bookworm
readonly FULL_IMAGE=docker.io/library/debian:bookworm
readonly SLIM_IMAGE=docker.io/library/debian:bookworm-slim
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
readonly CACHE_DIR="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/brigade/base-images"

log() { printf 'make-base-images: %s\n' "$*"; }
die() { printf 'make-base-images: error: %s\n' "$*" >&2; exit 1; }

refresh=0
case "${1:-}" in
  "") ;;
  --refresh) refresh=1 ;;
  -h | --help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

((EUID == 0)) || die "run as root: debootstrap and the rootful podman store need it"
for tool in debootstrap podman tar; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian package $tool)"
done

# Prints "URI SUITE" for every deb source the host's apt configuration names, in both formats:
# one-line sources.list entries and deb822 .sources files.
host_apt_sources() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$file" ]] || continue
    # deb [options] URI SUITE COMPONENT...
    sed -E -e 's/#.*//' -e 's/\[[^]]*\]//' "$file" | awk '$1 == "deb" { print $2, $3 }'
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$file" ]] || continue
    # Paragraphs of "Field: value" lines; only Types, URIs and Suites matter here.
    awk '
      function flush(   u, s, nu, ns, us, ss) {
        if (types ~ /(^| )deb( |$)/) {
          nu = split(uris, us, " "); ns = split(suites, ss, " ")
          for (u = 1; u <= nu; u++) for (s = 1; s <= ns; s++) print us[u], ss[s]
        }
        types = uris = suites = ""
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:"  { $1 = ""; types = $0 }
      tolower($1) == "uris:"   { $1 = ""; uris = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      END { flush() }
    ' "$file"
  done
}

# The first URI the host uses for SUITE (e.g. bookworm or bookworm-security).
host_mirror_for() {
  host_apt_sources | awk -v suite="$1" '$2 == suite { print $1; exit }'
}

mirror="${BRIGADE_DEBIAN_MIRROR:-$(host_mirror_for "$SUITE")}"
security_mirror="${BRIGADE_DEBIAN_SECURITY_MIRROR:-$(host_mirror_for "$SUITE-security")}"
[[ -n "$mirror" ]] ||
  die "the host's apt sources name no mirror for $SUITE; set BRIGADE_DEBIAN_MIRROR"
mirror="${mirror%/}"
security_mirror="${security_mirror%/}"

# Writes the image's apt sources: the same mirrors as the host, so the build stage installs the
# same package versions as a build on the host (and their compiler caches agree).
write_apt_sources() {
  local rootfs=$1
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n' \
      "$mirror" "$SUITE" "$SUITE" "$KEYRING"
    if [[ -n "$security_mirror" ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
        "$security_mirror" "$SUITE" "$KEYRING"
    fi
  } >"$rootfs/etc/apt/sources.list.d/debian.sources"
}

# Container conventions, as in Debian's official images: no services start during installs,
# apt leaves no package files or lists behind, and no host identity is baked in.
prepare_for_containers() {
  local rootfs=$1
  write_apt_sources "$rootfs"
  printf '#!/bin/sh\n# Containers run no init: never start services during package installs.\nexit 101\n' \
    >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
// Image layers keep what a RUN leaves behind: drop downloaded packages after each install.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/machine-id"
}

# What Debian's -slim images leave out, now and in later installs (copyright files stay).
slim_down() {
  local rootfs=$1
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
# A slim container image: no documentation, manual pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{info,groff,linda,lintian,locale,man}/*
}

pack() {
  local rootfs=$1 tarball=$2
  tar --numeric-owner --xattrs --one-file-system -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
}

full_tar="$CACHE_DIR/debian-$SUITE.tar"
slim_tar="$CACHE_DIR/debian-$SUITE-slim.tar"

if ((refresh)) || [[ ! -f "$full_tar" || ! -f "$slim_tar" ]]; then
  mkdir -p "$CACHE_DIR"
  rootfs="$(mktemp -d /var/tmp/brigade-debootstrap.XXXXXX)"
  trap 'rm -rf "$rootfs"' EXIT
  log "debootstrap --variant=minbase $SUITE from $mirror"
  debootstrap --variant=minbase --keyring="$KEYRING" "$SUITE" "$rootfs" "$mirror" \
    >"$CACHE_DIR/debootstrap.log" 2>&1 ||
    { tail -n 30 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"; }
  prepare_for_containers "$rootfs"
  pack "$rootfs" "$full_tar"
  slim_down "$rootfs"
  pack "$rootfs" "$slim_tar"
  log "cached $full_tar and $slim_tar"
  refresh=1
else
  log "using the cached root file systems in $CACHE_DIR"
fi

import_image() {
  local tarball=$1 image=$2
  if ((refresh == 0)) && podman image exists "$image"; then
    log "$image is already there"
    return
  fi
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase $SUITE from $mirror" \
    "$tarball" "$image" >/dev/null
  log "imported $image"
}

import_image "$full_tar" "$FULL_IMAGE"
import_image "$slim_tar" "$SLIM_IMAGE"
