/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "s3-location.h"

#include "gst-ptr.h"

#include <glib.h>

#include <stdexcept>

namespace reelforge::s3 {

namespace {

std::string env(const char *name) {
  const char *value = g_getenv(name);
  return value ? value : "";
}

/* A bucket name S3 accepts (3-63 of a-z 0-9 . -, starting and ending with
 * a letter or digit); the error says what to change. */
bool valid_bucket(const std::string &bucket, std::string *error) {
  if (bucket.size() < 3 || bucket.size() > 63) {
    *error = "bucket name \"" + bucket + "\" must be 3 to 63 characters long";
    return false;
  }
  for (char c : bucket) {
    if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '.' || c == '-')) {
      *error =
          "bucket name \"" + bucket + "\" may only hold lower-case letters, digits, '.' and '-'";
      return false;
    }
  }
  if (!g_ascii_isalnum(bucket.front()) || !g_ascii_isalnum(bucket.back())) {
    *error = "bucket name \"" + bucket + "\" must start and end with a letter or digit";
    return false;
  }
  return true;
}

struct KeyFileDeleter {
  void operator()(GKeyFile *k) const noexcept { g_key_file_unref(k); }
};
using KeyFilePtr = std::unique_ptr<GKeyFile, KeyFileDeleter>;

/* An ini file as the AWS CLI writes it; nullptr when absent. A malformed
 * one is an error naming the file. */
KeyFilePtr load_ini(const std::string &path) {
  if (!g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) return nullptr;
  KeyFilePtr file(g_key_file_new());
  GError *error = nullptr;
  if (!g_key_file_load_from_file(file.get(), path.c_str(), G_KEY_FILE_NONE, &error)) {
    GErrorPtr owned(error);
    throw std::runtime_error("cannot read AWS profile file " + path + ": " + owned->message);
  }
  return file;
}

std::string ini_value(GKeyFile *file, const std::string &group, const char *key) {
  if (!file) return "";
  gchar *value = g_key_file_get_string(file, group.c_str(), key, nullptr);
  if (!value) return "";
  std::string out = value;
  g_free(value);
  /* GKeyFile keeps trailing blanks */
  while (!out.empty() && g_ascii_isspace(out.back())) out.pop_back();
  return out;
}

std::string home_file(const char *env_name, const char *name) {
  std::string path = env(env_name);
  if (!path.empty()) return path;
  return std::string(g_get_home_dir()) + "/.aws/" + name;
}

}  // namespace

std::optional<S3Uri> parse_s3_uri(const std::string &uri, std::string *error) {
  constexpr std::string_view scheme = "s3://";
  if (uri.size() < scheme.size() || g_ascii_strncasecmp(uri.c_str(), "s3://", 5) != 0) {
    *error = "\"" + uri + "\" is not an s3:// URI; write s3://bucket/key";
    return std::nullopt;
  }
  const std::string rest = uri.substr(scheme.size());
  const auto slash = rest.find('/');
  S3Uri out;
  out.bucket = rest.substr(0, slash);
  if (out.bucket.empty()) {
    *error = "\"" + uri + "\" has no bucket; write s3://bucket/key";
    return std::nullopt;
  }
  if (!valid_bucket(out.bucket, error)) {
    *error = "\"" + uri + "\": " + *error;
    return std::nullopt;
  }
  if (slash != std::string::npos) out.key = uri_decode(rest.substr(slash + 1));
  return out;
}

std::string format_s3_uri(const std::string &bucket, const std::string &key) {
  return "s3://" + bucket + "/" + uri_encode(key, true);
}

S3Target resolve(S3Target t) {
  std::string error;
  if (t.bucket.empty()) throw std::runtime_error("no bucket: set the bucket (or an s3:// uri)");
  if (!valid_bucket(t.bucket, &error)) throw std::runtime_error(error);

  Credentials &c = t.credentials;
  if (c.access_key_id.empty() != c.secret_access_key.empty())
    throw std::runtime_error(
        "access-key-id and secret-access-key must be set together (one of them is empty)");
  if (c.access_key_id.empty()) {
    c.access_key_id = env("AWS_ACCESS_KEY_ID");
    c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
    c.session_token = env("AWS_SESSION_TOKEN");
    if (c.access_key_id.empty() != c.secret_access_key.empty())
      throw std::runtime_error(
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (one is empty)");
  }
  if (t.region.empty()) t.region = env("AWS_REGION");
  if (t.region.empty()) t.region = env("AWS_DEFAULT_REGION");
  if (t.endpoint.empty()) t.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (t.endpoint.empty()) t.endpoint = env("AWS_ENDPOINT_URL");

  std::string profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  if (c.access_key_id.empty()) {
    const std::string path = home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    KeyFilePtr file = load_ini(path);
    c.access_key_id = ini_value(file.get(), profile, "aws_access_key_id");
    c.secret_access_key = ini_value(file.get(), profile, "aws_secret_access_key");
    c.session_token = ini_value(file.get(), profile, "aws_session_token");
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      throw std::runtime_error(
          "no S3 credentials: set access-key-id and secret-access-key, or AWS_ACCESS_KEY_ID and "
          "AWS_SECRET_ACCESS_KEY, or profile [" +
          profile + "] in " + path);
  }
  if (t.region.empty() || t.endpoint.empty()) {
    const std::string path = home_file("AWS_CONFIG_FILE", "config");
    KeyFilePtr file = load_ini(path);
    const std::string group = profile == "default" ? "default" : "profile " + profile;
    if (t.region.empty()) t.region = ini_value(file.get(), group, "region");
    if (t.endpoint.empty()) t.endpoint = ini_value(file.get(), group, "endpoint_url");
  }
  if (t.region.empty()) t.region = "us-east-1";

  if (!t.endpoint.empty()) {
    while (t.endpoint.ends_with("/")) t.endpoint.pop_back();
    if (!t.endpoint.starts_with("http://") && !t.endpoint.starts_with("https://"))
      throw std::runtime_error("endpoint \"" + t.endpoint +
                               "\" must start with http:// or https://");
    GUri *uri = g_uri_parse(t.endpoint.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
      if (uri) g_uri_unref(uri);
      throw std::runtime_error("endpoint \"" + t.endpoint + "\" is not a valid URL");
    }
    g_uri_unref(uri);
  }
  return t;
}

S3Address address_of(const S3Target &t, const std::string &key) {
  S3Address a;
  std::string scheme = "https";
  std::string host = "s3." + t.region + ".amazonaws.com";
  bool path_style = t.url_style == UrlStyle::Path;
  if (!t.endpoint.empty()) {
    const auto sep = t.endpoint.find("://");
    scheme = t.endpoint.substr(0, sep);
    host = t.endpoint.substr(sep + 3);
    /* Custom endpoints (MinIO, s3rver, a local R2 proxy) usually want
     * path-style; AWS wants virtual-host. */
    if (t.url_style == UrlStyle::Auto) path_style = true;
  }
  /* A dotted bucket breaks the TLS wildcard of virtual-host names. */
  if (t.url_style == UrlStyle::Auto && t.bucket.find('.') != std::string::npos) path_style = true;
  a.https = scheme == "https";
  if (path_style) {
    a.host = host;
    a.path = "/" + t.bucket + (key.empty() ? "" : "/" + key);
  } else {
    a.host = t.bucket + "." + host;
    a.path = "/" + key;
  }
  a.base = scheme + "://" + a.host;
  return a;
}

}  // namespace reelforge::s3
