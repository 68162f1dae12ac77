#!/usr/bin/env bash
# The memory probe alone: peak memory of the backend running nango.run_sync
# for a 2,000-page and a 20,000-page sync, and of the job worker running a
# 20,000-page job with checkpoints (every second, delete_mode hard) (see
# bench/run_bench.sh).
ONLY=memory exec bash "$(dirname "$0")/run_bench.sh" "$@"
