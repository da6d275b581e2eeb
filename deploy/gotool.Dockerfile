# syntax=docker/dockerfile:1
# A Go-built dev tool (the Temporal CLI dev server, MinIO) from the same pinned
# module versions that deploy/stack.sh installs, on debian:12-slim with curl
# for health checks. Build args: PKG (module path@version), BIN (binary name).
#
# Why not the upstream images: docker.io/minio/minio was removed from Docker
# Hub (MinIO is source-only since 2025-10), temporalio/auto-setup is
# deprecated, and building the pins keeps compose and stack.sh identical.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
ARG PKG
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    test -n "$PKG" && GOBIN=/out go install -trimpath "$PKG"

FROM debian:12-slim
ARG BIN
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin app \
    && install -d -o app -g app /data
COPY --from=build /out/ /usr/local/bin/
RUN test -x "/usr/local/bin/$BIN"
USER 10001:10001
WORKDIR /data
VOLUME /data
