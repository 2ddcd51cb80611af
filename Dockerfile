# syntax=docker/dockerfile:1
# One image for every ferroflux binary: the four controllers (Flux's names) and the CLI.
# The install manifests run each controller with `command: ["/usr/local/bin/<name>"]`.
#
#   docker build -t ghcr.io/ferroflux/ferroflux:v0.1.0 .

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
# libgit2 and libssh2 are built from source (vendored) and link OpenSSL for HTTPS/SSH.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake pkg-config libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Every binary of the workspace, so controllers are picked up as they land; xtask is
# repository tooling, not shipped. The target dir is a cache mount, so the binaries are
# copied out in the same step. Binaries that do not exist yet are skipped.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --workspace --exclude xtask --bins \
    && mkdir -p /out \
    && for binary in source-controller kustomize-controller helm-controller notification-controller ferroflux; do \
         if [ -f "target/release/${binary}" ]; then \
           cp "target/release/${binary}" /out/; \
         else \
           echo "note: ${binary} is not built yet; skipping"; \
         fi; \
       done \
    && test -f /out/ferroflux

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/ /usr/local/bin/
LABEL org.opencontainers.image.source="https://github.com/ferroflux/ferroflux" \
      org.opencontainers.image.description="ferroflux: the Flux CD v2 controllers in Rust" \
      org.opencontainers.image.licenses="Apache-2.0"
# The root filesystem is read-only in the install manifests; /tmp is an emptyDir.
ENV HOME=/tmp
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/ferroflux"]
