#!/usr/bin/env bash
# perf profile of nango's run_sync on one workload: PROFILE_WORKLOAD=W1 (the
# default), W2 (a re-sync of unchanged data) or W3, with RECORDS as for
# bench/run_bench.sh.  KEEP=1 keeps perf.data for `perf report -i`.
ONLY=profile exec bash "$(dirname "$0")/run_bench.sh" "$@"
