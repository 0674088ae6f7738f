#!/usr/bin/env bash
# Starts Debian's PostgreSQL for the bench (installing it if missing), and makes the
# superuser role the bench connects as: the same steps as .ci/run. Safe to re-run.
set -euo pipefail
PG_PORT_WANTED=${PG_PORT_WANTED:-5432}
PG_USER=${PG_USER:-commcomms}
PG_PASSWORD=${PG_PASSWORD:-commcomms}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "[bench] installing postgresql from Debian packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
PG_VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" { f = 1 } END { exit !f }'; then
  as_root pg_createcluster "$PG_VERSION" main --port "$PG_PORT_WANTED" >/dev/null
fi
PG_PORT=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" { print $3 }')
if [ "$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" { print $4 }')" != "online" ]; then
  as_root pg_ctlcluster "$PG_VERSION" main start
fi
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 1; done
as_root runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qAt -c "
  DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
      CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASSWORD';
    END IF;
  END \$\$;"
echo "[bench] PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT (role $PG_USER)"
