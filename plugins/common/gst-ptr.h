/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Owning smart pointers for GLib, GObject and GStreamer references, so no
 * code path has to remember an unref.
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <memory>

namespace reelforge {

struct GFreeDeleter {
  void operator()(gpointer p) const noexcept { g_free(p); }
};
struct GErrorDeleter {
  void operator()(GError *e) const noexcept { g_error_free(e); }
};
struct GObjectDeleter {
  void operator()(gpointer p) const noexcept { g_object_unref(p); }
};
struct GstObjectDeleter {
  void operator()(gpointer p) const noexcept { gst_object_unref(p); }
};
struct MiniObjectDeleter {
  void operator()(gpointer p) const noexcept { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); }
};
struct StructureDeleter {
  void operator()(GstStructure *s) const noexcept { gst_structure_free(s); }
};
struct JsonNodeDeleter {
  void operator()(JsonNode *n) const noexcept { json_node_unref(n); }
};
struct GBytesDeleter {
  void operator()(GBytes *b) const noexcept { g_bytes_unref(b); }
};

/* g_malloc'ed memory: strings from g_strdup_printf(), gst_caps_to_string()... */
using GCharPtr = std::unique_ptr<gchar, GFreeDeleter>;
using GErrorPtr = std::unique_ptr<GError, GErrorDeleter>;
using StructurePtr = std::unique_ptr<GstStructure, StructureDeleter>;
using JsonNodePtr = std::unique_ptr<JsonNode, JsonNodeDeleter>;
using GBytesPtr = std::unique_ptr<GBytes, GBytesDeleter>;

/* A plain GObject (JsonParser, GFile, ...). */
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectDeleter>;

/* A GstObject (element, pad, bus). Use adopt_floating() for a new element. */
template <typename T>
using GstObjectPtr = std::unique_ptr<T, GstObjectDeleter>;

/* A GstMiniObject (buffer, caps, event, message, sample). */
template <typename T>
using MiniObjectPtr = std::unique_ptr<T, MiniObjectDeleter>;

using CapsPtr = MiniObjectPtr<GstCaps>;
using BufferPtr = MiniObjectPtr<GstBuffer>;
using MessagePtr = MiniObjectPtr<GstMessage>;
using EventPtr = MiniObjectPtr<GstEvent>;
using SamplePtr = MiniObjectPtr<GstSample>;

/* Takes ownership of a newly created, possibly floating, GstObject. */
template <typename T>
GstObjectPtr<T> adopt_floating(T *object) {
  return GstObjectPtr<T>(static_cast<T *>(gst_object_ref_sink(object)));
}

/* Takes a new strong reference to an object someone else owns. */
template <typename T>
GstObjectPtr<T> ref_object(T *object) {
  return GstObjectPtr<T>(static_cast<T *>(gst_object_ref(object)));
}

}  // namespace reelforge
