/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-environment.h"

#include <gst/video/video.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace reelforge::test {

namespace {

/* GLib criticals and warnings mean a bug; make them fail the running test
 * instead of scrolling by. */
void fail_on_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer) {
  g_log_default_handler(domain, level, message, nullptr);
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR)) {
    ADD_FAILURE() << "GLib " << (level & G_LOG_LEVEL_WARNING ? "warning" : "critical") << " from "
                  << (domain ? domain : "(default)") << ": " << message;
  }
}

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    /* meson test puts the build tree's plugins on GST_PLUGIN_PATH; a private
     * registry keeps the user's cache out of it. */
    gst_init(nullptr, nullptr);
    for (const char *domain : {"GStreamer", "GLib", "GLib-GObject", "GLib-GIO", "Json"}) {
      g_log_set_handler(domain,
                        static_cast<GLogLevelFlags>(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING),
                        fail_on_log, nullptr);
    }
    g_log_set_default_handler(fail_on_log, nullptr);
  }
};

}  // namespace

std::vector<const GstStructure *> PipelineRun::messages(const std::string &name) const {
  std::vector<const GstStructure *> found;
  for (const auto &s : element_messages)
    if (gst_structure_has_name(s.get(), name.c_str())) found.push_back(s.get());
  return found;
}

PipelineRun run_pipeline(const std::string &description, GstClockTime timeout) {
  GError *raw_error = nullptr;
  GstElement *parsed = gst_parse_launch(description.c_str(), &raw_error);
  GErrorPtr error(raw_error);
  if (parsed == nullptr || error) {
    ADD_FAILURE() << "cannot parse \"" << description
                  << "\": " << (error ? error->message : "unknown error");
    if (parsed) gst_object_unref(parsed);
    return {};
  }
  auto pipeline = adopt_floating(parsed);
  return run_pipeline(pipeline.get(), timeout);
}

PipelineRun run_pipeline(GstElement *pipeline, GstClockTime timeout) {
  PipelineRun run;
  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline));
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The error message, if any, is on the bus. */
    run.error = "state change to PLAYING failed";
  }
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(timeout / GST_USECOND);
  while (true) {
    const gint64 left_us = deadline - g_get_monotonic_time();
    if (left_us <= 0) {
      ADD_FAILURE() << "pipeline did not reach EOS within " << timeout / GST_SECOND << " s";
      break;
    }
    MessagePtr message(gst_bus_timed_pop_filtered(
        bus.get(), static_cast<GstClockTime>(left_us) * GST_USECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT)));
    if (!message) continue;
    if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_ELEMENT) {
      run.element_messages.emplace_back(
          gst_structure_copy(gst_message_get_structure(message.get())));
    } else if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_ERROR) {
      GError *raw_error = nullptr;
      gst_message_parse_error(message.get(), &raw_error, nullptr);
      GErrorPtr error(raw_error);
      run.error = error->message;
      break;
    } else {
      run.reached_eos = true;
      break;
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return run;
}

void paint_frames(GstElement *pipeline, const char *source_name, guint64 first, guint64 last,
                  guint8 luma) {
  struct Paint {
    guint64 first, last;
    guint8 luma;
    guint64 index = 0;
  };
  GstObjectPtr<GstElement> source(gst_bin_get_by_name(GST_BIN(pipeline), source_name));
  ASSERT_NE(source, nullptr) << "no element named " << source_name;
  GstObjectPtr<GstPad> pad(gst_element_get_static_pad(source.get(), "src"));
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *probe_pad, GstPadProbeInfo *info, gpointer data) {
        auto *paint = static_cast<Paint *>(data);
        const guint64 index = paint->index++;
        if (index < paint->first || index >= paint->last) return GST_PAD_PROBE_OK;
        CapsPtr caps(gst_pad_get_current_caps(probe_pad));
        GstVideoInfo video_info;
        gst_video_info_from_caps(&video_info, caps.get());
        GstBuffer *buffer = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
        GST_PAD_PROBE_INFO_DATA(info) = buffer;
        GstVideoFrame frame;
        gst_video_frame_map(&frame, &video_info, buffer, GST_MAP_WRITE);
        for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES(&frame); ++plane) {
          const gsize size = static_cast<gsize>(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane)) *
                             GST_VIDEO_FRAME_COMP_HEIGHT(&frame, plane);
          memset(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane), plane == 0 ? paint->luma : 128, size);
        }
        gst_video_frame_unmap(&frame);
        return GST_PAD_PROBE_OK;
      },
      new Paint{first, last, luma}, [](gpointer data) { delete static_cast<Paint *>(data); });
}

void preroll_and_seek(GstElement *pipeline, GstClockTime position) {
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(gst_element_get_state(pipeline, nullptr, nullptr, 10 * GST_SECOND),
            GST_STATE_CHANGE_SUCCESS);
  ASSERT_TRUE(gst_element_seek_simple(
      pipeline, GST_FORMAT_TIME,
      static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), position));
}

TempDir::TempDir() {
  GError *raw_error = nullptr;
  GCharPtr dir(g_dir_make_tmp("reelforge-test-XXXXXX", &raw_error));
  GErrorPtr error(raw_error);
  if (!dir)
    throw std::runtime_error(std::string("cannot make a temporary folder: ") + error->message);
  path_ = dir.get();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

int run_command(const std::string &command_line, std::string *output, bool merge_stderr) {
  const std::string full = merge_stderr ? command_line + " 2>&1" : command_line;
  FILE *pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, pipe)) > 0)
    if (output) output->append(chunk, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string shell_quote(const std::string &text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

ProgramResult reelforge(const std::vector<std::string> &args) {
  const char *program = g_getenv("REELFORGE_BIN");
  EXPECT_NE(program, nullptr) << "REELFORGE_BIN is not set (meson test sets it)";
  std::string command = shell_quote(program ? program : "reelforge");
  for (const auto &arg : args) command += " " + shell_quote(arg);
  ProgramResult result;
  result.status = run_command(command, &result.output, true);
  return result;
}

guint64 get_uint64(const GstStructure *s, const char *field) {
  guint64 value = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, field, &value))
      << gst_structure_get_name(s) << " has no guint64 field " << field;
  return value;
}

gdouble get_double(const GstStructure *s, const char *field) {
  gdouble value = 0;
  EXPECT_TRUE(gst_structure_get_double(s, field, &value))
      << gst_structure_get_name(s) << " has no double field " << field;
  return value;
}

std::string get_string(const GstStructure *s, const char *field) {
  const char *value = gst_structure_get_string(s, field);
  EXPECT_NE(value, nullptr) << gst_structure_get_name(s) << " has no string field " << field;
  return value ? value : "";
}

std::filesystem::path source_dir() {
  const char *dir = g_getenv("REELFORGE_SOURCE_DIR");
  return dir ? dir : ".";
}

const std::string &test_clip_bytes(double seconds, int width, int height) {
  static std::mutex mutex;
  static std::map<std::string, std::string> clips;
  static TempDir dir;
  std::lock_guard lock(mutex);
  const std::string name =
      std::to_string(seconds) + "-" + std::to_string(width) + "x" + std::to_string(height) + ".mp4";
  if (auto it = clips.find(name); it != clips.end()) return it->second;
  const std::string path = dir.file(name);
  const PipelineRun run = run_pipeline(
      "videotestsrc num-buffers=" + std::to_string(static_cast<int>(seconds * 24)) +
      " pattern=smpte ! video/x-raw,width=" + std::to_string(width) +
      ",height=" + std::to_string(height) +
      ",framerate=24/1 ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location=" + path);
  EXPECT_TRUE(run.reached_eos) << run.error;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return clips[name] = bytes.str();
}

}  // namespace reelforge::test

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new reelforge::test::GstEnvironment);
  return RUN_ALL_TESTS();
}
