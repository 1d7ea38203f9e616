#!/usr/bin/env bash
# Benchmark: what the reelqc analysers cost over decoding, against what
# ffmpeg's detectors cost over its own decoding, on the same 1080x1920 input.
#
#   meson devenv -C build -w . bench/qc.sh [SECONDS]
#
# Makes its input in bench/inputs/ with ../shared/bench/make_inputs.sh
# (clip2.mp4: 1080x1920 @ 30 fps H.264 + AAC), looped to SECONDS (default
# 60) without re-encoding. Each command runs RUNS times (default 3); the
# median wall time and peak RSS are reported, and the overheads as ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${REELFORGE_SHARED:-$here/../../shared}
seconds=${1:-60}
runs=${RUNS:-3}
inputs=$here/inputs
mkdir -p "$inputs"

if [ ! -f "$inputs/clip2.mp4" ]; then
  echo "making the reference inputs in $inputs ..." >&2
  (cd "$inputs" && bash "$shared/bench/make_inputs.sh")
fi
input=$inputs/qc-${seconds}s.mp4
if [ ! -f "$input" ]; then
  ffmpeg -hide_banner -loglevel error -y -stream_loop -1 -i "$inputs/clip2.mp4" -t "$seconds" \
    -c copy -movflags +faststart "$input"
fi
uri=file://$input

command -v gst-inspect-1.0 >/dev/null && gst-inspect-1.0 qcprobe >/dev/null 2>&1 || {
  echo "qcprobe not found: run inside 'meson devenv -C build -w .'" >&2; exit 2; }

# median wall seconds and peak RSS (MiB) of RUNS runs of "$@"
measure() {
  local walls=() rss=() out stats
  stats=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$stats" -f '%e %M' "$@" >/dev/null 2>&1
    out=$(tail -n 1 "$stats")
    walls+=("${out% *}"); rss+=("${out#* }")
  done
  rm -f "$stats"
  local wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  local peak=$(printf '%s\n' "${rss[@]}" | sort -n | tail -n 1)
  echo "$wall $((peak / 1024))"
}

decode_branches="decode. ! video/x-raw ! queue ! videoconvert ! fakesink sync=false \
  decode. ! audio/x-raw ! queue ! audioconvert ! fakesink sync=false"
qc_branches="qcprobe name=qc profile=tiktok \
  decode. ! video/x-raw ! queue ! videoconvert ! qc.video_sink qc.video_src ! fakesink sync=false \
  decode. ! audio/x-raw ! queue ! audioconvert ! qc.audio_sink qc.audio_src ! fakesink sync=false"

read -r gst_dec gst_dec_rss < <(measure gst-launch-1.0 -q uridecodebin3 uri="$uri" name=decode $decode_branches)
read -r gst_qc gst_qc_rss < <(measure gst-launch-1.0 -q uridecodebin3 uri="$uri" name=decode $qc_branches)
read -r ff_dec ff_dec_rss < <(measure ffmpeg -hide_banner -nostats -i "$input" -f null -)
read -r ff_qc ff_qc_rss < <(measure ffmpeg -hide_banner -nostats -i "$input" \
  -vf blackdetect=d=0.5,freezedetect=d=3 -af ebur128=peak=true,silencedetect=d=2 -f null -)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
overhead() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (a / b - 1) * 100 }'; }

echo "input: $input (${seconds} s, 1080x1920 @ 30 fps), median of $runs runs, $(nproc) cores"
printf '%-40s %8s %9s\n' "" "wall s" "peak MiB"
printf '%-40s %8s %9s\n' "GStreamer decode only" "$gst_dec" "$gst_dec_rss"
printf '%-40s %8s %9s\n' "GStreamer decode + reelqc (qcprobe)" "$gst_qc" "$gst_qc_rss"
printf '%-40s %8s %9s\n' "ffmpeg decode only" "$ff_dec" "$ff_dec_rss"
printf '%-40s %8s %9s\n' "ffmpeg decode + 4 detectors" "$ff_qc" "$ff_qc_rss"
echo
echo "reelqc overhead over GStreamer decode:   $(overhead "$gst_qc" "$gst_dec")  (goal <= +5%)"
echo "ffmpeg detectors over ffmpeg decode:     $(overhead "$ff_qc" "$ff_dec")"
echo "GStreamer+reelqc vs ffmpeg+detectors:    $(ratio "$gst_qc" "$ff_qc")x wall"
