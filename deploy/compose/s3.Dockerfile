# The compose stack's S3 server: s3s-fs (the same server the tests use) on the runtime image of
# the main Dockerfile. `--target prebuilt` copies bin/s3s-fs from the build context (the compose
# test); the default target builds it from crates.io.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 shopfleet \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin shopfleet \
 && mkdir -p /keys /var/lib/shopfleet/s3 \
 && chown -R 10001:10001 /keys /var/lib/shopfleet
COPY deploy/compose/s3-entrypoint /usr/local/bin/s3-entrypoint
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/s3-entrypoint"]

FROM runtime AS prebuilt
COPY bin/s3s-fs /usr/local/bin/s3s-fs

FROM rust:1-bookworm AS builder
RUN cargo install s3s-fs --version 0.14.1 --features binary --locked --root /out

FROM runtime AS server
COPY --from=builder /out/bin/s3s-fs /usr/local/bin/s3s-fs
