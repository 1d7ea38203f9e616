#!/usr/bin/env bash
# Benchmark: the reference job of ../shared/bench/README.md through
# `reelforge render`, beside ffmpeg's single pass and the seeds' multi-pass
# way, in one run on the same inputs; then RSS of a 40-clip job against the
# 4-clip one.
#
#   meson devenv -C build -w . bench/render.sh
#
# Prints wall time and peak RSS of each, and the ratios against the goals.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${REELFORGE_SHARED:-$here/../../shared}
inputs=$here/inputs
results=$here/results
mkdir -p "$inputs" "$results"
if [ ! -f "$inputs/clip4.mp4" ]; then
  echo "making the reference inputs in $inputs ..." >&2
  (cd "$inputs" && bash "$shared/bench/make_inputs.sh")
fi
command -v reelforge >/dev/null || { echo "run inside 'meson devenv -C build -w .'" >&2; exit 2; }

# wall seconds and peak RSS in MiB of "$@", run in $inputs
measure() {
  local stats; stats=$(mktemp)
  (cd "$inputs" && /usr/bin/time -o "$stats" -f "%e %M" "$@" >/dev/null 2>&1) || true  # QC may fail; time still counts
  local out; out=$(tail -n 1 "$stats"); rm -f "$stats"
  echo "${out% *} $(( ${out#* } / 1024 ))"
}

read -r rf_wall rf_rss < <(measure reelforge render "$here/reference-job.json" -o "$results" --progress=none)
read -r ff1_wall ff1_rss < <(measure bash "$shared/bench/ffmpeg_single_pass.sh")
read -r ffm_wall ffm_rss < <(measure bash "$shared/bench/ffmpeg_multi_pass.sh")

# The same four clips ten times over, 6 s each as in the reference job:
# memory must not grow with the number of clips, since only the clips
# around the playhead decode.
many=$results/forty-clips.json
{
  printf '{"name": "forty", "platforms": ["tiktok"], "scenes": ['
  for i in $(seq 0 39); do
    [ "$i" -gt 0 ] && printf ','
    printf '{"source": {"uri": "%s/clip%d.mp4"}, "duration": 6}' "$inputs" $(( i % 4 + 1 ))
  done
  printf '], "transition": {"type": "crossfade", "duration": 0.5},'
  printf ' "output": {"directory": "%s", "video": {"preset": "veryfast", "crf": 23}}}\n' "$results"
}> "$many"
read -r many_wall many_rss < <(measure reelforge render "$many" --progress=none)
read -r four_wall four_rss < <(measure reelforge render "$here/reference-job.json" -o "$results" --progress=none)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "reference job (4 clips -> 1080x1920@30, 22.5 s), $(nproc) cores"
printf '%-34s %8s %9s\n' "" "wall s" "peak MiB"
printf '%-34s %8s %9s\n' "reelforge render" "$rf_wall" "$rf_rss"
printf '%-34s %8s %9s\n' "ffmpeg single pass" "$ff1_wall" "$ff1_rss"
printf '%-34s %8s %9s\n' "ffmpeg multi-pass (seeds)" "$ffm_wall" "$ffm_rss"
printf '%-34s %8s %9s\n' "reelforge render, 40 clips" "$many_wall" "$many_rss"
echo
echo "wall vs ffmpeg single pass:  $(ratio "$rf_wall" "$ff1_wall")x  (goal <= 0.8x)"
echo "wall vs multi-pass:          $(ratio "$rf_wall" "$ffm_wall")x  (goal <= 0.5x)"
echo "peak RSS:                    ${rf_rss} MiB  (goal <= 400 MB; ffmpeg single pass ${ff1_rss} MiB)"
echo "RSS 40 clips / 4 clips:      $(ratio "$many_rss" "$four_rss")x  (goal <= 1.1x)"
