#!/usr/bin/env bash
# Install (Debian's package, if missing) and start a throwaway PostgreSQL on loopback for the
# storage tests; idempotent. Prints the SQLAlchemy URL on stdout, progress on stderr.
set -euo pipefail
say() { printf '[postgres] %s\n' "$*" >&2; }
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  say "installing postgresql (Debian package)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA=${CHATCOACH_PG_DATA:-/tmp/chatcoach-pg}
PORT=${CHATCOACH_PG_PORT:-54329}
run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if [ ! -f "$DATA/PG_VERSION" ]; then
  say "initialising a cluster in $DATA"
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  run_pg "$PGBIN/initdb -D $DATA -A trust -U postgres" >/dev/null
fi
if ! run_pg "$PGBIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  say "starting on 127.0.0.1:$PORT"
  run_pg "$PGBIN/pg_ctl -D $DATA -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1' -l $DATA/server.log -w start" >/dev/null
fi
if ! psql -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='chatcoach_test'" | grep -q 1; then
  psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE chatcoach_test" >&2
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/chatcoach_test"
