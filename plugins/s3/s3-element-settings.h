/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The properties s3sink and s3src share: where the object is (uri, bucket,
 * key, region, endpoint, url-style), who may touch it (access-key-id and
 * the write-only secret-access-key and session-token) and how hard to try
 * (retry-attempts, request-timeout).
 */
#pragma once

#include "s3-client.h"

#include <glib-object.h>
#include <gst/gst.h>

#include <string>

G_BEGIN_DECLS

typedef enum {
  GST_S3_URL_STYLE_AUTO,
  GST_S3_URL_STYLE_PATH,
  GST_S3_URL_STYLE_VIRTUAL_HOST,
} GstS3UrlStyle;

#define GST_TYPE_S3_URL_STYLE (gst_s3_url_style_get_type())
GType gst_s3_url_style_get_type(void);

G_END_DECLS

namespace reelforge::s3 {

inline constexpr guint DEFAULT_RETRY_ATTEMPTS = 3;
inline constexpr guint DEFAULT_REQUEST_TIMEOUT = 30;

struct ConnectionSettings {
  std::string bucket;
  std::string key;
  std::string region;
  std::string endpoint;
  GstS3UrlStyle url_style = GST_S3_URL_STYLE_AUTO;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  guint retry_attempts = DEFAULT_RETRY_ATTEMPTS;
  guint request_timeout = DEFAULT_REQUEST_TIMEOUT;
  std::string uri_error; /* why the last uri set was refused; reported at start */

  std::string uri() const;
  S3Target target() const;
  RetryPolicy policy(guint connections) const;
};

/* Property ids 1 .. kConnectionPropertyCount; an element's own start after. */
enum ConnectionProperty : guint {
  PROP_URI = 1,
  PROP_BUCKET,
  PROP_KEY,
  PROP_REGION,
  PROP_ENDPOINT,
  PROP_URL_STYLE,
  PROP_ACCESS_KEY_ID,
  PROP_SECRET_ACCESS_KEY,
  PROP_SESSION_TOKEN,
  PROP_RETRY_ATTEMPTS,
  PROP_REQUEST_TIMEOUT,
  PROP_CONNECTION_LAST,
};

void install_connection_properties(GObjectClass *klass);

/* The text of an error from ConnectionSettings::target() or resolve():
 * names the object (or the malformed uri) and what to fix. */
std::string describe_settings_error(const ConnectionSettings &settings, const std::exception &e);

/* Under the element's object lock. set_uri() throws std::invalid_argument
 * with the reason for a malformed s3:// URI; the uri property keeps the
 * reason in uri_error instead (a property setter has nobody to tell). */
void set_uri(ConnectionSettings &settings, const std::string &uri);
bool set_connection_property(ConnectionSettings &settings, guint id, const GValue *value);
bool get_connection_property(const ConnectionSettings &settings, guint id, GValue *value);

/* The GstURIHandler side of s3sink and s3src, for settings guarded by
 * element's object lock: get_uri (nullptr when unset) and set_uri (a
 * GST_URI_ERROR_BAD_URI naming what is wrong with a malformed uri). */
const gchar *const *uri_protocols();
gchar *get_uri_locked(GstObject *element, const ConnectionSettings &settings);
gboolean set_uri_locked(GstObject *element, ConnectionSettings &settings, const gchar *uri,
                        GError **error);

}  // namespace reelforge::s3
