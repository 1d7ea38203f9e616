/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge presign: the URL fetches the object from a real S3 server, its
 * signature is botocore's, and bad input is a clear error without secrets.
 */
#include "s3-test-helpers.h"

#include <regex>

using namespace reelforge::test;

namespace {

class PresignTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server.started()); }
  S3Server server;
  S3Environment environment{server};
};

std::string query_value(const std::string &url, const std::string &name) {
  std::smatch match;
  if (std::regex_search(url, match, std::regex("[?&]" + name + "=([^&\\s]*)")))
    return match[1].str();
  return "";
}

}  // namespace

TEST_F(PresignTest, UrlFetchesTheObjectAndMatchesBotocore) {
  PipelineRun upload = run_pipeline(
      "fakesrc num-buffers=3 sizetype=fixed sizemax=10000 filltype=random ! s3sink "
      "uri=\"s3://reelforge-test/shared/pre signed+1.bin\"");
  ASSERT_TRUE(upload.reached_eos) << upload.error;

  ProgramResult result = reelforge::test::reelforge(
      {"presign", "s3://reelforge-test/shared/pre signed+1.bin", "--expires", "600"});
  ASSERT_EQ(result.status, 0) << result.output;
  std::string url = result.output;
  while (!url.empty() && g_ascii_isspace(url.back())) url.pop_back();
  EXPECT_TRUE(g_str_has_prefix(
      url.c_str(), (server.endpoint() + "/reelforge-test/shared/pre%20signed%2B1.bin?").c_str()))
      << url;
  EXPECT_EQ(query_value(url, "X-Amz-Expires"), "600");
  EXPECT_EQ(url.find(S3Server::kSecretKey + std::string("&")), std::string::npos);

  /* Anyone with the URL gets the object (no credentials in the request). */
  std::string fetched;
  const std::string fetch =
      "import urllib.request, hashlib, sys\n"
      "print(len(urllib.request.urlopen(sys.argv[1]).read()))\n";
  ASSERT_EQ(run_command("/usr/bin/python3 -c " + shell_quote(fetch) + " " + shell_quote(url),
                        &fetched, true),
            0)
      << fetched;
  EXPECT_EQ(fetched, "30000\n");

  /* botocore's query signer, at the same instant, signs the same. */
  const std::string script =
      "import sys, datetime\n"
      "from unittest import mock\n"
      "from botocore.auth import S3SigV4QueryAuth\n"
      "from botocore.awsrequest import AWSRequest\n"
      "from botocore.credentials import Credentials\n"
      "req = AWSRequest(method='GET', url=sys.argv[1])\n"
      "auth = S3SigV4QueryAuth(Credentials('S3RVER', 'S3RVER'), 's3', 'us-east-1', "
      "expires=600)\n"
      "with mock.patch('botocore.auth.datetime') as dt:\n"
      "    dt.datetime.utcnow.return_value = datetime.datetime.strptime(sys.argv[2], "
      "'%Y%m%dT%H%M%SZ')\n"
      "    auth.add_auth(req)\n"
      "print(req.url)\n";
  std::string botocore_url;
  const std::string bare = url.substr(0, url.find('?'));
  ASSERT_EQ(run_command("/usr/bin/python3 -c " + shell_quote(script) + " " + shell_quote(bare) +
                            " " + query_value(url, "X-Amz-Date"),
                        &botocore_url, true),
            0)
      << botocore_url;
  EXPECT_FALSE(query_value(url, "X-Amz-Signature").empty());
  EXPECT_EQ(query_value(botocore_url, "X-Amz-Signature"), query_value(url, "X-Amz-Signature"))
      << url << "\n"
      << botocore_url;
}

TEST_F(PresignTest, BadInputIsAClearErrorWithoutSecrets) {
  g_setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value", TRUE);
  ProgramResult r =
      reelforge::test::reelforge({"presign", "s3://reelforge-test/a.mp4", "--expires", "0"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--expires \"0\" must be a number of seconds from 1 to 604800"),
            std::string::npos)
      << r.output;

  r = reelforge::test::reelforge({"presign", "s3://Not_A_Bucket/a.mp4"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("s3://Not_A_Bucket/a.mp4"), std::string::npos) << r.output;

  r = reelforge::test::reelforge({"presign", "http://example.com/a.mp4"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("is not an s3:// URI"), std::string::npos) << r.output;

  TempDir home;
  g_unsetenv("AWS_ACCESS_KEY_ID");
  g_unsetenv("AWS_SECRET_ACCESS_KEY");
  g_setenv("AWS_SHARED_CREDENTIALS_FILE", home.file("none").c_str(), TRUE);
  g_setenv("AWS_CONFIG_FILE", home.file("none").c_str(), TRUE);
  r = reelforge::test::reelforge({"presign", "s3://reelforge-test/a.mp4"});
  g_unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  g_unsetenv("AWS_CONFIG_FILE");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("no S3 credentials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("s3://reelforge-test/a.mp4"), std::string::npos) << r.output;

  g_setenv("AWS_ACCESS_KEY_ID", "AKID", TRUE);
  g_setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value", TRUE);
  r = reelforge::test::reelforge({"presign", "s3://reelforge-test/a.mp4"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output.find("very-secret-value"), std::string::npos) << "secret printed";
}
