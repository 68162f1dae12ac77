# shellcheck shell=bash
# Shell functions shared by the hand-run benchmarks that start a throwaway
# cluster of their own (bench/children.sh, bench/launcher_idle.sh); sourced,
# not run, from the top of the source tree.  Sources test/lib.sh.
#
# bench_setup, then bench_start_mock, then bench_start_cluster; psql then
# runs as the superuser in the cluster's postgres database.  Globals they
# set: WORK, INST, BIN, RUNAS, pids, MOCK, MOCK_PORT, SOCK.

. test/lib.sh

# die MESSAGE: prints "bench: MESSAGE" on stderr and exits 1.
die() { echo "bench: $*" >&2; exit 1; }

# bench_setup NAME PGVER: builds nango, installs it into a private copy of
# the PostgreSQL installation (as test/run_tests.sh does) in a new work
# directory ${TMPDIR:-/tmp}/nango-bench-NAME.XXXXXX, and arranges for
# bench_cleanup to run at exit.
bench_setup() {
	local name=$1 pgver=$2 pg_config=/usr/lib/postgresql/$2/bin/pg_config
	make -s PG_CONFIG="$pg_config" >/dev/null || die "build failed"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/nango-bench-$name.XXXXXX")
	chmod 755 "$WORK"
	INST=$WORK/inst
	private_install "$INST" "$pgver" "$pg_config" || die "install failed"
	BIN=$INST/usr/lib/postgresql/$pgver/bin
	RUNAS=()
	[ "$(id -u)" = 0 ] && { RUNAS=(runuser -u postgres --); chown -R postgres "$WORK"; }
	pids=()
	trap bench_cleanup EXIT
}

# bench_cleanup: stops the cluster and the processes in pids, and removes
# the work directory unless KEEP is set.
bench_cleanup() {
	[ -f "$WORK/data/postmaster.pid" ] && "${RUNAS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "work directory kept: $WORK"; fi
}

# bench_start_mock SCRIPT [ARG...]: starts python3 SCRIPT ARG...
# --port-file (a mock API that writes its port there), logging to
# mock.log, and waits for its port: MOCK is its URL, MOCK_PORT its port.
bench_start_mock() {
	python3 "$@" --port-file "$WORK/mock.port" >"$WORK/mock.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do [ -s "$WORK/mock.port" ] && break; sleep 0.1; done
	MOCK_PORT=$(cat "$WORK/mock.port")
	# shellcheck disable=SC2034  # read by the benchmark
	MOCK="http://127.0.0.1:$MOCK_PORT"
}

# bench_start_cluster [SETTINGS]: initdb and start a cluster listening on a
# Unix socket only (SOCK), with nango preloaded, private networks allowed,
# fsync off, and SETTINGS (postgresql.conf lines) added.
bench_start_cluster() {
	SOCK=$WORK/sock
	mkdir -p "$SOCK"; [ "$(id -u)" = 0 ] && chown postgres "$SOCK"
	"${RUNAS[@]}" "$BIN/initdb" -D "$WORK/data" -U postgres --auth=trust --no-sync >/dev/null 2>&1 || die "initdb failed"
	cat >>"$WORK/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'nango'
nango.allow_private_networks = on
fsync = off
${1:-}
CONF
	"${RUNAS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w start >/dev/null || die "server did not start"
}

# psql ARG...: psql as the superuser in the bench cluster's postgres
# database, quiet, unaligned, tuples only.
psql() { "${RUNAS[@]}" "$BIN/psql" -h "$SOCK" -U postgres -d postgres -X -q -t -A "$@"; }
