#!/usr/bin/env bash
# Child syncs benchmark (SPEC section 13): one child job over PARENTS parent
# records (200), each child chain two pages, the mock answering every
# request after DELAY_MS (50) ms; the child job timed with concurrency 8
# and with concurrency 1, REPS (3) times each, interleaved, medians shown
# with the ideal time at concurrency 8 (all requests' latency / 8), the
# median's ratio to it (target: at most 1.3x) and the speed-up over
# concurrency 1 (target: at least 5x).
# Not a test: run it by hand on a quiet machine (bash bench/children.sh).
#
# Builds nango, installs it into a private copy of the PostgreSQL
# installation (as test/run_tests.sh does), starts the mock API
# (bench/children_mock.py: the /children/bench/... routes of
# test/mock/children.py on asyncio, cheap per request) and a throwaway
# cluster, and stops everything it started.  The mock's ceiling is shown
# first: the same requests by 8 Python threads over kept-alive
# connections.  KEEP=1 keeps the work directory.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PGVER=15
PARENTS=${PARENTS:-200}
DELAY_MS=${DELAY_MS:-50}
REPS=${REPS:-3}

. bench/lib.sh
bench_setup children "$PGVER"
bench_start_mock bench/children_mock.py
bench_start_cluster "nango.database = 'no_worker_database'"

psql -c "CREATE EXTENSION nango" -c "SET client_min_messages = warning" >/dev/null
parent=$(psql -c "SELECT nango.add_sync('$MOCK/children/bench/parents?n=$PARENTS',
  '{\"unique_key\": \"id\", \"auto_mapping\": false, \"frequency\": \"1 day\"}')")
psql -c "SELECT nango.pause_sync($parent)" -c "SELECT nango.run_sync($parent)" >/dev/null
child=$(psql -c "SELECT nango.add_sync('$MOCK/children/bench/items/\${parent.id}',
  '{\"parent\": {\"sync\": $parent}, \"unique_key\": \"id\", \"paging_header_link_rel\": \"next\",
    \"query_params\": {\"delay_ms\": $DELAY_MS}, \"frequency\": \"1 day\"}')")
psql -c "SELECT nango.pause_sync($child)" >/dev/null

echo "child job: $PARENTS parents x 2 pages, mock answering after $DELAY_MS ms; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$(cat "$WORK/mock.port")" "$PARENTS" "$DELAY_MS" <<'PY'
import http.client, sys, threading, time
port, parents, delay = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def worker(k):
    c = http.client.HTTPConnection('127.0.0.1', port)
    for i in range(k, parents + 1, 8):
        for page in (1, 2):
            c.request('GET', '/children/bench/items/%d?page=%d&delay_ms=%s' % (i, page, delay))
            c.getresponse().read()
t = time.time()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 9)]
for x in threads: x.start()
for x in threads: x.join()
print('mock ceiling: the same %d requests by 8 Python threads (kept-alive connections): %.2f s'
      % (parents * 2, time.time() - t))
PY
declare -A times
for rep in $(seq 1 "$REPS"); do
	for c in 8 1; do
		psql -c "SELECT nango.update_sync($child, '{\"concurrency\": $c}')" >/dev/null
		jid=$(psql -c "SELECT nango.run_sync($child)")
		t=$(psql -c "SELECT extract(epoch FROM j.ended_at - j.started_at)::numeric(10,2) || ' ' || j.status
		             || ' ' || j.fetched_count FROM nango.jobs j WHERE j.id = $jid")
		echo "  concurrency $c, run $rep: $t (seconds, status, records)"
		times[$c]="${times[$c]:-} ${t%% *}"
	done
done
declare -A med
for c in 8 1; do
	med[$c]=$(echo "${times[$c]}" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "concurrency $c: median ${med[$c]} s"
done
ideal=$(awk -v p="$PARENTS" -v d="$DELAY_MS" 'BEGIN {printf "%.2f", p * 2 * d / 1000 / 8}')
awk -v m8="${med[8]}" -v m1="${med[1]}" -v i="$ideal" 'BEGIN {
	printf "ideal at concurrency 8: %s s; concurrency 8 / ideal: %.2fx (target <= 1.3x, %s); concurrency 1 / concurrency 8: %.1fx (target >= 5x, %s)\n",
		i, m8 / i, (m8 / i <= 1.3 ? "met" : "NOT met"), m1 / m8, (m1 / m8 >= 5 ? "met" : "NOT met") }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
