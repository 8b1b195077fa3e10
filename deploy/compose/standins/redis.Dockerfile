# TEST-ONLY stand-in for the official redis:7-bookworm image, built from Debian's packages
# (`cargo xtask compose-test`): redis-server and redis-cli, data in /data.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
CMD ["redis-server"]
