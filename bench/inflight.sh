#!/usr/bin/env bash
# Resident memory of one `reelforge serve` with 1000 provider jobs in flight
# (a stand-in Replicate whose predictions never finish, a private
# PostgreSQL in a temporary folder). Goal: < 200 MB.
#
#   bench/inflight.sh [build-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
meson compile -C "$build" inflight-bench reelforge >/dev/null
export GST_PLUGIN_PATH=$build/plugins/gen:$build/plugins/reeledit:$build/plugins/reelqc:$build/plugins/s3
"$build/tests/orchestrator/daemon/inflight-bench" "$build/orchestrator/reelforge" \
  --jobs 50 --scenes 20 --workers 2 --hold 30
