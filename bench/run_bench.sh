#!/usr/bin/env bash
# nango benchmarks (`make bench`).
#
# Installs what is missing (Debian packages), builds the extension and
# installs it into a private copy of the PostgreSQL installation (as
# test/run_tests.sh does, so the system's PostgreSQL is left alone), generates
# the workloads (bench/gen.py, cached), serves them with nginx (the mock API),
# starts a dedicated cluster and runs bench/driver.py: the mock's ceiling,
# REPS interleaved repetitions of W1, W2 and W3 for the floor, the script
# peer and nango, medians and ratios, then the memory probe.  Stops
# everything it started.
#
# Environment: RECORDS (200000) records in W1/W3, REPS (3) repetitions,
# SEED (20240607), ONLY=memory (only the memory probe), ONLY=sync (no
# memory probe), ONLY=profile (bench/profile.sh) or ONLY=w4 (W4: W4_RECORDS,
# 2000000, records against W1, time per record and memory), BENCH_DATA
# (/var/tmp/nango-bench-data) where generated data is cached, TIMEOUT
# (1800) seconds after which a run counts as FAILED, CONTENDERS=floor,nango
# (leaves the script peer out), RESULTS=file.json
# (times of every run and the medians as JSON),
# KEEP=1 keeps the work directory (server log, nginx log).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PGVER=15
RECORDS=${RECORDS:-200000}
REPS=${REPS:-3}
SEED=${SEED:-20240607}
ONLY=${ONLY:-}
PKGS="postgresql-$PGVER postgresql-server-dev-$PGVER libcurl4-openssl-dev libcjson-dev make gcc python3 python3-psycopg2 curl nginx-light wrk"
[ "$ONLY" = profile ] && PKGS="$PKGS linux-perf"

die() { echo "bench: $*" >&2; exit 1; }

# --- 1. packages --------------------------------------------------------
. test/lib.sh
# shellcheck disable=SC2086
install_missing_packages $PKGS || die "package installation failed"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# Debian's Python, which has Debian's python3-psycopg2 (not another python3 on PATH).
PY=/usr/bin/python3

# --- 2. build and private install ---------------------------------------
PGBIN_SYS=/usr/lib/postgresql/$PGVER/bin
export PG_CONFIG=$PGBIN_SYS/pg_config
echo "== building"
make -s PG_CONFIG="$PG_CONFIG" >/tmp/nango-bench-build.$$ 2>&1 || { cat /tmp/nango-bench-build.$$; rm -f /tmp/nango-bench-build.$$; die "build failed"; }
rm -f /tmp/nango-bench-build.$$

WORK=$(mktemp -d /tmp/nango-bench.XXXXXX)
chmod 755 "$WORK"
INST=$WORK/inst
private_install "$INST" "$PGVER" "$PG_CONFIG" || die "install failed"
BIN=$INST/usr/lib/postgresql/$PGVER/bin
if [ "$(id -u)" = 0 ]; then RUNAS=(runuser -u postgres --); else RUNAS=(); fi

PGDATA=
pids=()
cleanup() {
	if [ -n "$PGDATA" ] && [ -f "$PGDATA/postmaster.pid" ]; then
		"${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "work directory kept: $WORK"; fi
}
trap cleanup EXIT

# --- 3. workload data (cached by size, seed and generator version) ----------
GENSUM=$(md5sum bench/gen.py | cut -c1-8)
DATA=${BENCH_DATA:-/var/tmp/nango-bench-data}/r$RECORDS-s$SEED-$GENSUM
if [ ! -s "$DATA/expected.json" ]; then
	echo "== generating $RECORDS records into $DATA"
	rm -rf "$DATA"; mkdir -p "$DATA"
	"$PY" bench/gen.py --records "$RECORDS" --seed "$SEED" --outdir "$DATA" --memory || die "generator failed"
fi
if [ "$ONLY" = w4 ]; then
	W4_RECORDS=${W4_RECORDS:-2000000}
	if [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$DATA/w4.json" 2>/dev/null)" != "$W4_RECORDS" ]; then
		echo "== generating W4: $W4_RECORDS records into $DATA/w4"
		rm -rf "$DATA/w4" "$DATA/w4.json"
		"$PY" bench/gen.py --w4 "$W4_RECORDS" --seed "$SEED" --outdir "$DATA" || die "generator failed"
	fi
fi
chmod -R a+rX "$(dirname "$DATA")"

freeport() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- 4. mock API: nginx serving the pre-rendered pages ----------------------
# /<workload>/<resource>?after=N serves <workload>/pN.json (p.json without a
# cursor), over HTTP/1.1 keep-alive without a request limit.
MOCK_PORT=$(freeport)
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
NGINX_USER=""; [ "$(id -u)" = 0 ] && NGINX_USER="user nobody nogroup;"
cat >"$WORK/nginx/nginx.conf" <<CONF
$NGINX_USER
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 300s;
	keepalive_requests 10000000;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$MOCK_PORT;
		root $DATA;
		default_type application/json;
		location ~ ^/(\w+)/(contacts|items)\$ {
			try_files /\$1/p\$arg_after.json =404;
		}
		location / { return 404; }
	}
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' >"$WORK/nginx/logs/stdout.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
	curl -s -o /dev/null "http://127.0.0.1:$MOCK_PORT/w1/contacts" && break
	sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$MOCK_PORT/w1/contacts" || { cat "$WORK/nginx/logs/"*; die "mock API (nginx) did not start"; }
MOCK="http://127.0.0.1:$MOCK_PORT"
echo "== mock API (nginx) on $MOCK"

# --- 5. the benchmark cluster ------------------------------------------------
# The same settings for every contender.  fsync and synchronous_commit stay on
# (a durable commit is part of the cost); checkpoints are spaced out and
# forced between runs, autovacuum is off so it never lands inside a timing.
# nango is preloaded as in production, but its scheduler watches database
# "postgres", so the syncs in database "bench" run only when run_sync runs them.
PGDATA=$WORK/data
SOCK=$WORK/sock
mkdir -p "$SOCK"; [ "$(id -u)" = 0 ] && chown postgres "$SOCK" "$WORK"
PGPORT=$(freeport)
"${RUNAS[@]}" "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --no-sync >"$WORK/initdb.log" 2>&1 \
	|| { cat "$WORK/initdb.log"; PGDATA=; die "initdb failed"; }
cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$SOCK'
shared_buffers = 1GB
work_mem = 16MB
maintenance_work_mem = 256MB
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_size = 16GB
checkpoint_timeout = 1h
autovacuum = off
timezone = 'UTC'
shared_preload_libraries = 'nango'
nango.database = 'postgres'
nango.allow_private_networks = on
lc_messages = 'C'
log_line_prefix = '%m [%p] %b '
CONF
"${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w start >/dev/null \
	|| { cat "$WORK/postgres.log"; PGDATA=; die "server did not start"; }

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $("$BIN/postgres" --version), $(git rev-parse --short HEAD 2>/dev/null)"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PY" bench/driver.py --data "$DATA" --work "$WORK" --mock "$MOCK" \
	--host "$SOCK" --port "$PGPORT" --reps "$REPS" --only "$ONLY"
rc=$?
if grep -q "TRAP\|server process .* was terminated" "$WORK/postgres.log"; then
	echo "!! server crash in postgres.log:"; grep -n "TRAP\|terminated" "$WORK/postgres.log" | head
	rc=1
fi
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
