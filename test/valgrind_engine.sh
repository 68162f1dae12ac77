#!/usr/bin/env bash
# Runs the sync engine's main paths (every paging style, faults, both
# storage modes, delete modes, incremental) in a single-user postgres under
# valgrind memcheck, against the mock API, and reports the errors and leaks
# whose stack mentions nango.so.  Needs a kept test work directory (for the
# private install): KEEP=1 TESTS=00_install SKIP_TAP=1 make test, then
#   bash test/valgrind_engine.sh /tmp/nango-test.XXXXXX
set -euo pipefail
W=${1:?usage: valgrind_engine.sh WORKDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=$W/inst/usr/lib/postgresql/15/bin
RUNAS=(); [ "$(id -u)" = 0 ] && RUNAS=(runuser -u postgres --)
VG=$W/valgrind; rm -rf "$VG"; mkdir -p "$VG"; chmod 777 "$VG"

python3 "$top/test/mock_api.py" --port 0 --port-file "$VG/mock.port" >"$VG/mock.log" 2>&1 &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null' EXIT
for _ in $(seq 1 50); do [ -s "$VG/mock.port" ] && break; sleep 0.1; done
M="http://127.0.0.1:$(cat "$VG/mock.port")"

"${RUNAS[@]}" "$BIN/initdb" -D "$VG/data" -U postgres --auth=trust --no-sync >/dev/null
printf "nango.allow_private_networks = on\nnango.log_level = debug\n" >>"$VG/data/postgresql.conf"

sync() { echo "SELECT nango.run_sync(nango.add_sync('$M$1', '$2'));"; }
{
	echo "CREATE EXTENSION nango;"
	H='"paging_cursor_request_path": "after", "paging_cursor_metadata_response_path": "paging.next.after", "response_path": "results"'
	sync /hubspot/crm/v3/objects/contacts "{\"headers\": {\"authorization\": \"Bearer x-1\"}, \"query_params\": {\"limit\": 3}, $H, \"unique_key\": \"id\"}"
	echo "SELECT nango.run_sync(1);"
	sync /hubspot/crm/v3/objects/contacts/search "{\"method\": \"POST\", \"headers\": {\"authorization\": \"Bearer x-1\"}, \"body\": {\"limit\": 2}, $H}"
	sync /github/odd/stargazers '{"paging_header_link_rel": "next"}'
	sync '/pokeapi-q/pokemon?limit=15' '{"response_path": "results", "paging_url_path": "next", "unique_key": "name"}'
	sync '/pokeapi-loop/pokemon?offset=0&limit=20' '{"response_path": "results", "paging_url_path": "next", "auto_mapping": false}'
	sync '/reddit/r/x/new.json?limit=12' '{"response_path": "data.children", "paging_cursor_object_response_path": "data.name", "paging_cursor_request_path": "after", "unique_key": "data.id"}'
	sync /offset/items '{"response_path": "items", "paging_offset_request_path": "offset", "paging_limit_request_path": "limit", "paging_limit": 10, "unique_key": "id"}'
	sync /pages-ignored/contacts '{"response_path": "contacts", "paging_number_request_path": "page", "auto_mapping": false}'
	for f in 'flaky?id=a&fail=1' 'ratelimit?id=b&after=1' malformed latin1 nul 'big?kb=200&gzip=1' 'redirect?n=6' redirect-ftp 'status?code=404&api_key=abc'; do
		sync "/faults/$f" '{"response_path": "data", "retries": 1, "auto_mapping": false}'
	done
	sync '/faults/slow?delay=3' '{"response_path": "data", "timeout": 1, "retries": 0}'
	for mode in soft hard; do
		s="SELECT nango.add_sync('$M/nango-test/test?rotation=$mode', '{\"response_path\": \"results\", \"unique_key\": \"unique_key\", \"delete_mode\": \"$mode\"}')"
		echo "$s;"
	done
	for r in 1 2 3 4; do echo "SELECT nango.run_sync(id) FROM nango.syncs WHERE url LIKE '%rotation=%';"; done
	sync /incr/items '{"response_path": "items", "unique_key": "id", "incremental_cursor_path": "updated_at", "incremental_request_path": "updated_since", "paging_number_request_path": "page"}'
	echo "SELECT nango.run_sync(id) FROM nango.syncs WHERE url LIKE '%/incr/items';"
	sync '/bulk/contacts?pages=30&per=50' "{\"response_path\": \"results\", \"paging_cursor_metadata_response_path\": \"paging.next.after\", \"paging_cursor_request_path\": \"after\", \"unique_key\": \"id\"}"
	sync '/faults/deep?depth=200000' '{"response_path": "data"}'
	# the next page's request sent early: an API slower than the timeout on
	# page 2, and a job failing on page 2 while page 3's request is pending
	P='"response_path": "data", "paging_cursor_metadata_response_path": "meta.next", "paging_cursor_request_path": "cursor"'
	sync '/prefetch/items?slow=2&delay=1' "{$P, \"timeout\": 0.3, \"retries\": 0, \"auto_mapping\": false}"
	sync '/prefetch/items?rev=1' "{$P, \"unique_key\": \"id\"}"
	echo "DO \$\$ BEGIN EXECUTE format('ALTER TABLE nango._nango_sync_%s ADD CONSTRAINT v_ok CHECK (v <> ''bad'')', (SELECT max(id) FROM nango.syncs)); END \$\$;"
	echo "UPDATE nango.syncs SET url = replace(url, 'rev=1', 'rev=2&bad=2') WHERE id = (SELECT max(id) FROM nango.syncs);"
	echo "SELECT nango.run_sync(max(id)) FROM nango.syncs;"
	# numbers written with an exponent, mapped as numeric, over two runs
	E='"response_path": "data", "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next", "unique_key": "id"'
	sync '/exponent/pages?run=1' "{$E}"
	echo "UPDATE nango.syncs SET url = replace(url, 'run=1', 'run=2') WHERE id = (SELECT max(id) FROM nango.syncs);"
	echo "SELECT nango.run_sync(max(id)) FROM nango.syncs;"
	# 0.3: secrets in a header, credentials withheld from another origin
	echo "SELECT nango.set_secret('vg', 'vg-secret-value-1');"
	sync '/scope/pages?page=1' '{"response_path": "data", "paging_url_path": "next", "headers": {"X-Api-Key": "${secret:vg}"}, "auto_mapping": false}'
	sync '/scope/redirect' '{"response_path": "data", "retries": 0, "headers": {"X-Api-Key": "${secret:vg}"}}'
	# the Pizzly token withheld from another origin (the token's own HTTP handle beside the job's)
	echo "SET nango.pizzly_base_url = '$M/pizzly';"
	for r in 1 2 3; do sync '/scope/pages?page=1' '{"response_path": "data", "paging_url_path": "next", "pizzly_connection_id": "ok", "pizzly_provider_config_key": "github", "auto_mapping": false}'; done
	echo "RESET nango.pizzly_base_url;"
	# previews: every page, and a failing one
	echo "SELECT page, record_count, stop_reason FROM nango.preview('$M/hubspot/crm/v3/objects/contacts', '{\"headers\": {\"authorization\": \"Bearer x-1\"}, \"query_params\": {\"limit\": 3}, $H}', 3);"
	echo "SELECT page, stop_reason FROM nango.preview('$M/faults/status?code=404&api_key=abc', '{\"retries\": 0}');"
	# paths as arrays of steps, mapping options, duplicate keys with warnings
	sync '/graph/v1.0/users?$top=3' '{"response_path": "value", "paging_url_path": ["@odata.nextLink"], "unique_key": ["id"]}'
	sync '/mapping/options' '{"response_path": "data", "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next", "fields": ["id", "labels", "matrix"], "arrays": "jsonb"}'
	sync '/outcome/issues?n=87&users=7' '{"response_path": "items", "unique_key": "user.login", "paging_cursor_request_path": "cursor", "paging_cursor_metadata_response_path": "next"}'
	# child syncs: chains in flight together (answers out of order, pages
	# waiting for their parent's turn), a parent answering 404, and a job
	# failing while other chains' requests are in flight
	sync '/children/conc/parents?n=10' '{"friendly_name": "vgp", "unique_key": "id", "auto_mapping": false}'
	for q in 'run=vg1' 'run=vg2&gone=4' 'run=vg3&fail=6'; do
		sync "/children/conc/items/\${parent.id}?n=10&$q" '{"parent": {"sync": "vgp"}, "unique_key": "n", "paging_header_link_rel": "next", "concurrency": 8, "retries": 0, "query_params": {"pages": "${parent.pages}"}}'
	done
	# names
	echo "SELECT nango.put_sync('vg', '$M/simple/items', '{\"response_path\": \"data\"}');"
	echo "SELECT nango.run_sync('vg');"
	echo "SELECT status, count(*) FROM nango.jobs GROUP BY 1 ORDER BY 1;"
} >"$VG/run.sql"
cp "$top/test/valgrind.supp" "$VG/valgrind.supp"
chmod 644 "$VG/run.sql" "$VG/valgrind.supp"

"${RUNAS[@]}" valgrind --suppressions="$VG/valgrind.supp" --main-stacksize=67108864 --track-origins=yes --leak-check=full --show-leak-kinds=definite,indirect \
	--num-callers=40 --log-file="$VG/valgrind.log" \
	"$BIN/postgres" --single -D "$VG/data" postgres <"$VG/run.sql" >"$VG/postgres.out" 2>&1 || true

grep -A2 'status = ' "$VG/postgres.out" | grep -E 'status|count' | paste - - | sed 's/\t/ /' || true
grep -E "ERROR SUMMARY|definitely lost:|indirectly lost:|possibly lost:" "$VG/valgrind.log"
# a report is nango's when its stack has nango.so or a frame resolved to
# one of nango's source files (src/*.c, src/*/*.c)
srcs=$(cd "$top/src" && ls *.c */*.c | sed 's|.*/||; s/\.c$//' | paste -sd'|')
n=$(awk -v re="nango\\.so|\\((${srcs})\\.c:[0-9]+\\)" '/^==[0-9]+== [A-Z0-9]/{blk=""} {blk=blk"\n"$0} /^==[0-9]+== $/{if (blk ~ re) c++; blk=""} END{print c+0}' "$VG/valgrind.log")
echo "valgrind reports whose stack mentions nango: $n (log: $VG/valgrind.log)"
[ "$n" -eq 0 ]
