#!/usr/bin/env bash
# Makes a sample vertical ad (8 s, 1080x1920, H.264 + AAC, moov first) with
# GStreamer and checks it for TikTok with `reelforge qc`. Run it from the
# repository root inside `meson devenv -C build -w .` (README, first command).
set -euo pipefail
out=${1:-sample}
mkdir -p "$out"

gst-launch-1.0 -q -e \
  videotestsrc num-buffers=240 pattern=smpte horizontal-speed=6 \
    ! video/x-raw,width=1080,height=1920,framerate=30/1 \
    ! x264enc speed-preset=veryfast tune=zerolatency bitrate=4000 \
    ! video/x-h264,profile=high ! h264parse ! queue ! mux. \
  audiotestsrc num-buffers=375 samplesperbuffer=1024 freq=440 volume=0.2 \
    ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac bitrate=128000 \
    ! aacparse ! queue ! mux. \
  mp4mux name=mux faststart=true ! filesink location="$out/ad.mp4"

echo "Made $out/ad.mp4; checking it for TikTok:"
reelforge qc "$out/ad.mp4" --profile tiktok --json "$out/ad.qc.json"
echo "Report: $out/ad.qc.json"
