/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "s3-element-settings.h"

#include <gst/gst.h>

#include <stdexcept>

GType gst_s3_url_style_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_S3_URL_STYLE_AUTO, "Virtual-host on AWS, path-style on a custom endpoint", "auto"},
      {GST_S3_URL_STYLE_PATH, "endpoint/bucket/key", "path"},
      {GST_S3_URL_STYLE_VIRTUAL_HOST, "bucket.endpoint/key", "virtual-host"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType registered = g_enum_register_static("GstS3UrlStyle", values);
    g_once_init_leave(&type, registered);
  }
  return type;
}

namespace reelforge::s3 {

std::string ConnectionSettings::uri() const {
  if (bucket.empty()) return "";
  return format_s3_uri(bucket, key);
}

S3Target ConnectionSettings::target() const {
  if (!uri_error.empty()) throw std::invalid_argument(uri_error);
  S3Target t;
  t.bucket = bucket;
  t.key = key;
  t.region = region;
  t.endpoint = endpoint;
  t.url_style = url_style == GST_S3_URL_STYLE_PATH           ? UrlStyle::Path
                : url_style == GST_S3_URL_STYLE_VIRTUAL_HOST ? UrlStyle::VirtualHost
                                                             : UrlStyle::Auto;
  t.credentials = {access_key_id, secret_access_key, session_token};
  return t;
}

RetryPolicy ConnectionSettings::policy(guint connections) const {
  RetryPolicy p;
  p.retry_attempts = retry_attempts;
  p.request_timeout_s = request_timeout;
  p.max_connections = connections;
  return p;
}

void install_connection_properties(GObjectClass *klass) {
  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                           GST_PARAM_MUTABLE_READY);
  /* Secrets can be set but never read back, so no tool prints them. */
  const auto wo =
      static_cast<GParamFlags>(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      klass, PROP_URI,
      g_param_spec_string("uri", "URI", "s3://bucket/key (sets bucket and key)", nullptr, rw));
  g_object_class_install_property(
      klass, PROP_BUCKET, g_param_spec_string("bucket", "Bucket", "Bucket name", nullptr, rw));
  g_object_class_install_property(klass, PROP_KEY,
                                  g_param_spec_string("key", "Key", "Object key", nullptr, rw));
  g_object_class_install_property(
      klass, PROP_REGION,
      g_param_spec_string("region", "Region",
                          "AWS region; unset: AWS_REGION, the profile's region, us-east-1", nullptr,
                          rw));
  g_object_class_install_property(
      klass, PROP_ENDPOINT,
      g_param_spec_string("endpoint", "Endpoint",
                          "http(s)://host[:port] of an S3-compatible service (MinIO, R2, "
                          "s3rver); unset: AWS_ENDPOINT_URL, the profile's endpoint_url, AWS",
                          nullptr, rw));
  g_object_class_install_property(
      klass, PROP_URL_STYLE,
      g_param_spec_enum("url-style", "URL style", "Path-style or virtual-host addressing",
                        GST_TYPE_S3_URL_STYLE, GST_S3_URL_STYLE_AUTO, rw));
  g_object_class_install_property(
      klass, PROP_ACCESS_KEY_ID,
      g_param_spec_string("access-key-id", "Access key id",
                          "unset: AWS_ACCESS_KEY_ID, then the ~/.aws profile", nullptr, rw));
  g_object_class_install_property(
      klass, PROP_SECRET_ACCESS_KEY,
      g_param_spec_string("secret-access-key", "Secret access key",
                          "Write-only; unset: AWS_SECRET_ACCESS_KEY, then the ~/.aws profile",
                          nullptr, wo));
  g_object_class_install_property(
      klass, PROP_SESSION_TOKEN,
      g_param_spec_string("session-token", "Session token",
                          "Write-only; temporary credentials' token (AWS_SESSION_TOKEN)", nullptr,
                          wo));
  g_object_class_install_property(
      klass, PROP_RETRY_ATTEMPTS,
      g_param_spec_uint("retry-attempts", "Retry attempts",
                        "Retries of a failed request (network error, 5xx, 429), with "
                        "exponential backoff from 200 ms",
                        0, 20, DEFAULT_RETRY_ATTEMPTS, rw));
  g_object_class_install_property(
      klass, PROP_REQUEST_TIMEOUT,
      g_param_spec_uint("request-timeout", "Request timeout",
                        "Seconds without progress after which one attempt fails", 1, 3600,
                        DEFAULT_REQUEST_TIMEOUT, rw));
}

std::string describe_settings_error(const ConnectionSettings &s, const std::exception &e) {
  if (!s.uri_error.empty()) return "malformed uri: " + s.uri_error;
  if (s.bucket.empty()) return e.what();
  return format_s3_uri(s.bucket, s.key) + ": " + e.what();
}

void set_uri(ConnectionSettings &s, const std::string &uri) {
  std::string error;
  auto parsed = parse_s3_uri(uri, &error);
  if (!parsed) throw std::invalid_argument(error);
  s.bucket = parsed->bucket;
  s.key = parsed->key;
  s.uri_error.clear();
}

static std::string string_of(const GValue *value) {
  const char *text = g_value_get_string(value);
  return text ? text : "";
}

bool set_connection_property(ConnectionSettings &s, guint id, const GValue *value) {
  switch (id) {
    case PROP_URI: {
      const std::string uri = string_of(value);
      if (uri.empty()) {
        s.bucket.clear();
        s.key.clear();
        s.uri_error.clear();
        return true;
      }
      try {
        set_uri(s, uri);
      } catch (const std::invalid_argument &e) {
        s.uri_error = e.what();
      }
      return true;
    }
    case PROP_BUCKET:
      s.bucket = string_of(value);
      return true;
    case PROP_KEY:
      s.key = string_of(value);
      return true;
    case PROP_REGION:
      s.region = string_of(value);
      return true;
    case PROP_ENDPOINT:
      s.endpoint = string_of(value);
      return true;
    case PROP_URL_STYLE:
      s.url_style = static_cast<GstS3UrlStyle>(g_value_get_enum(value));
      return true;
    case PROP_ACCESS_KEY_ID:
      s.access_key_id = string_of(value);
      return true;
    case PROP_SECRET_ACCESS_KEY:
      s.secret_access_key = string_of(value);
      return true;
    case PROP_SESSION_TOKEN:
      s.session_token = string_of(value);
      return true;
    case PROP_RETRY_ATTEMPTS:
      s.retry_attempts = g_value_get_uint(value);
      return true;
    case PROP_REQUEST_TIMEOUT:
      s.request_timeout = g_value_get_uint(value);
      return true;
    default:
      return false;
  }
}

bool get_connection_property(const ConnectionSettings &s, guint id, GValue *value) {
  auto set_string = [&](const std::string &text) {
    g_value_set_string(value, text.empty() ? nullptr : text.c_str());
  };
  switch (id) {
    case PROP_URI:
      set_string(s.uri());
      return true;
    case PROP_BUCKET:
      set_string(s.bucket);
      return true;
    case PROP_KEY:
      set_string(s.key);
      return true;
    case PROP_REGION:
      set_string(s.region);
      return true;
    case PROP_ENDPOINT:
      set_string(s.endpoint);
      return true;
    case PROP_URL_STYLE:
      g_value_set_enum(value, s.url_style);
      return true;
    case PROP_ACCESS_KEY_ID:
      set_string(s.access_key_id);
      return true;
    case PROP_RETRY_ATTEMPTS:
      g_value_set_uint(value, s.retry_attempts);
      return true;
    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint(value, s.request_timeout);
      return true;
    default:
      return false;
  }
}

const gchar *const *uri_protocols() {
  static const gchar *protocols[] = {"s3", nullptr};
  return protocols;
}

gchar *get_uri_locked(GstObject *element, const ConnectionSettings &settings) {
  GST_OBJECT_LOCK(element);
  const std::string uri = settings.uri();
  GST_OBJECT_UNLOCK(element);
  return uri.empty() ? nullptr : g_strdup(uri.c_str());
}

gboolean set_uri_locked(GstObject *element, ConnectionSettings &settings, const gchar *uri,
                        GError **error) {
  std::string problem;
  GST_OBJECT_LOCK(element);
  try {
    set_uri(settings, uri ? uri : "");
  } catch (const std::exception &e) {
    problem = e.what();
  }
  GST_OBJECT_UNLOCK(element);
  if (problem.empty()) return TRUE;
  g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "%s", problem.c_str());
  return FALSE;
}

}  // namespace reelforge::s3
