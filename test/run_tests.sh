#!/usr/bin/env bash
# nango test runner (`make test`).
#
# Installs what is missing (Debian packages), builds the extension, installs
# it into a private copy of the PostgreSQL installation (so the system's
# PostgreSQL is left alone and several runs can go on side by side), starts
# the mock API and a throwaway cluster with shared_preload_libraries =
# 'nango', runs pg_regress (sql/, expected/) and the TAP tests (test/t/),
# checks that the docs and the code agree (test/check_docs.py) and that the
# sources keep to the module map (test/check_layers.py), stops
# everything it started and prints "N passed, M failed" last.
#
# Environment: TESTS="name ..." limits pg_regress to those tests,
# TAP_TESTS="test/t/010_x.pl ..." limits the TAP tests, SKIP_TAP=1 or
# SKIP_REGRESS=1 skip a part, KEEP=1 keeps the work directory.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PGVER=15
PKGS="postgresql-$PGVER postgresql-server-dev-$PGVER libcurl4-openssl-dev libcjson-dev libipc-run-perl make gcc python3 curl"

# --- 1. packages --------------------------------------------------------
. "$top/test/lib.sh"
# shellcheck disable=SC2086
install_missing_packages $PKGS || { echo "package installation failed"; echo "0 passed, 1 failed"; exit 1; }
# pg_cron: test/t/029_beside_pg_cron.pl runs nango beside it (skipped without it)
install_optional_packages "postgresql-$PGVER-cron"

PGBIN_SYS=/usr/lib/postgresql/$PGVER/bin
export PG_CONFIG=$PGBIN_SYS/pg_config

# --- 2. build and private install ---------------------------------------
echo "== building"
if ! make -s PG_CONFIG="$PG_CONFIG" >/tmp/nango-build.$$ 2>&1; then
	cat /tmp/nango-build.$$; rm -f /tmp/nango-build.$$
	echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
rm -f /tmp/nango-build.$$

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nango-test.XXXXXX")
chmod 755 "$WORK"
INST=$WORK/inst
private_install "$INST" "$PGVER" "$PG_CONFIG" || { echo "install failed"; echo "0 passed, 1 failed"; exit 1; }
BIN=$INST/usr/lib/postgresql/$PGVER/bin
PGXS_DIR=$(cd "$(dirname "$($PG_CONFIG --pgxs)")/../.." && pwd)

# Everything the server and tests read must be readable by the server's user.
if [ "$(id -u)" = 0 ]; then
	RUNAS=(runuser -u postgres --)
	SRC=$WORK/src
	mkdir -p "$SRC"
	cp -a sql expected test "$SRC/"
	chown -R postgres "$WORK"
else
	RUNAS=()
	SRC=$top
fi

pids=()
cleanup() {
	if [ -n "${PGDATA:-}" ] && [ -f "$PGDATA/postmaster.pid" ]; then
		"${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
	fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "work directory kept: $WORK"; fi
}
trap cleanup EXIT

# --- 3. mock API ----------------------------------------------------------
python3 "$top/test/mock_api.py" --port 0 --port-file "$WORK/mock.port" >"$WORK/mock.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$WORK/mock.port" ] && break; sleep 0.1; done
MOCK_PORT=$(cat "$WORK/mock.port" 2>/dev/null)
if [ -z "$MOCK_PORT" ]; then cat "$WORK/mock.log"; echo "mock API did not start"; echo "0 passed, 1 failed"; exit 1; fi
export NANGO_MOCK_URL="http://127.0.0.1:$MOCK_PORT"
echo "== mock API on $NANGO_MOCK_URL"

passed=0
failed=0

# --- 4. pg_regress ------------------------------------------------------------
if [ -z "${SKIP_REGRESS:-}" ]; then
	PGDATA=$WORK/data
	SOCK=$WORK/sock
	mkdir -p "$SOCK"; [ "$(id -u)" = 0 ] && chown postgres "$SOCK"
	PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"${RUNAS[@]}" "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --no-sync >"$WORK/initdb.log" 2>&1 \
		|| { cat "$WORK/initdb.log"; echo "initdb failed"; echo "0 passed, 1 failed"; exit 1; }
	cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'nango'
# the worker idles here (no such database): pg_regress tests run syncs by hand
nango.database = 'no_worker_database'
nango.allow_private_networks = on
nango.poll_interval = '200ms'
nango_test.mock_url = '$NANGO_MOCK_URL'
max_worker_processes = 32
fsync = off
lc_messages = 'C'
log_line_prefix = '%m [%p] %b '
CONF
	"${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w start >/dev/null \
		|| { cat "$WORK/postgres.log"; echo "server did not start"; echo "0 passed, 1 failed"; exit 1; }

	if [ -n "${TESTS:-}" ]; then
		tests=$TESTS
	else
		tests=$(cd sql && ls *.sql | sed 's/\.sql$//' | sort)
	fi
	echo "== pg_regress"
	# psql runs in $SRC, so tests may include shared files: \i test/sql/...
	( cd "$SRC" && "${RUNAS[@]}" "$PGXS_DIR/src/test/regress/pg_regress" \
		--bindir="$BIN" --inputdir="$SRC" --outputdir="$WORK/regress" \
		--host="$SOCK" --port="$PGPORT" --user=postgres \
		--dbname=contrib_regression $tests ) >"$WORK/regress.out" 2>&1
	sed -n '/^test \|^     \|^ok \|^not ok\|FAILED\|failed\|passed/p' "$WORK/regress.out"
	r_ok=$(grep -cE '^(test )?[^ ].* \.\.\. ok' "$WORK/regress.out")
	# every test that did not end "ok" failed (also one whose diff could not
	# run, e.g. without an expected file, which pg_regress reports otherwise)
	r_all=$(grep -cE '^(test |     )?[^ ].* \.\.\. ' "$WORK/regress.out")
	r_bad=$((r_all - r_ok))
	passed=$((passed + r_ok)); failed=$((failed + r_bad))
	if [ "$r_bad" -gt 0 ] && [ -f "$WORK/regress/regression.diffs" ]; then
		cat "$WORK/regress/regression.diffs"
		cp "$WORK/regress/regression.diffs" "$top/regression.diffs" 2>/dev/null
	fi
	if grep -q "TRAP\|server process .* was terminated\|AddressSanitizer" "$WORK/postgres.log"; then
		echo "!! server crash or assertion in postgres.log:"; grep -n "TRAP\|terminated\|AddressSanitizer" "$WORK/postgres.log" | head
		failed=$((failed + 1))
	fi
	"${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1
	PGDATA=
fi

# --- 5. TAP -------------------------------------------------------------------
if [ -z "${SKIP_TAP:-}" ]; then
	if [ -n "${TAP_TESTS:-}" ]; then
		taps=$TAP_TESTS
	else
		taps=$(ls test/t/*.pl 2>/dev/null | sort)
	fi
	if [ -n "$taps" ]; then
		echo "== TAP"
		mkdir -p "$WORK/tap" /tmp/nango-portlock
		chmod 1777 /tmp/nango-portlock 2>/dev/null
		[ "$(id -u)" = 0 ] && chown postgres "$WORK/tap"
		for t in $taps; do
			name=$(basename "$t" .pl)
			mkdir -p "$WORK/tap/$name"; [ "$(id -u)" = 0 ] && chown postgres "$WORK/tap/$name"
			( cd "$WORK/tap" && "${RUNAS[@]}" env PATH="$BIN:$PATH" PERL5LIB="$PGXS_DIR/src/test/perl" \
				PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" TESTDIR="$WORK/tap/$name" \
				PG_TEST_PORT_DIR=/tmp/nango-portlock NANGO_MOCK_URL="$NANGO_MOCK_URL" \
				NANGO_SRC="$SRC" with_ssl=no \
				prove -v "$SRC/$t" ) >"$WORK/tap/$name.out" 2>&1
			t_ok=$(grep -cE '^ok [0-9]' "$WORK/tap/$name.out")
			t_bad=$(grep -cE '^not ok [0-9]' "$WORK/tap/$name.out")
			if ! grep -q '^Result: PASS' "$WORK/tap/$name.out"; then
				[ "$t_bad" -eq 0 ] && t_bad=1
				echo "--- $name output:"; tail -40 "$WORK/tap/$name.out"
				for log in "$WORK/tap/$name"/tmp_check/log/*; do
					[ -f "$log" ] && { echo "--- $log"; tail -30 "$log"; }
				done
			fi
			echo "tap $name ... $t_ok passed, $t_bad failed"
			passed=$((passed + t_ok)); failed=$((failed + t_bad))
		done
	fi
fi

# --- 6. docs and code agree (config keys, settings, functions, links) ---------
if python3 "$top/test/check_docs.py"; then
	echo "docs ... ok"; passed=$((passed + 1))
else
	echo "docs ... FAILED"; failed=$((failed + 1))
fi

# --- 7. the sources keep to the module map of CONTRIBUTING.md ---------------
if python3 "$top/test/check_layers.py"; then
	echo "layers ... ok"; passed=$((passed + 1))
else
	echo "layers ... FAILED"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
