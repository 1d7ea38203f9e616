#!/usr/bin/env bash
# Benchmark: S3 upload throughput of s3sink against botocore (Debian's
# python3-botocore, multipart with the same part size, as `aws s3 cp`
# does), both to s3rver on loopback; then the reference job rendered to a
# local file against the same job rendered to s3:// (goal: <= 5% slower).
#
#   meson devenv -C build -w . bench/s3.sh [SIZE_MB]
#
# Needs s3rver on PATH (.ci/install-deps). Sends nothing beyond 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${REELFORGE_SHARED:-$here/../../shared}
size_mb=${1:-200}
work=$(mktemp -d)
s3pid=""
cleanup() { [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
command -v s3rver >/dev/null || { echo "s3rver not found: run .ci/install-deps" >&2; exit 2; }
command -v reelforge >/dev/null || { echo "run inside 'meson devenv -C build -w .'" >&2; exit 2; }

mkdir -p "$work/s3"
s3rver -d "$work/s3" -a 127.0.0.1 -p 0 --configure-bucket bench >"$work/s3rver.log" 2>&1 &
s3pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/s3rver.log" 2>/dev/null && break
  sleep 0.1
done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/s3rver.log" | cut -d: -f2)
[ -n "$port" ] || { echo "s3rver did not start: $(cat "$work/s3rver.log")" >&2; exit 2; }
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
export AWS_REGION=us-east-1

head -c "$((size_mb * 1000000))" /dev/urandom >"$work/data.bin"
# wall seconds of "$@"; a render whose QC fails still counts (exit 1)
seconds() {
  /usr/bin/time -q -f "%e" -o "$work/t" "$@" >"$work/cmd.log" 2>&1 || [ $? -eq 1 ] ||
    { cat "$work/cmd.log" >&2; exit 2; }
  cat "$work/t"
}

gst_s=$(seconds gst-launch-1.0 -q filesrc location="$work/data.bin" blocksize=1048576 \
  ! s3sink uri=s3://bench/gst.bin part-size=8388608)
boto_s=$(seconds /usr/bin/python3 - "$work/data.bin" <<'PY'
import sys, botocore.session, botocore.config, os
c = botocore.session.get_session().create_client(
    "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1",
    config=botocore.config.Config(s3={"addressing_style": "path"}))
up = c.create_multipart_upload(Bucket="bench", Key="boto.bin")["UploadId"]
parts = []
with open(sys.argv[1], "rb") as f:
    n = 1
    while chunk := f.read(8 << 20):
        r = c.upload_part(Bucket="bench", Key="boto.bin", UploadId=up, PartNumber=n, Body=chunk)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
        n += 1
c.complete_multipart_upload(Bucket="bench", Key="boto.bin", UploadId=up,
                            MultipartUpload={"Parts": parts})
PY
)
mbps() { awk -v mb="$size_mb" -v s="$1" 'BEGIN { printf "%.0f", mb / s }'; }
echo "upload of $size_mb MB to s3rver on loopback, 8 MiB parts, $(nproc) cores"
printf '%-40s %8s %8s\n' "" "wall s" "MB/s"
printf '%-40s %8s %8s\n' "s3sink (2 parts in flight)" "$gst_s" "$(mbps "$gst_s")"
printf '%-40s %8s %8s\n' "botocore multipart (sequential)" "$boto_s" "$(mbps "$boto_s")"

# Render: local file against s3:// output, same job.
inputs=$here/inputs
if [ ! -f "$inputs/clip4.mp4" ]; then
  echo "making the reference inputs in $inputs ..." >&2
  mkdir -p "$inputs"
  (cd "$inputs" && bash "$shared/bench/make_inputs.sh")
fi
/usr/bin/python3 - "$here/reference-job.json" "$work/s3-job.json" "$inputs" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
def absolute(node):  # the copy lives elsewhere: inputs/... paths become absolute
    if isinstance(node, dict):
        return {k: absolute(v) for k, v in node.items()}
    if isinstance(node, list):
        return [absolute(v) for v in node]
    if isinstance(node, str) and node.startswith("inputs/"):
        return sys.argv[3] + node[len("inputs"):]
    return node
job = absolute(job)
# The reference's fourth clip holds a second of black, which the house
# level fails; QC must pass for the upload to complete, so that scene
# plays the first clip again.
job["scenes"][3]["source"]["uri"] = job["scenes"][0]["source"]["uri"]
job.setdefault("output", {}).pop("directory", None)
job["output"]["uri_prefix"] = "s3://bench/render/"
json.dump(job, open(sys.argv[2], "w"))
PY
# -o renders the same job to local files.
local_s=$(seconds reelforge render "$work/s3-job.json" -o "$work/local" --progress=none)
local_status=$(grep -o 'QC [a-z]*' "$work/cmd.log" | head -1)
s3_s=$(seconds reelforge render "$work/s3-job.json" --progress=none)
s3_status=$(grep -o 'QC [a-z]*' "$work/cmd.log" | head -1)
echo
echo "reference job render"
printf '%-40s %8s  %s\n' "to a local file" "$local_s" "$local_status"
printf '%-40s %8s  %s\n' "to s3:// (s3sink in the pipeline)" "$s3_s" "$s3_status"
awk -v a="$s3_s" -v b="$local_s" 'BEGIN { printf "s3:// vs local: %+.1f%%  (goal <= +5%%)\n", (a / b - 1) * 100 }'
if [ "$s3_status" = "QC fail" ]; then
  echo "note: QC failed, so the s3:// render stopped at the verdict: no final mux, no upload;"
  echo "      the comparison then flatters s3://. Use a job that passes QC for the real figure."
fi
