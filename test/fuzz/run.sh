#!/usr/bin/env bash
# Builds nango's libFuzzer targets (clang -fsanitize=fuzzer,address) and runs
# each for N seconds (default 60): test/fuzz/run.sh [seconds] [target ...]
# Corpora live in test/fuzz/corpus/<target> (seeds are committed; what the
# fuzzer adds stays in the build directory).  A finding leaves a crash-*
# file in test/fuzz/build and makes the script exit non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-60}
shift || true
CC=${FUZZ_CC:-$(command -v clang-14 || command -v clang)}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
inc=$($PG_CONFIG --includedir-server)
libdir=$($PG_CONFIG --pkglibdir)
build=$here/build
mkdir -p "$build"
INCS=$(for d in common api engine net store worker; do printf -- "-I%s/src/%s " "$top" "$d"; done)
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $INCS-I$here -I$inc -Wall -Wno-unused-parameter -Wno-missing-prototypes -Wno-ignored-attributes -DNANGO_VERSION=\"$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$top/nango.control")\""
LIBS="$libdir/libpgcommon.a $libdir/libpgport.a -lcjson -lcurl -lm"

# target name -> nango sources it fuzzes
declare -A SRCS=(
	[link]="src/engine/paging.c"
	[redact]="src/common/redact.c src/common/redacttext.c"
	[pizzly]="src/net/pizzly.c src/common/text.c"
	[credscope]="src/net/credscope.c"
	[placeholder]="src/net/placeholder.c src/common/redact.c src/common/redacttext.c src/common/text.c test/fuzz/escape.c"
)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(link redact pizzly credscope placeholder records flatten)

# records, flatten: the jsonb parsers, fuzzed inside a single-user backend
# (see backend_fuzz.c).  Coverage-guided; not under ASan (the server is not).
run_backend() {
	local t=$1 rt work runas=()
	rt=$(dirname "$($CC -print-file-name=libclang_rt.fuzzer_no_main-x86_64.a)")
	[ -f "$rt/libclang_rt.fuzzer_no_main-x86_64.a" ] || rt=$(ls -d /usr/lib/llvm-*/lib/clang/*/lib/linux | tail -1)
	echo "== building the backend fuzz library ($t)"
	$CC -g -O1 -fPIC -shared -fsanitize=fuzzer-no-link -Wno-ignored-attributes $INCS -I"$inc" \
		-o "$build/nango_fuzz.so" "$here/backend_fuzz.c" "$top/src/common/jsonpath.c" "$top/src/store/flatten.c" "$top/src/store/flatnames.c" "$top/src/store/flattypes.c" \
		"$top/src/store/flatsql.c" "$top/src/store/isodate.c" "$top/src/engine/jsonparse.c" \
		-Wl,--whole-archive "$rt/libclang_rt.fuzzer_no_main-x86_64.a" -Wl,--no-whole-archive -lstdc++
	work=$(mktemp -d /tmp/nango-fuzz.XXXXXX)
	chmod 755 "$work"
	cp "$build/nango_fuzz.so" "$here/json.dict" "$work/"
	mkdir -p "$work/corpus" "$work/artifacts"
	cp "$here/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
	[ -d "$build/corpus_$t" ] && cp "$build/corpus_$t/"* "$work/corpus/" 2>/dev/null || true
	if [ "$(id -u)" = 0 ]; then chown -R postgres "$work"; runas=(runuser -u postgres --); fi
	"${runas[@]}" "$($PG_CONFIG --bindir)/initdb" -D "$work/data" -A trust --no-sync >/dev/null
	echo "== running $t for ${secs}s"
	echo "CREATE FUNCTION nango_fuzz(text, int, text, text, text) RETURNS void AS '$work/nango_fuzz.so' LANGUAGE C STRICT;
SELECT nango_fuzz('$t', $secs, '$work/corpus', '$work/json.dict', '$work/artifacts');" |
		"${runas[@]}" "$($PG_CONFIG --bindir)/postgres" --single -D "$work/data" postgres >"$build/fuzz_$t.log" 2>&1 || true
	mkdir -p "$build/corpus_$t"
	cp "$work/corpus/"* "$build/corpus_$t/" 2>/dev/null || true
	if ls "$work/artifacts/"* >/dev/null 2>&1 || ! grep -q "^Done [0-9]* runs" "$build/fuzz_$t.log"; then
		cp "$work/artifacts/"* "$build/" 2>/dev/null || true
		echo "!! $t found a problem: see $build/fuzz_$t.log"; tail -30 "$build/fuzz_$t.log"
		status=1
	else
		grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$build/fuzz_$t.log" | sed "s/^/   $t /"
	fi
	rm -rf "$work"
}

status=0
for t in "${targets[@]}"; do
	case $t in records|flatten|parse) run_backend "$t"; continue ;; esac
	srcs=""
	for s in ${SRCS[$t]}; do srcs="$srcs $top/$s"; done
	echo "== building fuzz_$t"
	$CC $CFLAGS -o "$build/fuzz_$t" "$here/fuzz_$t.c" "$here/unreachable_$t.c" "$here/shim.c" $srcs $LIBS
	mkdir -p "$build/corpus_$t"
	seeds=()
	[ -d "$here/corpus/$t" ] && seeds=("$here/corpus/$t")
	echo "== running fuzz_$t for ${secs}s"
	if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1 ./fuzz_$t -max_total_time="$secs" -max_len=4096 \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "corpus_$t" "${seeds[@]}" \
			>"$build/fuzz_$t.log" 2>&1); then
		echo "!! fuzz_$t found a problem: see $build/fuzz_$t.log"; tail -30 "$build/fuzz_$t.log"
		status=1
	else
		grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$build/fuzz_$t.log" | sed "s/^/   fuzz_$t /"
	fi
done
exit $status
