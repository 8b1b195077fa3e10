# TEST-ONLY stand-in for the official postgres:15-bookworm image, built from Debian's packages
# (`cargo xtask compose-test`, where Docker Hub cannot be reached). It honours what the compose
# file uses of the official image: POSTGRES_PASSWORD_FILE, PGDATA, PGPORT, `postgres` arguments.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
