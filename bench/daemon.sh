#!/usr/bin/env bash
# Benchmark of the daemon's scheduler on a local PostgreSQL (a private
# cluster in a temporary folder): step transitions per second and claim
# latency, with fsync off and on; then, when asked, kill -9 trials of real
# daemons with the tests' invariants: at random points of card renders,
# and in the provider windows (after the intent, after the POST, during
# the render and the upload) of generated jobs.
#
#   bench/daemon.sh [build-dir]            # scheduler figures
#   KILL_TRIALS=100 bench/daemon.sh        # and 100 trials of each kind
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
meson compile -C "$build" daemon-bench test-daemon test-daemon-generate >/dev/null
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
  # Each run is 8 kills in the provider windows.
  runs=$(( (KILL_TRIALS + 7) / 8 ))
  echo "Provider-window SIGKILL trials: $runs x 8"
  (cd "$build" && meson test --no-rebuild daemon-generate --repeat "$runs" \
     --test-args='--gtest_filter=*Kills*' | tail -n 6)
fi
