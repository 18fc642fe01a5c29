#!/bin/sh
# Runs once, when the `db` volume is first initialised (/docker-entrypoint-initdb.d): lets the
# optional streaming replica (compose profile "replica") connect. Without
# POSTGRES_REPLICATION_PASSWORD it does nothing. wal_level=replica and max_wal_senders=10 are
# PostgreSQL's defaults. On a volume initialised before, run the same two steps by hand
# (README "A streaming replica").
set -eu
if [ -z "${POSTGRES_REPLICATION_PASSWORD:-}" ]; then
  exit 0
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
