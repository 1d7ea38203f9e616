#!/usr/bin/env bash
# Fails listing the C++ files that clang-format would change.
set -euo pipefail
clang_format=$1
root=$2
cd "$root"
mapfile -t files < <(git ls-files '*.cpp' '*.h' 2>/dev/null || find plugins orchestrator tests -name '*.cpp' -o -name '*.h')
# One clang-format run for the whole tree (one process per file takes longer
# than the test's timeout on a busy machine); per file only to name culprits.
if "$clang_format" --dry-run --Werror "${files[@]}" >/dev/null 2>&1; then
  echo "${#files[@]} files clang-formatted"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "not clang-formatted (run: clang-format -i FILE):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "${#files[@]} files clang-formatted"
