/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-s3sink
 * @title: s3sink
 * @short_description: streams its input to an S3 object (multipart upload)
 *
 * Writes the stream to `s3://bucket/key` on AWS S3 or any S3-compatible
 * service (MinIO, R2, s3rver) while it arrives: every #GstS3Sink:part-size
 * bytes become one part of a multipart upload, sent asynchronously on the
 * element's own HTTP thread (libsoup 3) so upstream does not wait on the
 * network. Memory stays bounded: the part being filled plus at most
 * #GstS3Sink:max-inflight parts in flight; when all slots are busy the
 * streaming thread waits. The part size grows (doubling every 1000 parts,
 * and from the start when upstream knows the size in bytes) so an object
 * never needs more than 10,000 parts.
 *
 * At EOS the upload is completed (CompleteMultipartUpload); a stream that
 * never filled one part is sent with a single PUT. The object becomes
 * visible only then. On an error (upstream or ours), a flush, or a state
 * change to NULL/READY without EOS, #GstS3Sink:on-error decides: `abort`
 * (the default) deletes the uploaded parts so **no object appears**;
 * `complete` keeps what was written as the object.
 *
 * Requests are signed with AWS Signature Version 4; failed requests
 * (network errors, 5xx, 429) are retried with exponential backoff
 * (#GstS3Sink:retry-attempts, #GstS3Sink:request-timeout). Credentials come
 * from the properties, else the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL),
 * else the profile (AWS_PROFILE or `default`) in ~/.aws/credentials and
 * ~/.aws/config. Secrets are write-only properties and never logged.
 *
 * Errors name the object (`s3://bucket/key`), the request and the server's
 * reason. Note that nothing is sent before the first part fills (or EOS),
 * so a missing bucket or wrong credentials show up then.
 *
 * Once the object exists the element posts one element message named
 * `s3sink-complete`, before EOS goes on, with these fields:
 *
 * - `uri` (#gchararray): `s3://bucket/key`.
 * - `size` (#guint64): bytes in the object.
 * - `etag` (#gchararray): the object's ETag as the server returned it.
 * - `parts` (#guint): number of parts (1 for a single PUT).
 * - `multipart` (#gboolean): whether a multipart upload was used.
 * - `timestamp` (#guint64): PTS of the first buffer, in ns (0 if unknown).
 * - `stream-time`, `running-time` (#guint64): of `timestamp`, in ns.
 * - `duration` (#guint64): from the first buffer's PTS to the end of the
 *   last one, in ns (#GST_CLOCK_TIME_NONE if unknown).
 *
 * The read-only #GstS3Sink:peak-buffered-bytes tells the most memory the
 * element held for parts at any time.
 *
 * ## Example launch line
 * |[
 * s3rver -d /tmp/s3 -p 4568 --configure-bucket clips &
 * gst-launch-1.0 -m videotestsrc num-buffers=100 ! x264enc ! mp4mux ! \
 *     s3sink uri=s3://clips/test.mp4 endpoint=http://localhost:4568 \
 *     access-key-id=S3RVER secret-access-key=S3RVER
 * ]| uploads an MP4 to a local s3rver and prints the `s3sink-complete`
 * message.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsts3sink.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "s3-client.h"
#include "s3-element-settings.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_STATIC(gst_s3_sink_debug);
#define GST_CAT_DEFAULT gst_s3_sink_debug

using reelforge::ElementError;
using reelforge::GBytesPtr;
using namespace reelforge::s3;

namespace {

enum {
  PROP_PART_SIZE = PROP_CONNECTION_LAST,
  PROP_MAX_INFLIGHT,
  PROP_ON_ERROR,
  PROP_CONTENT_TYPE,
  PROP_METADATA,
  PROP_STORAGE_CLASS,
  PROP_ACL,
  PROP_PEAK_BUFFERED_BYTES,
};

constexpr guint64 MIN_PART_SIZE = 5 * 1024 * 1024; /* S3's minimum but for the last */
/* S3 allows 5 GiB; a GByteArray holds at most 4 GiB. */
constexpr guint64 MAX_PART_SIZE = 4ull * 1024 * 1024 * 1024 - 1024 * 1024;
constexpr guint MAX_PARTS = 10000;
constexpr guint64 DEFAULT_PART_SIZE = 8 * 1024 * 1024;
constexpr guint DEFAULT_MAX_INFLIGHT = 2;
constexpr GstS3SinkOnError DEFAULT_ON_ERROR = GST_S3_SINK_ON_ERROR_ABORT;

GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

struct Settings {
  ConnectionSettings connection;
  guint64 part_size = DEFAULT_PART_SIZE;
  guint max_inflight = DEFAULT_MAX_INFLIGHT;
  GstS3SinkOnError on_error = DEFAULT_ON_ERROR;
  std::string content_type;
  reelforge::StructurePtr metadata;
  std::string storage_class;
  std::string acl;

  Settings() = default;
  Settings(const Settings &o)
      : connection(o.connection),
        part_size(o.part_size),
        max_inflight(o.max_inflight),
        on_error(o.on_error),
        content_type(o.content_type),
        metadata(o.metadata ? gst_structure_copy(o.metadata.get()) : nullptr),
        storage_class(o.storage_class),
        acl(o.acl) {}
  Settings &operator=(const Settings &o) {
    Settings copy(o);
    std::swap(connection, copy.connection);
    part_size = copy.part_size;
    max_inflight = copy.max_inflight;
    on_error = copy.on_error;
    std::swap(content_type, copy.content_type);
    std::swap(metadata, copy.metadata);
    std::swap(storage_class, copy.storage_class);
    std::swap(acl, copy.acl);
    return *this;
  }
};

struct GByteArrayDeleter {
  void operator()(GByteArray *a) const noexcept { g_byte_array_unref(a); }
};
using ByteArrayPtr = std::unique_ptr<GByteArray, GByteArrayDeleter>;

/* What the upload callbacks (on the client's thread) and the streaming
 * thread share; guarded by Upload::mutex. */
struct Upload {
  std::mutex mutex;
  std::condition_variable changed;
  guint inflight = 0;
  guint64 buffered_bytes = 0; /* filling part + parts in flight */
  guint64 peak_buffered_bytes = 0;
  std::string error; /* first failure of an asynchronous part */
  std::map<guint, std::string> etags;
  bool unlocking = false; /* basesink's unlock(): stop waiting for a slot */

  void account(gint64 delta) {
    buffered_bytes = static_cast<guint64>(static_cast<gint64>(buffered_bytes) + delta);
    peak_buffered_bytes = std::max(peak_buffered_bytes, buffered_bytes);
  }
};

}  // namespace

struct GstS3SinkPrivate {
  /* Properties; guarded by the object lock. */
  Settings settings;

  /* Streaming state: the streaming thread, and start()/stop(). */
  Settings active;
  S3Target target;
  std::unique_ptr<S3Client> client;
  std::string caps_content_type;
  std::string upload_id;
  guint next_part = 1;
  guint64 base_part_size = DEFAULT_PART_SIZE;
  ByteArrayPtr filling;
  guint64 total_bytes = 0;
  bool finished = true; /* completed, aborted, or nothing started */
  GstClockTime first_pts = GST_CLOCK_TIME_NONE;
  GstClockTime last_end = GST_CLOCK_TIME_NONE;

  Upload upload;

  /* An error anywhere in the pipeline: an EOS after it (basesrc pushes one
   * after a flow error) must not complete the upload. */
  std::atomic<bool> pipeline_error{false};
  reelforge::GstObjectPtr<GstBus> watched_bus;
  gulong error_handler = 0;
};

struct _GstS3Sink {
  GstBaseSink parent;
  GstS3SinkPrivate *priv;
};

static void gst_s3_sink_uri_handler_init(gpointer iface, gpointer data);

#define gst_s3_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstS3Sink, gst_s3_sink, GST_TYPE_BASE_SINK,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER, gst_s3_sink_uri_handler_init);
                        GST_DEBUG_CATEGORY_INIT(gst_s3_sink_debug, "s3sink", 0, "S3 sink"));
GST_ELEMENT_REGISTER_DEFINE(s3sink, "s3sink", GST_RANK_PRIMARY, GST_TYPE_S3_SINK);

GType gst_s3_sink_on_error_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_S3_SINK_ON_ERROR_ABORT, "Abort the multipart upload: no object appears", "abort"},
      {GST_S3_SINK_ON_ERROR_COMPLETE, "Complete the upload with what was written", "complete"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType registered = g_enum_register_static("GstS3SinkOnError", values);
    g_once_init_leave(&type, registered);
  }
  return type;
}

namespace {

/* Thrown out of a wait that unlock() interrupted. */
struct Flushing {};

ElementError write_error(const std::string &message) {
  return ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, message);
}

std::string object_uri(GstS3Sink *self) {
  return format_s3_uri(self->priv->target.bucket, self->priv->target.key);
}

/* video/quicktime -> video/mp4 and the like; empty when unknown. */
std::string content_type_of_caps(GstCaps *caps) {
  if (!caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return "";
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const std::string name = gst_structure_get_name(s);
  if (name == "video/quicktime") {
    const char *variant = gst_structure_get_string(s, "variant");
    return variant && g_str_equal(variant, "apple") ? "video/quicktime" : "video/mp4";
  }
  if (name == "video/x-matroska") return "video/x-matroska";
  if (name == "video/webm") return "video/webm";
  if (name == "video/mpegts") return "video/mp2t";
  if (name == "image/jpeg" || name == "image/png" || name == "application/json") return name;
  if (name == "audio/mpeg") return "audio/mpeg";
  if (name == "audio/x-wav") return "audio/wav";
  if (name == "text/x-raw") return "text/plain; charset=utf-8";
  return "";
}

/* From the key's extension, when caps say nothing useful. */
std::string content_type_of_key(const std::string &key) {
  static const std::pair<const char *, const char *> kTypes[] = {
      {".mp4", "video/mp4"},   {".m4a", "audio/mp4"},        {".mov", "video/quicktime"},
      {".webm", "video/webm"}, {".mkv", "video/x-matroska"}, {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"}, {".png", "image/png"},        {".json", "application/json"},
      {".txt", "text/plain"},  {".wav", "audio/wav"},        {".ts", "video/mp2t"},
  };
  for (const auto &[ext, type] : kTypes)
    if (key.size() > strlen(ext) && g_str_has_suffix(key.c_str(), ext)) return type;
  return "application/octet-stream";
}

/* Headers of the object: type, metadata, storage class, ACL. */
NameValues object_headers(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  NameValues headers;
  std::string type = p.active.content_type;
  if (type.empty()) type = p.caps_content_type;
  if (type.empty()) type = content_type_of_key(p.target.key);
  headers.emplace_back("Content-Type", type);
  if (p.active.metadata) {
    const GstStructure *md = p.active.metadata.get();
    for (gint i = 0; i < gst_structure_n_fields(md); ++i) {
      const char *name = gst_structure_nth_field_name(md, i);
      const GValue *value = gst_structure_get_value(md, name);
      std::string text;
      if (G_VALUE_HOLDS_STRING(value)) {
        text = g_value_get_string(value) ? g_value_get_string(value) : "";
      } else {
        reelforge::GCharPtr serialised(gst_value_serialize(value));
        text = serialised ? serialised.get() : "";
      }
      headers.emplace_back(std::string("x-amz-meta-") + name, text);
    }
  }
  if (!p.active.storage_class.empty())
    headers.emplace_back("x-amz-storage-class", p.active.storage_class);
  if (!p.active.acl.empty()) headers.emplace_back("x-amz-acl", p.active.acl);
  return headers;
}

guint64 part_size_for(const GstS3SinkPrivate &p, guint part_number) {
  /* Doubling every 1000 parts keeps 10,000 parts enough for any object S3
   * accepts (5 TiB) from 5 MiB parts on. */
  const guint doublings = (part_number - 1) / 1000;
  guint64 size = p.base_part_size << std::min<guint>(doublings, 20);
  return std::min(size, MAX_PART_SIZE);
}

void new_filling(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  /* A whole part up front, so appending never reallocates and copies; the
   * pages of a mostly empty part (a thumbnail) are never touched. */
  p.filling.reset(g_byte_array_sized_new(static_cast<guint>(part_size_for(p, p.next_part))));
}

void on_pipeline_error(GstBus *, GstMessage *message, gpointer data) {
  auto *self = static_cast<GstS3Sink *>(data);
  if (!self->priv->pipeline_error.exchange(true))
    GST_INFO_OBJECT(self, "error from %s: the upload will not complete at EOS",
                    GST_MESSAGE_SRC_NAME(message));
}

/* Watches the top-level pipeline's bus for errors (sync-message emission
 * is shared with other listeners, unlike the sync handler). */
void watch_pipeline_errors(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  p.pipeline_error = false;
  GstElement *top = GST_ELEMENT(self);
  while (GST_OBJECT_PARENT(top) && GST_IS_ELEMENT(GST_OBJECT_PARENT(top)))
    top = GST_ELEMENT(GST_OBJECT_PARENT(top));
  GstBus *bus = gst_element_get_bus(top);
  if (!bus) return;
  p.watched_bus.reset(bus);
  gst_bus_enable_sync_message_emission(bus);
  p.error_handler =
      g_signal_connect(bus, "sync-message::error", G_CALLBACK(on_pipeline_error), self);
}

void unwatch_pipeline_errors(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  if (!p.watched_bus) return;
  g_signal_handler_disconnect(p.watched_bus.get(), p.error_handler);
  gst_bus_disable_sync_message_emission(p.watched_bus.get());
  p.error_handler = 0;
  p.watched_bus.reset();
}

void start_streaming(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
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
  p.client =
      std::make_unique<S3Client>(p.target, p.active.connection.policy(p.active.max_inflight + 2));
  p.upload_id.clear();
  p.next_part = 1;
  p.base_part_size = std::max(p.active.part_size, MIN_PART_SIZE);
  p.total_bytes = 0;
  p.finished = false;
  p.first_pts = GST_CLOCK_TIME_NONE;
  p.last_end = GST_CLOCK_TIME_NONE;
  new_filling(self);
  watch_pipeline_errors(self);
  {
    std::lock_guard<std::mutex> lock(p.upload.mutex);
    p.upload.inflight = 0;
    p.upload.buffered_bytes = 0;
    p.upload.peak_buffered_bytes = 0;
    p.upload.error.clear();
    p.upload.etags.clear();
  }
  GST_INFO_OBJECT(
      self,
      "uploading to %s (endpoint %s, region %s, part size %" G_GUINT64_FORMAT ", %u in flight)",
      object_uri(self).c_str(), p.target.endpoint.empty() ? "AWS" : p.target.endpoint.c_str(),
      p.target.region.c_str(), p.base_part_size, p.active.max_inflight);
}

void create_upload(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  S3Request request;
  request.method = "POST";
  request.key = p.target.key;
  request.query = {{"uploads", ""}};
  request.headers = object_headers(self);
  request.what = "CreateMultipartUpload";
  S3Response response = p.client->send(request);
  if (!response.ok()) throw write_error(response.error);
  p.upload_id = xml_value(response.body, "UploadId");
  if (p.upload_id.empty())
    throw write_error(object_uri(self) + ": CreateMultipartUpload returned no UploadId");
  GST_DEBUG_OBJECT(self, "multipart upload %s started", p.upload_id.c_str());
}

void throw_if_failed(GstS3Sink *self) {
  std::lock_guard<std::mutex> lock(self->priv->upload.mutex);
  if (!self->priv->upload.error.empty()) throw write_error(self->priv->upload.error);
}

/* Sends the filling part asynchronously once a slot is free; waits for
 * one (the bound on memory) when all max-inflight are busy. */
void send_part(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  if (p.upload_id.empty()) create_upload(self);
  if (p.next_part > MAX_PARTS)
    throw write_error(object_uri(self) + ": more than 10000 parts; raise part-size");
  {
    std::unique_lock<std::mutex> lock(p.upload.mutex);
    p.upload.changed.wait(lock, [&] {
      return p.upload.inflight < p.active.max_inflight || !p.upload.error.empty() ||
             p.upload.unlocking;
    });
    if (!p.upload.error.empty()) throw write_error(p.upload.error);
    if (p.upload.unlocking) throw Flushing();
    ++p.upload.inflight;
  }
  const guint part = p.next_part++;
  const guint64 size = p.filling->len;
  GBytesPtr bytes(g_byte_array_free_to_bytes(p.filling.release()));
  new_filling(self);

  S3Request request;
  request.method = "PUT";
  request.key = p.target.key;
  request.query = {{"partNumber", std::to_string(part)}, {"uploadId", p.upload_id}};
  request.body = bytes.get();
  request.what = "upload part " + std::to_string(part);
  GST_DEBUG_OBJECT(self, "sending part %u (%" G_GUINT64_FORMAT " bytes)", part, size);
  Upload *upload = &p.upload;
  p.client->send_async(request, [upload, part, size](S3Response response) {
    std::lock_guard<std::mutex> lock(upload->mutex);
    --upload->inflight;
    upload->account(-static_cast<gint64>(size));
    if (response.ok())
      upload->etags[part] = response.etag;
    else if (upload->error.empty() && !response.cancelled)
      upload->error = response.error;
    upload->changed.notify_all();
  });
}

void wait_for_parts(GstS3Sink *self) {
  Upload &u = self->priv->upload;
  std::unique_lock<std::mutex> lock(u.mutex);
  u.changed.wait(lock, [&] { return u.inflight == 0; });
}

void append(GstS3Sink *self, const guint8 *data, gsize size) {
  GstS3SinkPrivate &p = *self->priv;
  while (size > 0) {
    const guint64 target = part_size_for(p, p.next_part);
    const gsize room = static_cast<gsize>(target - p.filling->len);
    const gsize n = std::min(room, size);
    g_byte_array_append(p.filling.get(), data, static_cast<guint>(n));
    {
      std::lock_guard<std::mutex> lock(p.upload.mutex);
      p.upload.account(static_cast<gint64>(n));
    }
    p.total_bytes += n;
    data += n;
    size -= n;
    if (p.filling->len >= target) send_part(self);
  }
}

GstFlowReturn render(GstS3Sink *self, GstBuffer *buffer) {
  GstS3SinkPrivate &p = *self->priv;
  throw_if_failed(self);
  if (p.total_bytes == 0 && p.next_part == 1) {
    /* Upstream that knows its size lets the parts start large enough. */
    gint64 total = -1;
    if (gst_pad_peer_query_duration(GST_BASE_SINK_PAD(self), GST_FORMAT_BYTES, &total) &&
        total > 0) {
      const guint64 needed = (static_cast<guint64>(total) + MAX_PARTS - 1) / MAX_PARTS;
      p.base_part_size = std::max(p.base_part_size, std::min(needed, MAX_PART_SIZE));
    }
  }
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (GST_CLOCK_TIME_IS_VALID(pts)) {
    if (!GST_CLOCK_TIME_IS_VALID(p.first_pts)) p.first_pts = pts;
    const GstClockTime end =
        pts + (GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : 0);
    if (!GST_CLOCK_TIME_IS_VALID(p.last_end) || end > p.last_end) p.last_end = end;
  }
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "cannot map a buffer");
  try {
    append(self, map.data, map.size);
  } catch (...) {
    gst_buffer_unmap(buffer, &map);
    throw;
  }
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

void post_complete(GstS3Sink *self, const std::string &etag, guint parts, bool multipart) {
  GstS3SinkPrivate &p = *self->priv;
  const GstClockTime start = GST_CLOCK_TIME_IS_VALID(p.first_pts) ? p.first_pts : 0;
  const GstClockTime duration =
      GST_CLOCK_TIME_IS_VALID(p.first_pts) && GST_CLOCK_TIME_IS_VALID(p.last_end)
          ? p.last_end - p.first_pts
          : GST_CLOCK_TIME_NONE;
  /* Time fields only mean something for a TIME segment; muxers and
   * filesrc send BYTES ones. */
  const GstSegment &segment = GST_BASE_SINK(self)->segment;
  GstStructure *s =
      segment.format == GST_FORMAT_TIME
          ? reelforge::new_analysis_structure("s3sink-complete", segment, start, duration)
          : gst_structure_new("s3sink-complete", "timestamp", G_TYPE_UINT64, start, "stream-time",
                              G_TYPE_UINT64, GST_CLOCK_TIME_NONE, "running-time", G_TYPE_UINT64,
                              GST_CLOCK_TIME_NONE, "duration", G_TYPE_UINT64, duration, nullptr);
  gst_structure_set(s, "uri", G_TYPE_STRING, object_uri(self).c_str(), "size", G_TYPE_UINT64,
                    p.total_bytes, "etag", G_TYPE_STRING, etag.c_str(), "parts", G_TYPE_UINT, parts,
                    "multipart", G_TYPE_BOOLEAN, multipart, nullptr);
  reelforge::post_element_message(GST_ELEMENT(self), s);
}

/* Makes the object from everything written so far: a single PUT when no
 * part was sent, else the last part and CompleteMultipartUpload. */
void complete_upload(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  if (p.upload_id.empty()) {
    S3Request request;
    request.method = "PUT";
    request.key = p.target.key;
    request.headers = object_headers(self);
    GBytesPtr bytes(g_bytes_new(p.filling->data, p.filling->len));
    request.body = bytes.get();
    request.what = "PUT";
    S3Response response = p.client->send(request);
    if (!response.ok()) throw write_error(response.error);
    p.finished = true;
    GST_INFO_OBJECT(self, "%s written with one PUT (%" G_GUINT64_FORMAT " bytes)",
                    object_uri(self).c_str(), p.total_bytes);
    post_complete(self, response.etag, 1, false);
    return;
  }
  if (p.filling->len > 0) send_part(self);
  wait_for_parts(self);
  throw_if_failed(self);

  std::string xml = "<CompleteMultipartUpload>";
  guint parts = 0;
  {
    std::lock_guard<std::mutex> lock(p.upload.mutex);
    for (const auto &[number, etag] : p.upload.etags) {
      xml += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + etag +
             "</ETag></Part>";
      ++parts;
    }
  }
  xml += "</CompleteMultipartUpload>";
  GBytesPtr body(g_bytes_new(xml.data(), xml.size()));
  S3Request request;
  request.method = "POST";
  request.key = p.target.key;
  request.query = {{"uploadId", p.upload_id}};
  request.headers = {{"Content-Type", "application/xml"}};
  request.body = body.get();
  request.what = "CompleteMultipartUpload";
  S3Response response = p.client->send(request);
  /* S3 may answer 200 with an <Error> document. */
  if (response.ok() && !xml_value(response.body, "Code").empty())
    throw write_error(object_uri(self) +
                      ": CompleteMultipartUpload failed: " + xml_value(response.body, "Code") +
                      ": " + xml_value(response.body, "Message"));
  if (!response.ok()) throw write_error(response.error);
  p.finished = true;
  std::string etag = xml_value(response.body, "ETag");
  if (etag.empty()) etag = response.etag;
  /* &quot; in the XML */
  for (std::string::size_type at; (at = etag.find("&quot;")) != std::string::npos;)
    etag.replace(at, 6, "\"");
  GST_INFO_OBJECT(self, "%s completed: %u parts, %" G_GUINT64_FORMAT " bytes",
                  object_uri(self).c_str(), parts, p.total_bytes);
  post_complete(self, etag, parts, true);
}

void abort_upload(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  p.client->cancel_all();
  wait_for_parts(self);
  p.finished = true;
  if (p.upload_id.empty()) return;
  S3Request request;
  request.method = "DELETE";
  request.key = p.target.key;
  request.query = {{"uploadId", p.upload_id}};
  request.what = "AbortMultipartUpload";
  S3Response response = p.client->send(request);
  if (!response.ok()) {
    GST_WARNING_OBJECT(self, "%s", response.error.c_str());
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s", response.error.c_str()),
                        ("the parts stay until a lifecycle rule or a later abort removes them; "
                         "no object was created"));
  } else {
    GST_INFO_OBJECT(self, "%s: multipart upload aborted, no object", object_uri(self).c_str());
  }
}

/* The stream ended without EOS (error, flush, state change): on-error
 * says whether what was written becomes the object. */
void conclude_without_eos(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  if (p.finished || !p.client) return;
  if (p.active.on_error == GST_S3_SINK_ON_ERROR_COMPLETE && p.total_bytes > 0) {
    GST_INFO_OBJECT(self, "no EOS: completing %s with the %" G_GUINT64_FORMAT " bytes written",
                    object_uri(self).c_str(), p.total_bytes);
    try {
      complete_upload(self);
      return;
    } catch (const std::exception &e) {
      GST_WARNING_OBJECT(self, "cannot complete: %s", e.what());
      GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("%s", e.what()), (nullptr));
    }
  }
  GST_INFO_OBJECT(self, "no EOS: aborting %s", object_uri(self).c_str());
  abort_upload(self);
}

void stop_streaming(GstS3Sink *self) {
  GstS3SinkPrivate &p = *self->priv;
  unwatch_pipeline_errors(self);
  conclude_without_eos(self);
  p.client.reset();
  p.filling.reset();
  std::lock_guard<std::mutex> lock(p.upload.mutex);
  p.upload.buffered_bytes = 0;
}

}  // namespace

static void gst_s3_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                     GParamSpec *pspec) {
  auto *self = GST_S3_SINK(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    Settings &s = self->priv->settings;
    {
      if (!set_connection_property(s.connection, prop_id, value)) {
        switch (prop_id) {
          case PROP_PART_SIZE:
            s.part_size = g_value_get_uint64(value);
            break;
          case PROP_MAX_INFLIGHT:
            s.max_inflight = g_value_get_uint(value);
            break;
          case PROP_ON_ERROR:
            s.on_error = static_cast<GstS3SinkOnError>(g_value_get_enum(value));
            break;
          case PROP_CONTENT_TYPE:
            s.content_type = g_value_get_string(value) ? g_value_get_string(value) : "";
            break;
          case PROP_METADATA: {
            const GstStructure *md = gst_value_get_structure(value);
            s.metadata.reset(md ? gst_structure_copy(md) : nullptr);
            break;
          }
          case PROP_STORAGE_CLASS:
            s.storage_class = g_value_get_string(value) ? g_value_get_string(value) : "";
            break;
          case PROP_ACL:
            s.acl = g_value_get_string(value) ? g_value_get_string(value) : "";
            break;
          default:
            G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
            break;
        }
      }
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static void gst_s3_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec) {
  auto *self = GST_S3_SINK(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GstS3SinkPrivate &p = *self->priv;
    if (prop_id == PROP_PEAK_BUFFERED_BYTES) {
      std::lock_guard<std::mutex> lock(p.upload.mutex);
      g_value_set_uint64(value, p.upload.peak_buffered_bytes);
      return;
    }
    GST_OBJECT_LOCK(self);
    const Settings &s = p.settings;
    if (!get_connection_property(s.connection, prop_id, value)) {
      switch (prop_id) {
        case PROP_PART_SIZE:
          g_value_set_uint64(value, s.part_size);
          break;
        case PROP_MAX_INFLIGHT:
          g_value_set_uint(value, s.max_inflight);
          break;
        case PROP_ON_ERROR:
          g_value_set_enum(value, s.on_error);
          break;
        case PROP_CONTENT_TYPE:
          g_value_set_string(value, s.content_type.empty() ? nullptr : s.content_type.c_str());
          break;
        case PROP_METADATA:
          gst_value_set_structure(value, s.metadata.get());
          break;
        case PROP_STORAGE_CLASS:
          g_value_set_string(value, s.storage_class.empty() ? nullptr : s.storage_class.c_str());
          break;
        case PROP_ACL:
          g_value_set_string(value, s.acl.empty() ? nullptr : s.acl.c_str());
          break;
        default:
          G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
          break;
      }
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static gboolean gst_s3_sink_start(GstBaseSink *sink) {
  auto *self = GST_S3_SINK(sink);
  return REELFORGE_GUARD(self, FALSE, [&] {
    start_streaming(self);
    return TRUE;
  });
}

static gboolean gst_s3_sink_stop(GstBaseSink *sink) {
  auto *self = GST_S3_SINK(sink);
  return REELFORGE_GUARD(self, FALSE, [&] {
    stop_streaming(self);
    return TRUE;
  });
}

static gboolean gst_s3_sink_set_caps(GstBaseSink *sink, GstCaps *caps) {
  auto *self = GST_S3_SINK(sink);
  return REELFORGE_GUARD(self, FALSE, [&] {
    self->priv->caps_content_type = content_type_of_caps(caps);
    return TRUE;
  });
}

static GstFlowReturn gst_s3_sink_render(GstBaseSink *sink, GstBuffer *buffer) {
  auto *self = GST_S3_SINK(sink);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    try {
      return render(self, buffer);
    } catch (const Flushing &) {
      return GST_FLOW_FLUSHING;
    }
  });
}

static gboolean gst_s3_sink_unlock(GstBaseSink *sink) {
  auto *self = GST_S3_SINK(sink);
  Upload &u = self->priv->upload;
  std::lock_guard<std::mutex> lock(u.mutex);
  u.unlocking = true;
  u.changed.notify_all();
  return TRUE;
}

static gboolean gst_s3_sink_unlock_stop(GstBaseSink *sink) {
  auto *self = GST_S3_SINK(sink);
  Upload &u = self->priv->upload;
  std::lock_guard<std::mutex> lock(u.mutex);
  u.unlocking = false;
  return TRUE;
}

static gboolean gst_s3_sink_event(GstBaseSink *sink, GstEvent *event) {
  auto *self = GST_S3_SINK(sink);
  const bool handled_ok = REELFORGE_GUARD(self, false, [&] {
    try {
      GstS3SinkPrivate &p = *self->priv;
      switch (GST_EVENT_TYPE(event)) {
        case GST_EVENT_EOS:
          if (p.pipeline_error) {
            /* The application stops the pipeline after an error; stop()
             * then applies on-error. */
            GST_INFO_OBJECT(self, "EOS after an error in the pipeline: not a complete stream");
          } else if (!p.finished) {
            complete_upload(self);
          }
          break;
        case GST_EVENT_FLUSH_STOP:
          /* A flush breaks the byte stream: finish this upload as on-error
           * says; what follows starts a new one. */
          if (!p.finished && p.total_bytes > 0) {
            conclude_without_eos(self);
            p.client = std::make_unique<S3Client>(
                p.target, p.active.connection.policy(p.active.max_inflight + 2));
            p.upload_id.clear();
            p.next_part = 1;
            p.total_bytes = 0;
            p.finished = false;
            new_filling(self);
            std::lock_guard<std::mutex> lock(p.upload.mutex);
            p.upload.error.clear();
            p.upload.etags.clear();
            p.upload.buffered_bytes = 0;
          }
          break;
        default:
          break;
      }
      return true;
    } catch (const Flushing &) {
      return false;
    }
  });
  if (!handled_ok) {
    gst_event_unref(event);
    return FALSE;
  }
  return GST_BASE_SINK_CLASS(parent_class)->event(sink, event);
}

static gboolean gst_s3_sink_query(GstBaseSink *sink, GstQuery *query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_SEEKING) {
    /* Bytes already sent cannot be rewritten: muxers must not seek back. */
    GstFormat format;
    gst_query_parse_seeking(query, &format, nullptr, nullptr, nullptr);
    gst_query_set_seeking(query, format, FALSE, 0, -1);
    return TRUE;
  }
  return GST_BASE_SINK_CLASS(parent_class)->query(sink, query);
}

static void gst_s3_sink_finalize(GObject *object) {
  auto *self = GST_S3_SINK(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_s3_sink_init(GstS3Sink *self) {
  self->priv = new GstS3SinkPrivate;
  gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
  gst_base_sink_set_async_enabled(GST_BASE_SINK(self), FALSE);
}

static void gst_s3_sink_class_init(GstS3SinkClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);
  auto *sink_class = GST_BASE_SINK_CLASS(klass);

  gobject_class->set_property = gst_s3_sink_set_property;
  gobject_class->get_property = gst_s3_sink_get_property;
  gobject_class->finalize = gst_s3_sink_finalize;

  install_connection_properties(gobject_class);
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);

  /**
   * GstS3Sink:part-size:
   *
   * Bytes per part of the multipart upload (5 MiB to 4 GiB - 1 MiB); grows by
   * itself so an object needs at most 10,000 parts.
   */
  g_object_class_install_property(
      gobject_class, PROP_PART_SIZE,
      g_param_spec_uint64("part-size", "Part size",
                          "Bytes per uploaded part (S3: at least 5 MiB); grows by itself so an "
                          "object needs at most 10000 parts",
                          MIN_PART_SIZE, MAX_PART_SIZE, DEFAULT_PART_SIZE, flags));
  /**
   * GstS3Sink:max-inflight:
   *
   * Parts uploading at once besides the one being filled; memory is at
   * most part-size × (max-inflight + 1).
   */
  g_object_class_install_property(
      gobject_class, PROP_MAX_INFLIGHT,
      g_param_spec_uint("max-inflight", "Parts in flight",
                        "Parts uploading at once besides the one being filled", 1, 64,
                        DEFAULT_MAX_INFLIGHT, flags));
  g_object_class_install_property(
      gobject_class, PROP_ON_ERROR,
      g_param_spec_enum("on-error", "On error",
                        "What happens to the upload when the stream ends without EOS",
                        GST_TYPE_S3_SINK_ON_ERROR, DEFAULT_ON_ERROR, flags));
  g_object_class_install_property(
      gobject_class, PROP_CONTENT_TYPE,
      g_param_spec_string("content-type", "Content type",
                          "The object's Content-Type; unset: from the caps, else the key's "
                          "extension",
                          nullptr, flags));
  g_object_class_install_property(
      gobject_class, PROP_METADATA,
      g_param_spec_boxed("metadata", "Metadata",
                         "User metadata: each field becomes an x-amz-meta-<name> header",
                         GST_TYPE_STRUCTURE, flags));
  g_object_class_install_property(
      gobject_class, PROP_STORAGE_CLASS,
      g_param_spec_string("storage-class", "Storage class",
                          "x-amz-storage-class (STANDARD, INTELLIGENT_TIERING, ...); unset: the "
                          "bucket's default",
                          nullptr, flags));
  g_object_class_install_property(
      gobject_class, PROP_ACL,
      g_param_spec_string("acl", "ACL", "Canned ACL (x-amz-acl: private, public-read, ...)",
                          nullptr, flags));
  /**
   * GstS3Sink:peak-buffered-bytes:
   *
   * The most bytes held at once for the part being filled and the parts in
   * flight since the element started.
   */
  g_object_class_install_property(
      gobject_class, PROP_PEAK_BUFFERED_BYTES,
      g_param_spec_uint64("peak-buffered-bytes", "Peak buffered bytes",
                          "Most bytes held at once for parts (filling and in flight)", 0,
                          G_MAXUINT64, 0,
                          static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(
      element_class, "S3 sink", "Sink/Network",
      "Streams its input to an S3 object with a multipart upload (SigV4); posts "
      "'s3sink-complete' (uri, size, etag, parts, plus timestamp, stream-time, running-time, "
      "duration); on error the upload is aborted (no object) or completed (on-error)",
      "Reelforge <https://reelforge.invalid/>");
  gst_element_class_add_static_pad_template(element_class, &sink_template);

  sink_class->start = gst_s3_sink_start;
  sink_class->stop = gst_s3_sink_stop;
  sink_class->set_caps = gst_s3_sink_set_caps;
  sink_class->render = gst_s3_sink_render;
  sink_class->unlock = gst_s3_sink_unlock;
  sink_class->unlock_stop = gst_s3_sink_unlock_stop;
  sink_class->event = gst_s3_sink_event;
  sink_class->query = gst_s3_sink_query;

  gst_type_mark_as_plugin_api(GST_TYPE_S3_SINK_ON_ERROR, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_S3_URL_STYLE, static_cast<GstPluginAPIFlags>(0));
}

/* s3://bucket/key */

static GstURIType gst_s3_sink_uri_get_type(GType) {
  return GST_URI_SINK;
}

static const gchar *const *gst_s3_sink_uri_get_protocols(GType) {
  return reelforge::s3::uri_protocols();
}

static gchar *gst_s3_sink_uri_get_uri(GstURIHandler *handler) {
  auto *self = GST_S3_SINK(handler);
  return reelforge::s3::get_uri_locked(GST_OBJECT(self), self->priv->settings.connection);
}

static gboolean gst_s3_sink_uri_set_uri(GstURIHandler *handler, const gchar *uri, GError **error) {
  auto *self = GST_S3_SINK(handler);
  return reelforge::s3::set_uri_locked(GST_OBJECT(self), self->priv->settings.connection, uri,
                                       error);
}

static void gst_s3_sink_uri_handler_init(gpointer iface, gpointer) {
  auto *handler = static_cast<GstURIHandlerInterface *>(iface);
  handler->get_type = gst_s3_sink_uri_get_type;
  handler->get_protocols = gst_s3_sink_uri_get_protocols;
  handler->get_uri = gst_s3_sink_uri_get_uri;
  handler->set_uri = gst_s3_sink_uri_set_uri;
}
