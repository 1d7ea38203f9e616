/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-s3src
 * @title: s3src
 * @short_description: reads an S3 object with ranged GETs
 *
 * Reads `s3://bucket/key` from AWS S3 or an S3-compatible service with
 * HTTP range requests signed with AWS Signature Version 4. It is
 * random-access: a HEAD gives the size, and every read is a ranged GET of
 * at least #GstS3Src:read-ahead bytes, kept until a read falls outside it.
 * So demuxers can pull and seek, and `qtdemux` reads an MP4 whose moov is
 * at the end; `uridecodebin3 uri=s3://bucket/key` works through the
 * `s3://` URI handler.
 *
 * Failed requests (network errors, 5xx, 429) are retried with exponential
 * backoff (#GstS3Src:retry-attempts, #GstS3Src:request-timeout).
 * Credentials, region and endpoint are found as for s3sink: properties,
 * then the environment (AWS_*), then the ~/.aws profile. Errors name the
 * object and the reason (no such bucket or key, access denied,
 * unreachable endpoint). The element posts no messages of its own.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 uridecodebin3 uri=s3://clips/test.mp4 ! videoconvert ! autovideosink
 * ]| with AWS_ENDPOINT_URL=http://localhost:4568 AWS_ACCESS_KEY_ID=S3RVER
 * AWS_SECRET_ACCESS_KEY=S3RVER in the environment, plays an MP4 from a
 * local s3rver.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsts3src.h"

#include "element-guard.h"
#include "gst-ptr.h"
#include "s3-client.h"
#include "s3-element-settings.h"

#include <algorithm>
#include <memory>
#include <string>

GST_DEBUG_CATEGORY_STATIC(gst_s3_src_debug);
#define GST_CAT_DEFAULT gst_s3_src_debug

using reelforge::ElementError;
using reelforge::GBytesPtr;
using namespace reelforge::s3;

namespace {

enum {
  PROP_READ_AHEAD = PROP_CONNECTION_LAST,
};

constexpr guint DEFAULT_READ_AHEAD = 1024 * 1024;

GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

struct Settings {
  ConnectionSettings connection;
  guint read_ahead = DEFAULT_READ_AHEAD;
};

}  // namespace

struct GstS3SrcPrivate {
  /* Properties; guarded by the object lock. */
  Settings settings;

  /* Streaming state: the streaming thread, and start()/stop(). */
  Settings active;
  S3Target target;
  std::unique_ptr<S3Client> client;
  guint64 size = 0;
  GBytesPtr cache; /* bytes [cache_offset, cache_offset + size) of the object */
  guint64 cache_offset = 0;
};

struct _GstS3Src {
  GstBaseSrc parent;
  GstS3SrcPrivate *priv;
};

static void gst_s3_src_uri_handler_init(gpointer iface, gpointer data);

#define gst_s3_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstS3Src, gst_s3_src, GST_TYPE_BASE_SRC,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER, gst_s3_src_uri_handler_init);
                        GST_DEBUG_CATEGORY_INIT(gst_s3_src_debug, "s3src", 0, "S3 source"));
GST_ELEMENT_REGISTER_DEFINE(s3src, "s3src", GST_RANK_PRIMARY, GST_TYPE_S3_SRC);

namespace {

/* Thrown when unlock() cancelled a request. */
struct Flushing {};

std::string object_uri(GstS3Src *self) {
  return format_s3_uri(self->priv->target.bucket, self->priv->target.key);
}

void start_streaming(GstS3Src *self) {
  GstS3SrcPrivate &p = *self->priv;
  GST_OBJECT_LOCK(self);
  p.active = p.settings;
  GST_OBJECT_UNLOCK(self);
  try {
    p.target = resolve(p.active.connection.target());
  } catch (const std::exception &e) {
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                       describe_settings_error(p.active.connection, e));
  }
  if (p.target.key.empty())
    throw ElementError(
        GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        format_s3_uri(p.target.bucket, "") + ": no key: set key (or uri=s3://bucket/key)");
  p.client = std::make_unique<S3Client>(p.target, p.active.connection.policy(2));
  p.cache.reset();
  p.cache_offset = 0;

  S3Request request;
  request.method = "HEAD";
  request.key = p.target.key;
  request.what = "HEAD";
  S3Response response = p.client->send(request);
  if (!response.ok()) {
    std::string message = response.error;
    if (response.status == 404) message += " (no object under this key, or no such bucket)";
    throw ElementError(
        GST_RESOURCE_ERROR,
        response.status == 404 ? GST_RESOURCE_ERROR_NOT_FOUND : GST_RESOURCE_ERROR_OPEN_READ,
        message);
  }
  p.size = response.content_length;
  GST_INFO_OBJECT(self, "%s: %" G_GUINT64_FORMAT " bytes", object_uri(self).c_str(), p.size);
}

/* Makes the cache hold [offset, offset + length), or as much as exists. */
void fill_cache(GstS3Src *self, guint64 offset, guint length) {
  GstS3SrcPrivate &p = *self->priv;
  if (p.cache) {
    const guint64 cached = g_bytes_get_size(p.cache.get());
    if (offset >= p.cache_offset && offset + length <= p.cache_offset + cached) return;
  }
  const guint64 want = std::max<guint64>(length, p.active.read_ahead);
  const guint64 last = std::min(p.size, offset + want) - 1;
  S3Request request;
  request.method = "GET";
  request.key = p.target.key;
  request.headers = {{"Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(last)}};
  request.what = "GET bytes " + std::to_string(offset) + "-" + std::to_string(last);
  S3Response response = p.client->send(request);
  if (response.cancelled) throw Flushing();
  if (!response.ok())
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, response.error);
  const guint64 expected = last - offset + 1;
  GBytes *bytes = response.body_bytes;
  guint64 got = bytes ? g_bytes_get_size(bytes) : 0;
  guint64 skip = 0;
  if (response.status == 200) skip = offset; /* a server that ignores Range */
  if (got < skip + expected)
    throw ElementError(
        GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        object_uri(self) + ": " + request.what + " returned " + std::to_string(got) + " bytes");
  p.cache.reset(g_bytes_new_from_bytes(bytes, skip, expected));
  p.cache_offset = offset;
}

GstFlowReturn create(GstS3Src *self, guint64 offset, guint length, GstBuffer **buffer) {
  GstS3SrcPrivate &p = *self->priv;
  if (offset >= p.size) return GST_FLOW_EOS;
  length = static_cast<guint>(std::min<guint64>(length, p.size - offset));
  fill_cache(self, offset, length);
  GBytes *slice = g_bytes_new_from_bytes(p.cache.get(), offset - p.cache_offset, length);
  *buffer = gst_buffer_new_wrapped_bytes(slice);
  g_bytes_unref(slice);
  GST_BUFFER_OFFSET(*buffer) = offset;
  GST_BUFFER_OFFSET_END(*buffer) = offset + length;
  return GST_FLOW_OK;
}

}  // namespace

static void gst_s3_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                    GParamSpec *pspec) {
  auto *self = GST_S3_SRC(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    Settings &s = self->priv->settings;
    if (!set_connection_property(s.connection, prop_id, value)) {
      if (prop_id == PROP_READ_AHEAD)
        s.read_ahead = g_value_get_uint(value);
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static void gst_s3_src_get_property(GObject *object, guint prop_id, GValue *value,
                                    GParamSpec *pspec) {
  auto *self = GST_S3_SRC(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    const Settings &s = self->priv->settings;
    if (!get_connection_property(s.connection, prop_id, value)) {
      if (prop_id == PROP_READ_AHEAD)
        g_value_set_uint(value, s.read_ahead);
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static gboolean gst_s3_src_start(GstBaseSrc *src) {
  auto *self = GST_S3_SRC(src);
  return REELFORGE_GUARD(self, FALSE, [&] {
    start_streaming(self);
    return TRUE;
  });
}

static gboolean gst_s3_src_stop(GstBaseSrc *src) {
  auto *self = GST_S3_SRC(src);
  return REELFORGE_GUARD(self, FALSE, [&] {
    self->priv->client.reset();
    self->priv->cache.reset();
    return TRUE;
  });
}

static gboolean gst_s3_src_get_size(GstBaseSrc *src, guint64 *size) {
  auto *self = GST_S3_SRC(src);
  if (!self->priv->client) return FALSE;
  *size = self->priv->size;
  return TRUE;
}

static gboolean gst_s3_src_is_seekable(GstBaseSrc *) {
  return TRUE;
}

static GstFlowReturn gst_s3_src_create(GstBaseSrc *src, guint64 offset, guint length,
                                       GstBuffer **buffer) {
  auto *self = GST_S3_SRC(src);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    try {
      return create(self, offset, length, buffer);
    } catch (const Flushing &) {
      return GST_FLOW_FLUSHING;
    }
  });
}

static gboolean gst_s3_src_unlock(GstBaseSrc *src) {
  auto *self = GST_S3_SRC(src);
  /* The streaming thread waits in a GET: cancel it. */
  if (self->priv->client) self->priv->client->cancel_all();
  return TRUE;
}

static void gst_s3_src_finalize(GObject *object) {
  auto *self = GST_S3_SRC(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_s3_src_init(GstS3Src *self) {
  self->priv = new GstS3SrcPrivate;
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_BYTES);
  gst_base_src_set_blocksize(GST_BASE_SRC(self), 64 * 1024);
}

static void gst_s3_src_class_init(GstS3SrcClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);
  auto *src_class = GST_BASE_SRC_CLASS(klass);

  gobject_class->set_property = gst_s3_src_set_property;
  gobject_class->get_property = gst_s3_src_get_property;
  gobject_class->finalize = gst_s3_src_finalize;

  install_connection_properties(gobject_class);
  /**
   * GstS3Src:read-ahead:
   *
   * Least bytes fetched by one ranged GET; reads inside them need no
   * request.
   */
  g_object_class_install_property(
      gobject_class, PROP_READ_AHEAD,
      g_param_spec_uint("read-ahead", "Read-ahead", "Least bytes fetched by one ranged GET", 4096,
                        256 * 1024 * 1024, DEFAULT_READ_AHEAD,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_READY)));

  gst_element_class_set_static_metadata(
      element_class, "S3 source", "Source/Network",
      "Reads an S3 object with ranged GETs (SigV4); seekable, random-access",
      "Reelforge <https://reelforge.invalid/>");
  gst_element_class_add_static_pad_template(element_class, &src_template);

  src_class->start = gst_s3_src_start;
  src_class->stop = gst_s3_src_stop;
  src_class->get_size = gst_s3_src_get_size;
  src_class->is_seekable = gst_s3_src_is_seekable;
  src_class->create = gst_s3_src_create;
  src_class->unlock = gst_s3_src_unlock;
}

static GstURIType gst_s3_src_uri_get_type(GType) {
  return GST_URI_SRC;
}

static const gchar *const *gst_s3_src_uri_get_protocols(GType) {
  return reelforge::s3::uri_protocols();
}

static gchar *gst_s3_src_uri_get_uri(GstURIHandler *handler) {
  auto *self = GST_S3_SRC(handler);
  return reelforge::s3::get_uri_locked(GST_OBJECT(self), self->priv->settings.connection);
}

static gboolean gst_s3_src_uri_set_uri(GstURIHandler *handler, const gchar *uri, GError **error) {
  auto *self = GST_S3_SRC(handler);
  return reelforge::s3::set_uri_locked(GST_OBJECT(self), self->priv->settings.connection, uri,
                                       error);
}

static void gst_s3_src_uri_handler_init(gpointer iface, gpointer) {
  auto *handler = static_cast<GstURIHandlerInterface *>(iface);
  handler->get_type = gst_s3_src_uri_get_type;
  handler->get_protocols = gst_s3_src_uri_get_protocols;
  handler->get_uri = gst_s3_src_uri_get_uri;
  handler->set_uri = gst_s3_src_uri_set_uri;
}
