#!/usr/bin/env bash
# Launcher cost (workload W5): the launcher's idle CPU with IDLE_SYNCS
# (10,000) scheduled syncs that are not due, read from /proc/<pid>/stat
# over IDLE_SECONDS (60); then BURST (1,000) one-page syncs due at the same
# moment with nango.max_workers = 8, timed from the job rows (first
# started_at to last ended_at).  Targets: under 1% of a core idle; the
# burst done within 30 s.  Not a test: run it by hand on a quiet machine
# (bash bench/launcher_idle.sh).
#
# Builds nango, installs it into a private copy of the PostgreSQL
# installation (as test/run_tests.sh does), starts the mock API
# (test/mock_api.py, route /worker/slow) and a throwaway cluster, and stops
# everything it started.  KEEP=1 keeps the work directory.  PERF=1 also
# records a perf profile of the idle launcher (perf.txt in the work
# directory, with KEEP=1).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PGVER=15
IDLE_SYNCS=${IDLE_SYNCS:-10000}
IDLE_SECONDS=${IDLE_SECONDS:-60}
BURST=${BURST:-1000}
MAX_WORKERS=${MAX_WORKERS:-8}

. bench/lib.sh
bench_setup launcher "$PGVER"
bench_start_mock test/mock_api.py --port 0
bench_start_cluster "nango.databases = 'postgres'
nango.max_workers = $MAX_WORKERS
max_worker_processes = $((MAX_WORKERS + 8))"

# cpu_ticks PID: user + system CPU time of the process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION nango" >/dev/null
# The idle syncs get their first run a day from now in the same transaction
# that adds them, so none is ever due during the measurement.
psql -1 -c "SET client_min_messages = warning" \
	-c "SELECT count(nango.add_sync('$MOCK/worker/slow?delay=0&n=1&tag=' || i,
	      '{\"response_path\": \"data\", \"frequency\": \"1 day\"}')) FROM pg_catalog.generate_series(1, $IDLE_SYNCS) i" \
	-c "UPDATE nango.syncs SET next_run_at = pg_catalog.now() + interval '1 day'" >/dev/null || die "could not add the idle syncs"
psql -c "VACUUM ANALYZE nango.syncs" >/dev/null
launcher=""
for _ in $(seq 1 100); do
	launcher=$(psql -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'nango launcher' AND datname = 'postgres'")
	[ -n "$launcher" ] && break
	sleep 0.1
done
[ -n "$launcher" ] || die "no launcher"
sleep 5
hz=$(getconf CLK_TCK)
echo "idle: $IDLE_SYNCS scheduled syncs, none due, launcher pid $launcher, $IDLE_SECONDS s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(cpu_ticks "$launcher")
if [ -n "${PERF:-}" ]; then
	perf record -g -o "$WORK/perf.data" -p "$launcher" -- sleep "$IDLE_SECONDS" >/dev/null 2>&1
	perf report -i "$WORK/perf.data" --no-children --stdio 2>/dev/null | head -80 >"$WORK/perf.txt"
else
	sleep "$IDLE_SECONDS"
fi
t1=$(cpu_ticks "$launcher")
awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$IDLE_SECONDS" \
	'BEGIN { printf "  launcher CPU: %.2f s in %d s = %.3f%% of a core (target: under 1%%)\n", d / hz, s, 100 * d / hz / s }'
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# The burst: added in one transaction, all due when it commits.
echo "burst: $BURST one-page syncs due at once, nango.max_workers = $MAX_WORKERS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
psql -1 -c "SET client_min_messages = warning" \
	-c "CREATE TEMP TABLE burst AS SELECT nango.add_sync('$MOCK/worker/slow?delay=0&n=2&tag=b' || i,
	      '{\"response_path\": \"data\", \"frequency\": \"1 day\"}') AS id FROM pg_catalog.generate_series(1, $BURST) i" \
	-c "CREATE TABLE public.burst_ids AS SELECT id, pg_catalog.now() AS added_at FROM burst" >/dev/null || die "could not add the burst"
start=$(date +%s)
b0=$(cpu_ticks "$launcher")
if [ -n "${PERF:-}" ]; then
	perf record -g -o "$WORK/perf-burst.data" -p "$launcher" >/dev/null 2>&1 &
	perf_pid=$!
fi
while :; do
	done_n=$(psql -c "SELECT count(*) FROM nango.jobs j JOIN public.burst_ids b ON b.id = j.sync_id WHERE j.status <> 'running'")
	[ "$done_n" -ge "$BURST" ] && break
	[ $(($(date +%s) - start)) -gt 600 ] && { echo "  only $done_n of $BURST jobs ended after 600 s"; break; }
	sleep 0.5
done
psql -c "SELECT '  ' || count(*) || ' jobs (' || count(*) FILTER (WHERE j.status = 'succeeded') || ' succeeded) from first start to last end: '
           || round(extract(epoch FROM max(j.ended_at) - min(j.started_at))::numeric, 2) || ' s = '
           || round((count(*) / extract(epoch FROM max(j.ended_at) - min(j.started_at)))::numeric, 1)
           || ' jobs/s (target: within 30 s); from the commit that added them: '
           || round(extract(epoch FROM max(j.ended_at) - min(b.added_at))::numeric, 2) || ' s; median job ' || round((percentile_cont(0.5) WITHIN GROUP
              (ORDER BY extract(epoch FROM j.ended_at - j.started_at)))::numeric * 1000) || ' ms'
         FROM nango.jobs j JOIN public.burst_ids b ON b.id = j.sync_id"
b1=$(cpu_ticks "$launcher")
if [ -n "${PERF:-}" ]; then
	kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null
	perf report -i "$WORK/perf-burst.data" --no-children --stdio 2>/dev/null | head -80 >"$WORK/perf-burst.txt"
fi
awk -v d=$((b1 - b0)) -v hz="$hz" 'BEGIN { printf "  launcher CPU during the burst: %.2f s\n", d / hz }'
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
