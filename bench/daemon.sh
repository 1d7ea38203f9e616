#!/usr/bin/env bash
# Benchmark of the daemon's scheduler on a local PostgreSQL (a private
# cluster in a temporary folder): step transitions per second and claim
# latency, with fsync off and on; then 100 kill -9 trials of real daemons
# (the test's invariants), when asked.
#
#   bench/daemon.sh [build-dir]            # scheduler figures
#   KILL_TRIALS=100 bench/daemon.sh        # and the SIGKILL trials
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
meson compile -C "$build" daemon-bench test-daemon >/dev/null
bench=$build/tests/orchestrator/daemon/daemon-bench
for workers in 1 2 4; do
  "$bench" --steps 5000 --workers "$workers"
done
"$bench" --steps 3000 --workers 2 --durable
if [ -n "${KILL_TRIALS:-}" ]; then
  # The crash test, repeated: each run is 20 SIGKILLs with invariants.
  runs=$(( (KILL_TRIALS + 19) / 20 ))
  echo "SIGKILL trials: $runs x 20"
  (cd "$build" && meson test --no-rebuild daemon --repeat "$runs" \
     --test-args='--gtest_filter=*Sigkill*' | tail -n 6)
fi
