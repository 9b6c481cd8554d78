#!/usr/bin/env bash
# Sets up a local PostgreSQL 15 + PostGIS 3 for the test suite and prints its URL (last line).
# Idempotent: installs the Debian packages only when missing, creates and starts the cluster
# only when needed. For test machines only: it trusts every local connection.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8
PG_VER="${PG_VER:-15}"
PG_DB="${PG_DB:-assetmap_test}"
say() { echo "postgis.sh: $*" >&2; }

missing=()
for pkg in "postgresql-$PG_VER" "postgresql-client-$PG_VER" "postgresql-$PG_VER-postgis-3"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

line() { pg_lsclusters --no-header 2>/dev/null | awk -v v="$PG_VER" '$1==v && $2=="main"'; }
# Containers often forbid the package scripts from starting services, so check and start here.
[[ -n "$(line)" ]] || pg_createcluster --locale=C.UTF-8 --encoding=UTF8 "$PG_VER" main >/dev/null
PORT="$(line | awk '{print $3}')"
if [[ "$(line | awk '{print $4}')" != online* ]]; then
  say "starting cluster $PG_VER/main on port $PORT"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VER" main start
fi
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$PORT" && break; sleep 0.5; done

as_postgres() ( cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" "$@" )
HBA="$(as_postgres -Atc 'SHOW hba_file')"
if ! grep -q "assetmap-test-trust" "$HBA"; then
  say "trusting local connections (test machine)"
  { echo "# assetmap-test-trust"
    echo "local all all trust"
    echo "host all all 127.0.0.1/32 trust"
    echo "host all all ::1/128 trust"
    cat "$HBA"; } >"$HBA.new"
  cat "$HBA.new" >"$HBA" && rm -f "$HBA.new"
  as_postgres -c 'SELECT pg_reload_conf()' >/dev/null
  sleep 0.5
fi
as_postgres -d postgres -Atc "SELECT 1 FROM pg_roles WHERE rolname='root'" | grep -q 1 \
  || as_postgres -d postgres -c "CREATE ROLE root SUPERUSER LOGIN"
as_postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1 \
  || as_postgres -d postgres -c "CREATE DATABASE \"$PG_DB\" OWNER root ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
as_postgres -d "$PG_DB" -c "SET client_min_messages=warning; CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
echo "postgresql://root@127.0.0.1:$PORT/$PG_DB"
