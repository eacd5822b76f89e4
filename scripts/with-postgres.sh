#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 cluster in a temporary folder.
# initdb refuses root, so the cluster runs as the `postgres` system user; it listens
# only on a Unix socket inside the folder and is removed afterwards.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
dir=$(mktemp -d /tmp/liveops-pg.XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  chown postgres "$dir"
fi
chmod 700 "$dir"
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
as_pg "$PGBIN/createdb" -h "$dir" -p "$port" -U postgres liveops
export DATABASE_URL="postgres://postgres@/liveops?host=$dir&port=$port"
echo "with-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on socket $dir port $port"
"$@"
