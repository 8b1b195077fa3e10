# TEST-ONLY stand-in for the official nginx:1.27-bookworm image, built from Debian's packages
# (`cargo xtask compose-test`).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/*
CMD ["nginx", "-g", "daemon off;"]
