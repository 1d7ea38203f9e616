/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * s3:// URIs, addressing styles and the credential order, without a server.
 */
#include "s3-location.h"
#include "test-environment.h"

#include <glib.h>

using namespace reelforge::s3;

TEST(S3Uri, ParsesBucketAndDecodedKey) {
  std::string error;
  auto uri = parse_s3_uri("s3://clips/a/b%20c+d.mp4", &error);
  ASSERT_TRUE(uri) << error;
  EXPECT_EQ(uri->bucket, "clips");
  EXPECT_EQ(uri->key, "a/b c+d.mp4");
  EXPECT_EQ(format_s3_uri(uri->bucket, uri->key), "s3://clips/a/b%20c%2Bd.mp4");
}

TEST(S3Uri, RefusesMalformedOnesSayingWhy) {
  std::string error;
  EXPECT_FALSE(parse_s3_uri("https://clips/a.mp4", &error));
  EXPECT_NE(error.find("write s3://bucket/key"), std::string::npos) << error;
  EXPECT_FALSE(parse_s3_uri("s3:///a.mp4", &error));
  EXPECT_NE(error.find("has no bucket"), std::string::npos) << error;
  EXPECT_FALSE(parse_s3_uri("s3://ab/a.mp4", &error));
  EXPECT_NE(error.find("3 to 63 characters"), std::string::npos) << error;
  EXPECT_FALSE(parse_s3_uri("s3://-clips/a.mp4", &error));
  EXPECT_NE(error.find("start and end with a letter or digit"), std::string::npos) << error;
}

TEST(S3Address, VirtualHostOnAwsPathStyleOnCustomEndpoints) {
  S3Target t;
  t.bucket = "clips";
  t.region = "eu-west-3";
  S3Address a = address_of(t, "x/y.mp4");
  EXPECT_EQ(a.base, "https://clips.s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(a.path, "/x/y.mp4");

  t.bucket = "my.clips"; /* dots break the TLS wildcard */
  a = address_of(t, "y.mp4");
  EXPECT_EQ(a.base, "https://s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(a.path, "/my.clips/y.mp4");

  t.bucket = "clips";
  t.endpoint = "http://127.0.0.1:9000";
  a = address_of(t, "y.mp4");
  EXPECT_EQ(a.base, "http://127.0.0.1:9000");
  EXPECT_EQ(a.host, "127.0.0.1:9000");
  EXPECT_EQ(a.path, "/clips/y.mp4");
  EXPECT_FALSE(a.https);

  t.endpoint = "https://account.r2.example";
  t.url_style = UrlStyle::VirtualHost;
  a = address_of(t, "y.mp4");
  EXPECT_EQ(a.base, "https://clips.account.r2.example");
  EXPECT_EQ(a.path, "/y.mp4");
}

TEST(S3Credentials, PropertiesThenEnvironmentThenProfile) {
  reelforge::test::TempDir home;
  g_file_set_contents(home.file("credentials").c_str(),
                      "[default]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = ps\n", -1,
                      nullptr);
  g_file_set_contents(home.file("config").c_str(), "[default]\nregion = ap-south-1\n", -1, nullptr);
  g_setenv("AWS_SHARED_CREDENTIALS_FILE", home.file("credentials").c_str(), TRUE);
  g_setenv("AWS_CONFIG_FILE", home.file("config").c_str(), TRUE);
  g_unsetenv("AWS_PROFILE");
  g_unsetenv("AWS_REGION");
  g_unsetenv("AWS_DEFAULT_REGION");
  g_unsetenv("AWS_ENDPOINT_URL");
  g_unsetenv("AWS_ENDPOINT_URL_S3");

  S3Target t;
  t.bucket = "clips";
  g_unsetenv("AWS_ACCESS_KEY_ID");
  g_unsetenv("AWS_SECRET_ACCESS_KEY");
  S3Target r = resolve(t);
  EXPECT_EQ(r.credentials.access_key_id, "PROFILEKEY");
  EXPECT_EQ(r.region, "ap-south-1");

  g_setenv("AWS_ACCESS_KEY_ID", "ENVKEY", TRUE);
  g_setenv("AWS_SECRET_ACCESS_KEY", "es", TRUE);
  g_setenv("AWS_SESSION_TOKEN", "tok", TRUE);
  r = resolve(t);
  EXPECT_EQ(r.credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(r.credentials.session_token, "tok");

  t.credentials = {"PROPKEY", "ps", ""};
  r = resolve(t);
  EXPECT_EQ(r.credentials.access_key_id, "PROPKEY");
  EXPECT_EQ(r.credentials.session_token, "");

  t.credentials = {"PROPKEY", "", ""};
  try {
    resolve(t);
    ADD_FAILURE() << "a key without its secret must be refused";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("must be set together"), std::string::npos) << e.what();
  }
  for (const char *name : {"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_ACCESS_KEY_ID",
                           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})
    g_unsetenv(name);
}
