# Shopfleet's images, one per binary: `docker build --build-arg SERVICE=<name> .` builds the
# service <name> (gateway, auth, ..., media) or `bootstrap` (the one-shot bootstrap of the compose
# stack and the Kubernetes Job).
#
# Two paths share one runtime stage:
#   - the default (last) target builds from source: a cargo-chef layer of the dependencies, cached
#     until Cargo.lock or a manifest changes, then the binary (release);
#   - `--target prebuilt` copies a binary built beforehand from bin/<SERVICE> of the build context
#     (what `cargo xtask compose-test` does with the binaries the tests already built).
# The classic builder builds every stage before the target, so the runtime and prebuilt stages
# come first: building `prebuilt` never pulls the Rust image.

ARG SERVICE=gateway

# The runtime: Debian bookworm (the glibc the binaries link against), CA certificates, and an
# unprivileged user. Nothing is written outside the mounted volumes, so it runs with a read-only
# root filesystem; the health check is the binary's own (`<service> healthcheck`): no shell or
# curl is needed.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 shopfleet \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin shopfleet \
 && mkdir -p /keys /var/lib/shopfleet/search-index /var/lib/shopfleet/s3 \
 && chown -R 10001:10001 /keys /var/lib/shopfleet
USER 10001:10001
ENV LOG_FORMAT=json
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD ["/usr/local/bin/shopfleet", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/shopfleet"]

# Prebuilt: the binary from the build context.
FROM runtime AS prebuilt
ARG SERVICE
COPY bin/${SERVICE} /usr/local/bin/shopfleet

# From source.
FROM rust:1-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.71
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ARG SERVICE
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin ${SERVICE}
COPY . .
RUN cargo build --release --locked --bin ${SERVICE} && cp target/release/${SERVICE} /shopfleet

FROM runtime AS service
COPY --from=builder /shopfleet /usr/local/bin/shopfleet
