/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small helpers the s3 tests share: element properties for the fixture's
 * s3rver, a byte-hashing pad probe, and looking at the bucket with the
 * project's S3 client and with botocore.
 */
#pragma once

#include "s3-client.h"
#include "s3-server.h"
#include "test-environment.h"

#include <glib.h>
#include <gst/gst.h>

#include <memory>
#include <string>

namespace reelforge::test {

inline constexpr const char *kBucket = "reelforge-test";

/* endpoint=... access-key-id=... secret-access-key=... for s3sink/s3src. */
inline std::string s3_props(const S3Server &server) {
  return "endpoint=" + server.endpoint() + " access-key-id=" + S3Server::kAccessKey +
         " secret-access-key=" + S3Server::kSecretKey;
}

inline s3::S3Target s3_target(const S3Server &server, const std::string &bucket = kBucket) {
  s3::S3Target t;
  t.bucket = bucket;
  t.endpoint = server.endpoint();
  t.region = "us-east-1";
  t.credentials = {S3Server::kAccessKey, S3Server::kSecretKey, ""};
  return t;
}

/* HEAD of bucket/key: status 200 with its size, or 404. */
inline s3::S3Response s3_head(const S3Server &server, const std::string &key) {
  s3::S3Client client(s3_target(server), s3::RetryPolicy{});
  s3::S3Request request;
  request.method = "HEAD";
  request.key = key;
  request.what = "HEAD";
  return client.send(request);
}

/* Hashes every buffer that crosses a pad. */
class PadHasher {
 public:
  explicit PadHasher(GstPad *pad) : sum_(g_checksum_new(G_CHECKSUM_SHA256)) {
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, this, nullptr);
  }
  ~PadHasher() { g_checksum_free(sum_); }
  std::string hex() { return g_checksum_get_string(sum_); }
  guint64 bytes() const { return bytes_; }

 private:
  static GstPadProbeReturn on_buffer(GstPad *, GstPadProbeInfo *info, gpointer data) {
    auto *self = static_cast<PadHasher *>(data);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      g_checksum_update(self->sum_, map.data, static_cast<gssize>(map.size));
      self->bytes_ += map.size;
      gst_buffer_unmap(buffer, &map);
    }
    return GST_PAD_PROBE_OK;
  }
  GChecksum *sum_;
  guint64 bytes_ = 0;
};

/* The sha256 of bucket/key as botocore (Debian's python3-botocore) reads it. */
inline std::string botocore_sha256(const S3Server &server, const std::string &key) {
  const std::string script =
      "import botocore.session, botocore.config, hashlib, sys\n"
      "c = botocore.session.get_session().create_client('s3', endpoint_url=sys.argv[1],\n"
      "    aws_access_key_id='S3RVER', aws_secret_access_key='S3RVER', region_name='us-east-1',\n"
      "    config=botocore.config.Config(s3={'addressing_style': 'path'}))\n"
      "body = c.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body']\n"
      "h = hashlib.sha256()\n"
      "for chunk in iter(lambda: body.read(1 << 20), b''): h.update(chunk)\n"
      "print(h.hexdigest())\n";
  std::string output;
  const int status =
      run_command("/usr/bin/python3 -c " + shell_quote(script) + " " +
                      shell_quote(server.endpoint()) + " " + kBucket + " " + shell_quote(key),
                  &output, true);
  EXPECT_EQ(status, 0) << output;
  while (!output.empty() && g_ascii_isspace(output.back())) output.pop_back();
  return output;
}

/* Runs pipeline until an error or EOS; returns the error text (empty at
 * EOS) and leaves the pipeline in its state, so the test decides when it
 * goes to NULL. */
inline std::string wait_for_error_or_eos(GstElement *pipeline, GstClockTime timeout) {
  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline));
  MessagePtr message(gst_bus_timed_pop_filtered(
      bus.get(), timeout, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  if (!message) {
    ADD_FAILURE() << "neither EOS nor an error within " << timeout / GST_SECOND << " s";
    return "timeout";
  }
  if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_EOS) return "";
  GError *error = nullptr;
  gst_message_parse_error(message.get(), &error, nullptr);
  std::string text = error ? error->message : "error";
  if (error) g_error_free(error);
  return text;
}

}  // namespace reelforge::test
