#!/usr/bin/env bash
# Make sure a local PostgreSQL 15 runs with a `leadflow` role and a `leadflow_test` database,
# installing Debian's postgresql-15 when it is missing. Prints the database URL on stdout.
# Used by `make test`; safe to run again. Needs root (or sudo) the first time.
set -euo pipefail
log() { echo "ensure-postgres: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/15/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql-15 (Debian package)"
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql-15 >&2
fi
if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main'; then
  as_root pg_createcluster 15 main >&2
fi
if ! pg_lsclusters -h | grep -q '^15 *main .* online'; then
  as_root pg_ctlcluster 15 main start >&2
fi
for _ in $(seq 1 30); do
  as_root su postgres -c "pg_isready -q -h 127.0.0.1" && break
  sleep 1
done
psql_super() { as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(psql_super "SELECT 1 FROM pg_roles WHERE rolname='leadflow'")" != 1 ]; then
  psql_super "CREATE ROLE leadflow LOGIN PASSWORD 'leadflow' CREATEDB" >&2
fi
if [ "$(psql_super "SELECT 1 FROM pg_database WHERE datname='leadflow_test'")" != 1 ]; then
  as_root su postgres -c "createdb -O leadflow leadflow_test" >&2
fi
echo "postgresql+psycopg://leadflow:leadflow@127.0.0.1:5432/leadflow_test"
