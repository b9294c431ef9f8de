# Brigade's container image.
#
#   podman build --format docker -t brigade .     (or: docker build -t brigade .)
#   podman run --rm -p 8080:8080 brigade
#
# Two stages: `build` compiles the release binary on Debian bookworm with the project's own
# dependency script; the runtime stage is bookworm-slim with only the shared libraries that binary
# loads, run as an unprivileged user. Podman needs `--format docker` to keep the HEALTHCHECK (the
# OCI image format has no health checks). deploy/container-test.sh builds, runs and checks it.

# --- build ---------------------------------------------------------------------------------------
FROM docker.io/library/debian:bookworm AS build

WORKDIR /src
# The dependencies get a layer of their own, rebuilt only when the package list changes: the
# `build` group only (compilers and libraries), none of the test, container or load-test tools.
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN ./deploy/install-deps.sh build

COPY . .

# ccache keys on paths relative to CCACHE_BASEDIR, with the working directory left out of the
# hash, so objects compiled here and in a checkout on the host (with the same settings) are shared.
# It also hashes LANG: C.UTF-8 is what Debian hosts set (/etc/default/locale).
# container-test.sh bind-mounts the host's cache over the cache mount below.
ENV CCACHE_DIR=/root/.cache/ccache \
    CCACHE_BASEDIR=/src \
    CCACHE_NOHASHDIR=1 \
    LANG=C.UTF-8
# Release, the server only: no tests, benchmarks or examples. Warnings are errors, as in CI's
# release build: the same flags let that build's cache entries serve this one.
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake --preset release \
      -DBRIGADE_BUILD_TESTS=OFF \
      -DBRIGADE_BUILD_BENCHMARKS=OFF \
      -DBRIGADE_BUILD_EXAMPLES=OFF \
      -DBRIGADE_WERROR=ON \
 && CCACHE_STATSLOG=/tmp/ccache-stats.log cmake --build --preset release --target brigade \
 && CCACHE_STATSLOG=/tmp/ccache-stats.log ccache --show-log-stats | grep -E '^ *(Hits|Misses):' \
 && install -D build/release/brigade /out/brigade \
 && deploy/containers/runtime-packages.sh /out/brigade > /out/runtime-packages

# --- runtime -------------------------------------------------------------------------------------
FROM docker.io/library/debian:bookworm-slim

LABEL org.opencontainers.image.title="brigade" \
      org.opencontainers.image.description="HTTP/1.1 server on an embedded work-stealing runtime"

# The packages that provide the libraries the binary loads (listed by the build stage); most are
# in the base image already, and apt runs only when one is missing.
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN set -eu; \
    missing=""; \
    for pkg in $(cat /tmp/runtime-packages); do \
      if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]; then \
        missing="$missing $pkg"; \
      fi; \
    done; \
    if [ -n "$missing" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    rm /tmp/runtime-packages

# A fixed numeric id, so orchestrators can check "non-root" (Kubernetes' runAsNonRoot) without
# reading /etc/passwd.
RUN groupadd --gid 10001 brigade \
 && useradd --uid 10001 --gid brigade --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin brigade

COPY --from=build /out/brigade /usr/local/bin/brigade
# A sample file for GET /files/{name}/sha256; mount a volume over the directory to serve others.
COPY data/ /srv/brigade/data/

WORKDIR /srv/brigade
ENV BRIGADE_DATA_DIR=/srv/brigade/data
USER 10001:10001
EXPOSE 8080
# brigade drains on SIGTERM: readiness turns 503, in-flight requests finish (up to grace_period),
# then it exits 0. Give the runtime's stop timeout at least drain_delay + grace_period.
STOPSIGNAL SIGTERM
# `brigade healthcheck` reads the same settings as the server (BRIGADE_LISTEN, ...) and GETs
# /healthz on its port: no curl in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/brigade", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/brigade"]
