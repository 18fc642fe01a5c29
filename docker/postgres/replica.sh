#!/bin/sh
# The optional streaming replica (compose profile "replica"): on an empty volume, copy the
# primary with pg_basebackup -R (which writes standby.signal and primary_conninfo), then run
# PostgreSQL as a hot standby. Later starts resume streaming where they stopped.
set -eu
: "${POSTGRES_REPLICATION_PASSWORD:?set POSTGRES_REPLICATION_PASSWORD (the primary's replicator role)}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h db -U replicator -d postgres -q; do sleep 1; done
  PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" \
    pg_basebackup -h db -U replicator -D "$PGDATA" -R -X stream -c fast
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on
