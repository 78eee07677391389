#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the store tests; print its URL.
#   eval "$(bash scripts/start-postgres.sh)"   # exports CHAINWARDEN_TEST_POSTGRES_URL
# Installs Debian's postgresql if it is missing. The data directory lives under /tmp and is
# owned by the postgres user (initdb refuses to run as root).
set -euo pipefail
PORT=${PGPORT_TEST:-54329}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
fi
BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
DATA=/tmp/chainwarden-pg-$PORT
RUN_AS=()
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); fi
if ! "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  rm -rf "$DATA"; mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  "${RUN_AS[@]}" "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/log" -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp" -w start >/dev/null
fi
echo "export CHAINWARDEN_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PORT/postgres"
