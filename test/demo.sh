#!/usr/bin/env bash
# nango demonstration (`make demo`).
#
# Installs what is missing (Debian packages), builds the extension, installs
# it into a private copy of the PostgreSQL installation, starts a local
# example API (an imitation of HubSpot's contacts API, test/mock/demo.py) and
# a PostgreSQL cluster with shared_preload_libraries = 'nango', adds a sync,
# lets the background worker run it, and prints the synced table and the
# job row.  Everything lives in $NANGO_DEMO_DIR (default /tmp/nango-demo)
# and keeps running until `bash test/demo.sh stop`.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PGVER=15
DEMO=${NANGO_DEMO_DIR:-/tmp/nango-demo}
PKGS="postgresql-$PGVER postgresql-server-dev-$PGVER libcurl4-openssl-dev libcjson-dev make gcc python3"
BIN=$DEMO/inst/usr/lib/postgresql/$PGVER/bin
if [ "$(id -u)" = 0 ]; then RUNAS=(runuser -u postgres --); else RUNAS=(); fi

# stop_demo: stop the cluster and the example API of a previous demo.
stop_demo() {
	if [ -f "$DEMO/data/postmaster.pid" ]; then
		"${RUNAS[@]}" "$BIN/pg_ctl" -D "$DEMO/data" -m fast stop >/dev/null 2>&1 || true
	fi
	if [ -f "$DEMO/mock.pid" ]; then
		kill "$(cat "$DEMO/mock.pid")" 2>/dev/null || true
		rm -f "$DEMO/mock.pid"
	fi
}

if [ "${1:-}" = stop ]; then
	stop_demo
	echo "nango demo stopped (files left in $DEMO)"
	exit 0
fi

# --- 1. packages --------------------------------------------------------
. "$top/test/lib.sh"
# shellcheck disable=SC2086
install_missing_packages $PKGS
PG_CONFIG=/usr/lib/postgresql/$PGVER/bin/pg_config

# --- 2. build and private install ---------------------------------------
echo "== building nango"
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
stop_demo
rm -rf "$DEMO"
mkdir -p "$DEMO/sock"
private_install "$DEMO/inst" "$PGVER" "$PG_CONFIG"
chmod 755 "$DEMO"
[ "$(id -u)" = 0 ] && chown -R postgres "$DEMO"

# --- 3. the example API ---------------------------------------------------
echo "== starting the example API (an imitation of HubSpot's contacts API)"
nohup python3 "$top/test/mock_api.py" --port 0 --port-file "$DEMO/mock.port" >"$DEMO/mock.log" 2>&1 &
echo $! >"$DEMO/mock.pid"
for _ in $(seq 1 100); do [ -s "$DEMO/mock.port" ] && break; sleep 0.1; done
API="http://127.0.0.1:$(cat "$DEMO/mock.port")/demo/hubspot/crm/v3/objects/contacts"

# --- 4. PostgreSQL with nango preloaded ------------------------------------
echo "== starting PostgreSQL with nango"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${RUNAS[@]}" "$BIN/initdb" -D "$DEMO/data" -U postgres --auth=trust >"$DEMO/initdb.log" 2>&1
cat >>"$DEMO/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$DEMO/sock'
shared_preload_libraries = 'nango'
# the example API listens on 127.0.0.1, which nango refuses by default
nango.allow_private_networks = on
log_line_prefix = '%m [%p] %b '
CONF
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$DEMO/data" -l "$DEMO/postgres.log" -w start >/dev/null
PSQL=("$BIN/psql" -X -h "$DEMO/sock" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)

# --- 5. a sync, run by the background worker -------------------------------
"${PSQL[@]}" -q -c "CREATE EXTENSION nango"
cat <<SQL
== adding a sync:
SELECT nango.add_sync('$API', '{
    "friendly_name": "HubSpot contacts",
    "headers": {"Authorization": "Bearer demo-token"},
    "query_params": {"limit": 50},
    "response_path": "results",
    "paging_cursor_metadata_response_path": "paging.next.after",
    "paging_cursor_request_path": "after",
    "unique_key": "id",
    "mapped_table": "hubspot_contacts",
    "frequency": "1 minute"
}');
SQL
SYNC=$("${PSQL[@]}" -Atq -c "SELECT nango.add_sync('$API', '{
    \"friendly_name\": \"HubSpot contacts\",
    \"headers\": {\"Authorization\": \"Bearer demo-token\"},
    \"query_params\": {\"limit\": 50},
    \"response_path\": \"results\",
    \"paging_cursor_metadata_response_path\": \"paging.next.after\",
    \"paging_cursor_request_path\": \"after\",
    \"unique_key\": \"id\",
    \"mapped_table\": \"hubspot_contacts\",
    \"frequency\": \"1 minute\"
}')")
echo "== waiting for the background worker to run sync $SYNC"
for _ in $(seq 1 120); do
	done_jobs=$("${PSQL[@]}" -Atq -c "SELECT count(*) FROM nango.jobs WHERE sync_id = $SYNC AND status <> 'running'")
	[ "$done_jobs" -gt 0 ] && break
	sleep 0.5
done

echo
echo "== the job (nango.jobs):"
"${PSQL[@]}" -x -c "SELECT id, sync_id, status, attempt, started_at, ended_at, page_count, fetched_count,
       added_count, updated_count, unchanged_count, error_message
  FROM nango.jobs WHERE sync_id = $SYNC ORDER BY id"
echo "== the synced table (first 10 of its rows):"
if [ "$("${PSQL[@]}" -Atq -c "SELECT to_regclass('nango.hubspot_contacts') IS NOT NULL")" = t ]; then
	"${PSQL[@]}" -c "SELECT id, properties_firstname AS firstname, properties_lastname AS lastname,
       properties_email AS email, \"createdAt\"
  FROM nango.hubspot_contacts ORDER BY id::bigint LIMIT 10"
	"${PSQL[@]}" -Atq -c "SELECT count(*) || ' rows in nango.hubspot_contacts' FROM nango.hubspot_contacts"
else
	"${PSQL[@]}" -c "SELECT unique_key, data->'properties'->>'email' AS email FROM nango.raw
  WHERE sync_id = $SYNC ORDER BY unique_key::bigint LIMIT 10"
fi

cat <<EOT

The demo keeps running: the background worker syncs the contacts again every
minute.  Connect with:

    $BIN/psql -h $DEMO/sock -p $PORT -U postgres

and try, for example:

    SELECT * FROM nango.jobs ORDER BY id DESC;
    SELECT nango.trigger_sync($SYNC);
    SELECT pid, backend_type, application_name FROM pg_stat_activity WHERE backend_type LIKE 'nango%';

Server log: $DEMO/postgres.log
Stop the demo with:

    bash test/demo.sh stop
EOT
