#!/usr/bin/env bash
# Benchmark: a pure hard-cut concatenation (four 10 s 1080x1920 H.264 + AAC
# clips made with the same encoder settings, clip audio kept as it is),
# which `reelforge render` stream-copies, against the same job rendered the
# normal way (decode, stitch, encode; forced by giving a loudness target).
#
#   meson devenv -C build -w . bench/concat-copy.sh
#
# Prints wall times: the copy pipeline alone (what `reelforge plan` prints,
# under gst-launch-1.0), the whole copy render (the copy, then one decode
# for QC and thumbnails), the re-encoding render, and the speed-ups.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
inputs=$here/inputs/concat
results=$here/results/concat
mkdir -p "$inputs" "$results"
command -v reelforge >/dev/null || { echo "run inside 'meson devenv -C build -w .'" >&2; exit 2; }

sources=("mandelbrot=size=1080x1920:rate=30" "testsrc2=size=1080x1920:rate=30"
         "smptehdbars=size=1080x1920:rate=30" "life=size=1080x1920:rate=30:mold=10:ratio=0.5")
for i in 0 1 2 3; do
  [ -f "$inputs/clip$i.mp4" ] && continue
  echo "making $inputs/clip$i.mp4 ..." >&2
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "${sources[$i]}" -t 10 \
    -f lavfi -i "sine=frequency=$((220 * (i + 1))):sample_rate=48000:duration=10" \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 60 -c:a aac -ac 2 -shortest "$inputs/clip$i.mp4"
done

job() {  # $1 name, $2 extra audio members
  local spec=$results/$1.json
  {
    printf '{"name": "%s", "platforms": ["tiktok"], "scenes": [' "$1"
    for i in 0 1 2 3; do
      [ "$i" -gt 0 ] && printf ', '
      printf '{"source": {"uri": "%s"}}' "$inputs/clip$i.mp4"
    done
    printf '], "audio": {"keep_clip_audio": {"volume": 1}%s}, "output": {"thumbnails": 1}}\n' "$2"
  } >"$spec"
  echo "$spec"
}
copy_job=$(job copied "")
encode_job=$(job encoded ', "loudness": {"target_lufs": -14}')

wall() {  # wall seconds of "$@"
  local stats; stats=$(mktemp)
  /usr/bin/time -o "$stats" -f "%e" "$@" >/dev/null 2>&1 || true
  tail -n 1 "$stats"; rm -f "$stats"
}

reelforge plan "$copy_job" -o "$results" | grep -q "stream copy" ||
  { echo "the copy job was not planned as a stream copy" >&2; exit 1; }
launch=$(reelforge plan "$copy_job" -o "$results" | grep '^gst-launch-1.0')
copy_pipeline=$(wall sh -c "$launch")
copy_render=$(wall reelforge render "$copy_job" -o "$results" --progress=none)
encode_render=$(wall reelforge render "$encode_job" -o "$results" --progress=none)

awk -v cp="$copy_pipeline" -v cr="$copy_render" -v er="$encode_render" 'BEGIN {
  printf "copy pipeline alone     %6.2f s\n", cp
  printf "copy render (with QC)   %6.2f s\n", cr
  printf "re-encoding render      %6.2f s\n", er
  printf "speed-up, copy alone    %6.1fx (goal >= 20x)\n", er / cp
  printf "speed-up, render + QC   %6.1fx\n", er / cr
}'
