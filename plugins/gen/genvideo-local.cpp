/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "genvideo-local.h"

#include "genvideo-provider.h"
#include "gst-ptr.h"
#include "http-client.h"

#include <cairo.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

namespace reelforge::gen {

namespace {

struct SurfaceDeleter {
  void operator()(cairo_surface_t *s) const noexcept { cairo_surface_destroy(s); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;

struct Rgb {
  double r, g, b;
};

Rgb hsv(double h, double s, double v) {
  h = std::fmod(h, 1.0) * 6;
  const int i = static_cast<int>(h);
  const double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  switch (i % 6) {
    case 0:
      return {v, t, p};
    case 1:
      return {q, v, p};
    case 2:
      return {p, v, t};
    case 3:
      return {p, q, v};
    case 4:
      return {t, p, v};
    default:
      return {v, p, q};
  }
}

double smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3 - 2 * x);
}

[[noreturn]] void fail(const std::string &message) {
  throw GenError(ErrorClass::kFatal, "local: " + message);
}

/* Decodes a still image (any format GStreamer reads) into a Cairo surface. */
SurfacePtr decode_image(const std::string &reference) {
  std::string uri = reference;
  if (const std::string path = local_image_path(reference); !path.empty()) {
    GCharPtr file_uri(g_filename_to_uri(path.c_str(), nullptr, nullptr));
    if (!file_uri) fail("image: cannot make a URI of " + path);
    uri = file_uri.get();
  }
  GstElement *pipeline_raw = gst_pipeline_new("genvideo-local-image");
  auto pipeline = adopt_floating(pipeline_raw);
  GstElement *decode = gst_element_factory_make("uridecodebin", nullptr);
  GstElement *convert = gst_element_factory_make("videoconvert", nullptr);
  GstElement *sink = gst_element_factory_make("appsink", nullptr);
  if (!decode || !convert || !sink) fail("missing uridecodebin, videoconvert or appsink");
  gst_bin_add_many(GST_BIN(pipeline.get()), decode, convert, sink, nullptr);
  CapsPtr caps(gst_caps_from_string("video/x-raw,format=BGRx"));
  g_object_set(sink, "caps", caps.get(), "sync", FALSE, nullptr);
  g_object_set(decode, "uri", uri.c_str(), nullptr);
  gst_element_link(convert, sink);
  g_signal_connect(
      decode, "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer c) {
        GstObjectPtr<GstPad> sink_pad(gst_element_get_static_pad(GST_ELEMENT(c), "sink"));
        if (!gst_pad_is_linked(sink_pad.get())) gst_pad_link(pad, sink_pad.get());
      }),
      convert);
  gst_element_set_state(pipeline.get(), GST_STATE_PAUSED);
  SamplePtr sample(gst_app_sink_try_pull_preroll(GST_APP_SINK(sink), 20 * GST_SECOND));
  if (!sample) {
    GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
    MessagePtr message(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    std::string why = "not an image GStreamer can decode";
    if (message) {
      GError *error = nullptr;
      gst_message_parse_error(message.get(), &error, nullptr);
      GErrorPtr owned(error);
      if (error) why = error->message;
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    fail("image: cannot read " + reference + ": " + why);
  }
  GstCaps *sample_caps = gst_sample_get_caps(sample.get());
  gint width = 0, height = 0;
  GstStructure *s = gst_caps_get_structure(sample_caps, 0);
  gst_structure_get_int(s, "width", &width);
  gst_structure_get_int(s, "height", &height);
  GstBuffer *buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    const int src_stride = static_cast<int>(map.size / std::max(1, height));
    const int dst_stride = cairo_image_surface_get_stride(surface.get());
    cairo_surface_flush(surface.get());
    unsigned char *dst = cairo_image_surface_get_data(surface.get());
    for (int y = 0; y < height; ++y)
      std::memcpy(dst + y * dst_stride, map.data + y * src_stride,
                  static_cast<size_t>(std::min(src_stride, dst_stride)));
    cairo_surface_mark_dirty(surface.get());
    gst_buffer_unmap(buffer, &map);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return surface;
}

class FrameRenderer {
 public:
  FrameRenderer(const GenRequest &request, int width, int height)
      : request_(request), width_(width), height_(height) {
    if (!request.image.empty()) first_ = decode_image(request.image);
    if (!request.last_image.empty()) last_ = decode_image(request.last_image);
    const std::string key = request.key();
    hue_ = static_cast<double>(std::stoul(key.substr(0, 6), nullptr, 16)) / 0xffffff;
  }

  /* Draws the frame at progress t (0..1) into data (BGRx, stride 4*width). */
  void draw(unsigned char *data, double t) const {
    SurfacePtr surface(
        cairo_image_surface_create_for_data(data, CAIRO_FORMAT_RGB24, width_, height_, width_ * 4));
    cairo_t *cr = cairo_create(surface.get());
    if (first_) {
      ken_burns(cr, first_.get(), t, 1.0);
      if (last_) ken_burns(cr, last_.get(), t, smoothstep((t - 0.2) / 0.6));
    } else {
      card(cr, t);
    }
    cairo_destroy(cr);
    cairo_surface_flush(surface.get());
  }

 private:
  void ken_burns(cairo_t *cr, cairo_surface_t *image, double t, double alpha) const {
    if (alpha <= 0) return;
    const double iw = cairo_image_surface_get_width(image);
    const double ih = cairo_image_surface_get_height(image);
    const double cover = std::max(width_ / iw, height_ / ih);
    const double scale = cover * (1.0 + 0.18 * t);
    const double sw = iw * scale, sh = ih * scale;
    const double dx = -(sw - width_) * (0.25 + 0.5 * t);
    const double dy = -(sh - height_) * (0.6 - 0.2 * t);
    cairo_save(cr);
    cairo_translate(cr, dx, dy);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, image, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    cairo_paint_with_alpha(cr, alpha);
    cairo_restore(cr);
  }

  void card(cairo_t *cr, double t) const {
    const double w = width_, h = height_;
    const Rgb a = hsv(hue_, 0.65, 0.85), b = hsv(hue_ + 0.35, 0.75, 0.45);
    /* A gradient whose axis turns through the clip. */
    const double angle = 0.9 + 1.4 * t, radius = std::hypot(w, h) / 2;
    cairo_pattern_t *gradient = cairo_pattern_create_linear(
        w / 2 - radius * std::cos(angle), h / 2 - radius * std::sin(angle),
        w / 2 + radius * std::cos(angle), h / 2 + radius * std::sin(angle));
    cairo_pattern_add_color_stop_rgb(gradient, 0, a.r, a.g, a.b);
    cairo_pattern_add_color_stop_rgb(gradient, 1, b.r, b.g, b.b);
    cairo_set_source(cr, gradient);
    cairo_paint(cr);
    cairo_pattern_destroy(gradient);
    /* A soft light drifting across. */
    const double lx = w * (0.15 + 0.7 * t), ly = h * (0.3 + 0.25 * std::sin(t * G_PI * 2));
    cairo_pattern_t *light = cairo_pattern_create_radial(lx, ly, 0, lx, ly, w * 0.6);
    cairo_pattern_add_color_stop_rgba(light, 0, 1, 1, 1, 0.45);
    cairo_pattern_add_color_stop_rgba(light, 1, 1, 1, 1, 0);
    cairo_set_source(cr, light);
    cairo_paint(cr);
    cairo_pattern_destroy(light);
    /* The title, growing slowly. */
    if (request_.prompt.empty()) return;
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *font = pango_font_description_from_string("Sans Bold");
    pango_font_description_set_absolute_size(font, std::max(8.0, w / 13) * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_width(layout, static_cast<int>(w * 0.8 * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
    pango_layout_set_height(layout, static_cast<int>(-6));
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_text(layout, request_.prompt.c_str(), -1);
    int lw = 0, lh = 0;
    pango_layout_get_pixel_size(layout, &lw, &lh);
    const double zoom = 1.0 + 0.08 * t;
    cairo_save(cr);
    cairo_translate(cr, w / 2, h / 2);
    cairo_scale(cr, zoom, zoom);
    cairo_translate(cr, -w * 0.4, -lh / 2.0);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.5);
    cairo_move_to(cr, 3, 3);
    pango_cairo_show_layout(cr, layout);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, 0, 0);
    pango_cairo_show_layout(cr, layout);
    cairo_restore(cr);
    g_object_unref(layout);
  }

  const GenRequest &request_;
  int width_, height_;
  SurfacePtr first_, last_;
  double hue_ = 0;
};

struct Feeder {
  const FrameRenderer *renderer;
  int width, height;
  guint64 frames;
  guint64 next = 0;
  const std::function<void(double)> *progress;
};

void need_data(GstAppSrc *src, guint, gpointer data) {
  auto *feeder = static_cast<Feeder *>(data);
  if (feeder->next >= feeder->frames) {
    gst_app_src_end_of_stream(src);
    return;
  }
  const gsize size = static_cast<gsize>(feeder->width) * feeder->height * 4;
  GstBuffer *buffer = gst_buffer_new_allocate(nullptr, size, nullptr);
  GstMapInfo map;
  if (gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
    const double t = feeder->frames > 1 ? static_cast<double>(feeder->next) /
                                              static_cast<double>(feeder->frames - 1)
                                        : 0;
    feeder->renderer->draw(map.data, t);
    gst_buffer_unmap(buffer, &map);
  }
  GST_BUFFER_PTS(buffer) =
      gst_util_uint64_scale(feeder->next, GST_SECOND, static_cast<guint64>(kLocalFramerate));
  GST_BUFFER_DURATION(buffer) =
      gst_util_uint64_scale(feeder->next + 1, GST_SECOND, static_cast<guint64>(kLocalFramerate)) -
      GST_BUFFER_PTS(buffer);
  ++feeder->next;
  gst_app_src_push_buffer(src, buffer);
  if (*feeder->progress)
    (*feeder->progress)(static_cast<double>(feeder->next) / static_cast<double>(feeder->frames));
}

}  // namespace

void render_local_clip(const GenRequest &request, const std::string &path,
                       GCancellable *cancellable, const std::function<void(double)> &progress) {
  const auto [width, height] = request.frame_size();
  const double duration = request.duration_s > 0 ? request.duration_s : kLocalDefaultDuration;
  FrameRenderer renderer(request, width, height);
  Feeder feeder{
      &renderer, width,
      height,    static_cast<guint64>(std::max(1L, std::lround(duration * kLocalFramerate))),
      0,         &progress};

  GError *raw_error = nullptr;
  GstElement *parsed = gst_parse_launch(
      "appsrc name=src format=time ! videoconvert ! video/x-raw,format=I420 ! "
      "x264enc speed-preset=ultrafast bframes=0 key-int-max=24 ! "
      "video/x-h264,profile=constrained-baseline ! mp4mux faststart=true ! filesink name=sink",
      &raw_error);
  GErrorPtr error(raw_error);
  if (!parsed || error) {
    if (parsed) gst_object_unref(parsed);
    fail(std::string("cannot build the encoder (x264enc, mp4mux installed?): ") +
         (error ? error->message : ""));
  }
  auto pipeline = adopt_floating(parsed);
  GstObjectPtr<GstElement> src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  g_object_set(sink.get(), "location", path.c_str(), nullptr);
  CapsPtr caps(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGRx", "width",
                                   G_TYPE_INT, width, "height", G_TYPE_INT, height, "framerate",
                                   GST_TYPE_FRACTION, kLocalFramerate, 1, "pixel-aspect-ratio",
                                   GST_TYPE_FRACTION, 1, 1, nullptr));
  g_object_set(src.get(), "caps", caps.get(), "max-bytes", static_cast<guint64>(width) * height * 8,
               nullptr);
  GstAppSrcCallbacks callbacks{};
  callbacks.need_data = need_data;
  gst_app_src_set_callbacks(GST_APP_SRC(src.get()), &callbacks, &feeder, nullptr);

  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    fail("cannot start the encoder pipeline");
  }
  std::string failure;
  bool cancelled = false;
  while (true) {
    if (cancellable && g_cancellable_is_cancelled(cancellable)) {
      cancelled = true;
      break;
    }
    MessagePtr message(gst_bus_timed_pop_filtered(
        bus.get(), 50 * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    if (!message) continue;
    if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_EOS) break;
    GError *err = nullptr;
    gst_message_parse_error(message.get(), &err, nullptr);
    GErrorPtr owned(err);
    failure = err ? err->message : "unknown error";
    break;
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  if (cancelled) throw http::Cancelled();
  if (!failure.empty()) fail("encoding failed: " + failure);
}

}  // namespace reelforge::gen
