#!/usr/bin/env bash
# Makes the media examples/quickstart.json uses, offline, into examples/media/:
#
#   bg-sunset.png, bg-silk.png, bg-bokeh.png  1080x1920 ad backgrounds (ffmpeg lavfi)
#   music.wav                                 25 s, 48 kHz stereo music bed (ffmpeg aevalsrc)
#
# The voiceover is no file: quickstart.json gives its text, and ttssrc speaks
# it with espeak-ng while rendering.
#
# Needs ffmpeg, no fonts and no network. Idempotent: every run
# writes the same files again (each to a temporary name first, then renamed).
# Run it from anywhere:  examples/make-media.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
media="$here/media"
mkdir -p "$media"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for tool in ffmpeg; do
  command -v "$tool" >/dev/null || { echo "make-media.sh: $tool is not installed" >&2; exit 1; }
done

ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

# Writes $1 from ffmpeg arguments $2..., through a temporary file, and says so.
make() {
  local out=$1
  shift
  local part="$tmp/$(basename "$out")"
  ff "$@" -bitexact "$part"
  mv -f "$part" "$out"
  echo "made ${out#"$here"/}"
}

# --- Backgrounds ------------------------------------------------------------

# A violet-to-pink diagonal gradient with a soft vignette.
make "$media/bg-sunset.png" \
  -f lavfi -i "gradients=s=1080x1920:n=3:c0=0x1e1b4b:c1=0x7c3aed:c2=0xf472b6:x0=0:y0=0:x1=1080:y1=1920:seed=1" \
  -frames:v 1 -vf "vignette=PI/5,format=rgb24"

# A blurred Mandelbrot spiral, in grey, soft-lit onto a teal-to-indigo gradient: flowing silk.
make "$media/bg-silk.png" \
  -f lavfi -i "mandelbrot=s=540x960:maxiter=800:start_scale=0.003" \
  -f lavfi -i "gradients=s=1080x1920:n=2:c0=0x0f766e:c1=0x1e1b4b:x0=0:y0=1920:x1=1080:y1=0:seed=2" \
  -frames:v 1 -filter_complex "[0]scale=1080:1920:flags=bicubic,format=gray,gblur=sigma=14,format=gbrp,eq=contrast=0.7:brightness=-0.05[m];[1]format=gbrp[g];[g][m]blend=all_mode=softlight,vignette=PI/4,format=rgb24"

# Game-of-life cells, enlarged and blurred into warm bokeh lights on night blue.
make "$media/bg-bokeh.png" \
  -f lavfi -i "life=s=108x192:seed=7:ratio=0.08:mold=0:life_color=0xffd59a:death_color=0x0b1026:mold_color=0x0b1026,trim=start_frame=30" \
  -frames:v 1 -vf "scale=1080:1920:flags=neighbor,gblur=sigma=22,curves=all='0/0 0.35/0.75 1/1',eq=saturation=1.4,vignette=PI/4,format=rgb24"

# --- Music bed ----------------------------------------------------------------

# I-V-vi-IV in C (C, G/B, Am, F/C), one chord per 2 s bar at 120 bpm, 25 s:
# a soft triangle-ish pad, a plucked bass on the beats, a bell arpeggio in
# eighths, a gentle kick on the beats and a faint shaker on the off-beats.
# ld(0) chord, ld(1) time in the bar, ld(2) in the beat, ld(3) in the eighth.
pad_note() { # frequency expression -> pad voice
  echo "(sin(2*PI*($1)*t)-sin(6*PI*($1)*t)/9+0.3*sin(4*PI*($1)*t+1))"
}
chord() { # four frequencies, one per chord, -> expression picking the current one
  echo "if(eq(ld(0),0),$1,if(eq(ld(0),1),$2,if(eq(ld(0),2),$3,$4)))"
}
n1=$(chord 261.63 246.94 261.63 261.63)
n2=$(chord 329.63 293.66 329.63 349.23)
n3=$(chord 392.00 392.00 440.00 440.00)
bass=$(chord 65.41 61.74 55.00 43.65)
arp="if(eq(mod(floor(t*4),4),0),2*$n1,if(eq(mod(floor(t*4),4),1),2*$n2,if(eq(mod(floor(t*4),4),2),2*$n3,2*$n2)))"
expr="st(0,mod(floor(t/2),4));st(1,mod(t,2));st(2,mod(t,0.5));st(3,mod(t,0.25));"
expr+="0.075*min(1,ld(1)/0.35)*min(1,(2-ld(1))/0.3)*(0.8+0.2*exp(-5*ld(2)))*($(pad_note "$n1")+$(pad_note "$n2")+$(pad_note "$n3"))"
expr+="+0.30*(1-exp(-300*ld(2)))*exp(-3.5*ld(2))*min(1,(0.5-ld(2))/0.04)*(sin(2*PI*$bass*t)+0.35*sin(4*PI*$bass*t))"
expr+="+0.07*(1-exp(-400*ld(3)))*exp(-9*ld(3))*min(1,(0.25-ld(3))/0.02)*sin(2*PI*$arp*t)"
expr+="+0.22*exp(-14*ld(2))*sin(2*PI*(48*ld(2)+90*(1-exp(-30*ld(2)))/30))"
expr+="+0.025*(random(4)*2-1)*exp(-45*mod(t+0.25,0.5))"
printf 'aevalsrc=exprs=%s:s=48000:d=25,aformat=sample_fmts=flt:channel_layouts=mono,asplit[a][b];' "'$expr'" >"$tmp/music.graph"
printf '%s' "[a]aecho=0.8:0.6:170|340:0.25|0.12[l];[b]adelay=11,aecho=0.8:0.6:230|460:0.22|0.1[r];" >>"$tmp/music.graph"
printf '%s' "[l][r]join=inputs=2:channel_layout=stereo,highpass=f=30,lowpass=f=9000,afade=t=in:d=1.5,afade=t=out:st=22:d=3,volume=1.5,atrim=0:25" >>"$tmp/music.graph"
make "$media/music.wav" -filter_complex_script "$tmp/music.graph" -ar 48000 -ac 2 -c:a pcm_s16le

