/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * s3sink against a real S3 server (s3rver): multipart uploads whose bytes
 * match, bounded memory, a server that dies mid-upload, on-error, and bad
 * input. Bytes come from fakesrc, not media, to keep the tests fast.
 */
#include "s3-test-helpers.h"

#include <regex>

using namespace reelforge;
using namespace reelforge::test;

namespace {

constexpr guint64 MiB = 1024 * 1024;

class S3SinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server.started()); }
  S3Server server;
};

/* fakesrc of count buffers of 1,000,000 random bytes into s3sink. */
GstObjectPtr<GstElement> upload_pipeline(const S3Server &server, const std::string &key, int count,
                                         const std::string &sink_extra = "",
                                         const std::string &middle = "") {
  const std::string description = "fakesrc name=src num-buffers=" + std::to_string(count) +
                                  " sizetype=fixed sizemax=1000000 filltype=random ! " + middle +
                                  "s3sink name=sink uri=s3://" + kBucket + "/" + key + " " +
                                  s3_props(server) + " " + sink_extra;
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  EXPECT_EQ(error, nullptr) << (error ? error->message : "");
  if (error) g_error_free(error);
  return adopt_floating(pipeline);
}

GstObjectPtr<GstPad> sink_pad(GstElement *pipeline) {
  GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline), "sink"));
  return GstObjectPtr<GstPad>(gst_element_get_static_pad(sink.get(), "sink"));
}

guint64 peak_buffered(GstElement *pipeline) {
  GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline), "sink"));
  guint64 peak = 0;
  g_object_get(sink.get(), "peak-buffered-bytes", &peak, nullptr);
  return peak;
}

/* The sink sent AbortMultipartUpload (DELETE key?uploadId=...). s3rver's
 * log does not show the method, but only the abort gets no body back:
 * CompleteMultipartUpload (POST) answers 200 with XML. s3rver 3.7.1 does
 * not implement the abort and answers 405; S3 answers 204. */
bool abort_logged(S3Server &server, const std::string &key) {
  return server.wait_for_log(key + "\\?uploadId=[0-9a-f]+ (204|405) ");
}

}  // namespace

TEST_F(S3SinkTest, Uploads30MBInPartsThatReadBackIdentical) {
  auto pipeline = upload_pipeline(server, "clips/thirty%20mb+1.bin", 30, "part-size=5242880");
  PadHasher input(sink_pad(pipeline.get()).get());
  PipelineRun run = run_pipeline(pipeline.get(), 120 * GST_SECOND);
  ASSERT_TRUE(run.reached_eos) << run.error;

  auto complete = run.messages("s3sink-complete");
  ASSERT_EQ(complete.size(), 1u);
  EXPECT_EQ(get_string(complete[0], "uri"),
            std::string("s3://") + kBucket + "/clips/thirty%20mb%2B1.bin");
  EXPECT_EQ(get_uint64(complete[0], "size"), 30000000u);
  guint parts = 0;
  ASSERT_TRUE(gst_structure_get_uint(complete[0], "parts", &parts));
  EXPECT_EQ(parts, 6u); /* 5 MiB parts: 5 full, one of 3.78 MB */
  EXPECT_FALSE(get_string(complete[0], "etag").empty());
  for (const char *field : {"timestamp", "stream-time", "running-time", "duration"})
    EXPECT_TRUE(gst_structure_has_field(complete[0], field)) << field;
  EXPECT_EQ(input.bytes(), 30000000u);

  /* Read back with s3src... */
  GError *error = nullptr;
  auto reader = adopt_floating(
      gst_parse_launch(("s3src uri=\"s3://" + std::string(kBucket) + "/clips/thirty%20mb+1.bin\" " +
                        s3_props(server) + " ! fakesink name=sink")
                           .c_str(),
                       &error));
  ASSERT_EQ(error, nullptr) << error->message;
  PadHasher output(sink_pad(reader.get()).get());
  PipelineRun read = run_pipeline(reader.get(), 60 * GST_SECOND);
  ASSERT_TRUE(read.reached_eos) << read.error;
  EXPECT_EQ(output.bytes(), 30000000u);
  EXPECT_EQ(output.hex(), input.hex());

  /* ...and with botocore. */
  EXPECT_EQ(botocore_sha256(server, "clips/thirty mb+1.bin"), input.hex());
}

TEST_F(S3SinkTest, SmallStreamIsOneSinglePut) {
  auto pipeline = upload_pipeline(server, "small.json", 1, "content-type=application/json");
  PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;
  auto complete = run.messages("s3sink-complete");
  ASSERT_EQ(complete.size(), 1u);
  gboolean multipart = TRUE;
  ASSERT_TRUE(gst_structure_get_boolean(complete[0], "multipart", &multipart));
  EXPECT_FALSE(multipart);
  s3::S3Response head = s3_head(server, "small.json");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.content_length, 1000000u);
  EXPECT_EQ(head.content_type, "application/json");
  EXPECT_EQ(server.log().find("?uploads"), std::string::npos) << "no multipart upload expected";
}

TEST_F(S3SinkTest, PeakMemoryFor200MBStaysUnderPartSizeTimesInflightPlusTwo) {
  const guint64 part_size = 5 * MiB;
  const guint max_inflight = 2;
  auto pipeline = upload_pipeline(server, "big.bin", 200, "part-size=5242880 max-inflight=2");
  PipelineRun run = run_pipeline(pipeline.get(), 300 * GST_SECOND);
  ASSERT_TRUE(run.reached_eos) << run.error;
  auto complete = run.messages("s3sink-complete");
  ASSERT_EQ(complete.size(), 1u);
  EXPECT_EQ(get_uint64(complete[0], "size"), 200000000u);
  const guint64 peak = peak_buffered(pipeline.get());
  EXPECT_LT(peak, part_size * (max_inflight + 2));
  EXPECT_GE(peak, part_size) << "the accounting saw no full part";
  EXPECT_EQ(s3_head(server, "big.bin").content_length, 200000000u);
}

TEST_F(S3SinkTest, ServerKilledMidUploadFailsInTimeAbortsAndLeavesNoObject) {
  auto pipeline = upload_pipeline(server, "killed.bin", 100,
                                  "part-size=5242880 retry-attempts=2 request-timeout=5");
  /* Kill the server once 12 MB went by: two parts are in flight or done. */
  struct Killer {
    S3Server *server;
    guint64 bytes = 0;
    bool killed = false;
  } killer{&server};
  gst_pad_add_probe(
      sink_pad(pipeline.get()).get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) {
        auto *k = static_cast<Killer *>(data);
        k->bytes += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
        if (!k->killed && k->bytes >= 12000000) {
          k->server->kill();
          k->killed = true;
        }
        return GST_PAD_PROBE_OK;
      },
      &killer, nullptr);
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  const gint64 started = g_get_monotonic_time();
  const std::string error = wait_for_error_or_eos(pipeline.get(), 60 * GST_SECOND);
  const double seconds = (g_get_monotonic_time() - started) / 1e6;
  EXPECT_TRUE(killer.killed);
  EXPECT_NE(error, "");
  EXPECT_NE(error.find("s3://reelforge-test/killed.bin"), std::string::npos) << error;
  EXPECT_LT(seconds, 30.0) << "error after " << seconds << " s";

  /* The server comes back; stopping the pipeline aborts the upload, and
   * no object exists under the key. */
  server.start();
  ASSERT_TRUE(server.started());
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_TRUE(abort_logged(server, "killed.bin")) << server.log();
  EXPECT_EQ(s3_head(server, "killed.bin").status, 404u);
}

TEST_F(S3SinkTest, UpstreamErrorWithAbortLeavesNoObject) {
  auto pipeline =
      upload_pipeline(server, "aborted.bin", 20, "part-size=5242880", "identity error-after=12 ! ");
  PipelineRun run = run_pipeline(pipeline.get());
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error, "");
  EXPECT_TRUE(run.messages("s3sink-complete").empty());
  EXPECT_TRUE(abort_logged(server, "aborted.bin")) << server.log();
  EXPECT_EQ(s3_head(server, "aborted.bin").status, 404u);
}

TEST_F(S3SinkTest, UpstreamErrorWithCompleteKeepsThePartialObject) {
  auto pipeline = upload_pipeline(server, "partial.bin", 20, "part-size=5242880 on-error=complete",
                                  "identity error-after=12 ! ");
  PipelineRun run = run_pipeline(pipeline.get());
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error, "");
  s3::S3Response head = s3_head(server, "partial.bin");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.content_length, 11000000u); /* buffers before the 12th */
}

/* Bad input: a clear error naming bucket and key, quickly. */
struct BadInput {
  const char *name;
  std::string properties;
  std::vector<std::string> expected; /* substrings of the error */
};

TEST_F(S3SinkTest, BadInputGivesAClearErrorWithoutHanging) {
  const std::string creds = "access-key-id=S3RVER secret-access-key=S3RVER";
  const std::vector<BadInput> cases = {
      {"unknown bucket",
       "uri=s3://no-such-bucket/a/b.mp4 endpoint=" + server.endpoint() + " " + creds,
       {"s3://no-such-bucket/a/b.mp4", "NoSuchBucket", "no-such-bucket\" does not exist"}},
      {"wrong credentials",
       "uri=s3://reelforge-test/c.mp4 endpoint=" + server.endpoint() +
           " access-key-id=NOT-A-KEY secret-access-key=whatever",
       {"s3://reelforge-test/c.mp4", "InvalidAccessKeyId", "access key"}},
      {"unreachable endpoint",
       "uri=s3://reelforge-test/d.mp4 endpoint=http://127.0.0.1:9 retry-attempts=1 " + creds,
       {"s3://reelforge-test/d.mp4", "cannot reach http://127.0.0.1:9"}},
      {"malformed uri (bucket)",
       "uri=s3://Bad_Bucket/e.mp4 " + creds,
       {"malformed uri", "s3://Bad_Bucket/e.mp4", "lower-case"}},
      {"malformed uri (scheme)",
       "uri=s3:/reelforge-test/f.mp4 " + creds,
       {"malformed uri", "s3:/reelforge-test/f.mp4", "s3://bucket/key"}},
      {"no key", "uri=s3://reelforge-test " + creds, {"s3://reelforge-test/", "no key"}},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    const gint64 started = g_get_monotonic_time();
    PipelineRun run =
        run_pipeline("fakesrc num-buffers=2 sizetype=fixed sizemax=1000 ! s3sink " + c.properties,
                     30 * GST_SECOND);
    EXPECT_FALSE(run.reached_eos);
    for (const auto &text : c.expected)
      EXPECT_NE(run.error.find(text), std::string::npos)
          << "\"" << text << "\" not in: " << run.error;
    EXPECT_EQ(run.error.find("whatever"), std::string::npos) << "a secret leaked: " << run.error;
    EXPECT_LT(g_get_monotonic_time() - started, 15 * G_USEC_PER_SEC);
  }
}

TEST_F(S3SinkTest, CredentialsComeFromTheEnvironmentAndTheProfile) {
  /* Environment */
  PipelineRun run;
  {
    S3Environment environment(server);
    run = run_pipeline(
        "fakesrc num-buffers=1 sizetype=fixed sizemax=100 ! s3sink "
        "uri=s3://reelforge-test/env.bin");
    EXPECT_TRUE(run.reached_eos) << run.error;
  }
  EXPECT_EQ(s3_head(server, "env.bin").status, 200u);

  /* Profile files */
  TempDir home;
  g_file_set_contents(home.file("credentials").c_str(),
                      "[default]\naws_access_key_id = NOPE\naws_secret_access_key = nope\n"
                      "[tests]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n",
                      -1, nullptr);
  g_file_set_contents(
      home.file("config").c_str(),
      ("[profile tests]\nregion = eu-west-3\nendpoint_url = " + server.endpoint() + "\n").c_str(),
      -1, nullptr);
  g_setenv("AWS_SHARED_CREDENTIALS_FILE", home.file("credentials").c_str(), TRUE);
  g_setenv("AWS_CONFIG_FILE", home.file("config").c_str(), TRUE);
  g_setenv("AWS_PROFILE", "tests", TRUE);
  run = run_pipeline(
      "fakesrc num-buffers=1 sizetype=fixed sizemax=100 ! s3sink "
      "uri=s3://reelforge-test/profile.bin");
  EXPECT_TRUE(run.reached_eos) << run.error;
  g_unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  g_unsetenv("AWS_CONFIG_FILE");
  g_unsetenv("AWS_PROFILE");
  EXPECT_EQ(s3_head(server, "profile.bin").status, 200u);
}
