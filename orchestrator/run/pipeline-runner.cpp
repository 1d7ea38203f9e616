/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "run/pipeline-runner.h"

#include "time-convert.h"

#include <glib-unix.h>

#include <csignal>

#include <optional>
#include <vector>

namespace reelforge::run {

namespace {

struct LoopState {
  GMainLoop *loop = nullptr;
  GstElement *pipeline = nullptr;
  const RunOptions *options = nullptr;
  std::optional<std::string> error;
  std::exception_ptr callback_error;
  bool interrupted = false;
};

/* Runs a caller's callback on the main loop; an exception stops the loop
 * and is rethrown after it (none may cross the C frame). */
template <typename Callback>
void call_back(LoopState *state, Callback &&callback) {
  try {
    callback();
  } catch (...) {
    state->callback_error = std::current_exception();
    g_main_loop_quit(state->loop);
  }
}

std::string describe_error(GstMessage *message) {
  GError *raw_error = nullptr;
  gchar *raw_debug = nullptr;
  gst_message_parse_error(message, &raw_error, &raw_debug);
  GErrorPtr error(raw_error);
  GCharPtr debug(raw_debug);
  return error->message;
}

gboolean on_bus_message(GstBus *, GstMessage *message, gpointer user_data) {
  auto *state = static_cast<LoopState *>(user_data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      g_main_loop_quit(state->loop);
      break;
    case GST_MESSAGE_ERROR:
      state->error = describe_error(message);
      g_main_loop_quit(state->loop);
      break;
    case GST_MESSAGE_ELEMENT:
      if (state->options->on_element_message)
        call_back(state, [&] { state->options->on_element_message(message); });
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

gboolean on_timeout(gpointer user_data) {
  auto *state = static_cast<LoopState *>(user_data);
  state->error = "did not finish within " + format_time(state->options->timeout);
  g_main_loop_quit(state->loop);
  return G_SOURCE_REMOVE;
}

gboolean on_progress_tick(gpointer user_data) {
  auto *state = static_cast<LoopState *>(user_data);
  gint64 position = -1, duration = -1;
  gst_element_query_position(state->pipeline, GST_FORMAT_TIME, &position);
  gst_element_query_duration(state->pipeline, GST_FORMAT_TIME, &duration);
  call_back(state, [&] {
    state->options->on_progress(position < 0 ? GST_CLOCK_TIME_NONE : GstClockTime(position),
                                duration < 0 ? GST_CLOCK_TIME_NONE : GstClockTime(duration));
  });
  return G_SOURCE_CONTINUE;
}

gboolean on_signal(gpointer user_data) {
  auto *state = static_cast<LoopState *>(user_data);
  state->interrupted = true;
  g_main_loop_quit(state->loop);
  return G_SOURCE_CONTINUE;
}

/* Owns a thread-default main context and the sources attached to it. */
struct MainContextScope {
  GMainContext *context = g_main_context_new();
  std::vector<GSource *> sources;

  MainContextScope() { g_main_context_push_thread_default(context); }
  ~MainContextScope() {
    for (GSource *source : sources) {
      g_source_destroy(source);
      g_source_unref(source);
    }
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
  }
  MainContextScope(const MainContextScope &) = delete;
  MainContextScope &operator=(const MainContextScope &) = delete;

  void attach(GSource *source, GSourceFunc callback, gpointer data) {
    g_source_set_callback(source, callback, data, nullptr);
    g_source_attach(source, context);
    sources.push_back(source);
  }
};

}  // namespace

void run_pipeline(const std::string &description, const RunOptions &options) {
  GError *raw_error = nullptr;
  GstElement *parsed =
      gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw_error);
  GErrorPtr error(raw_error);
  if (parsed == nullptr || error) {
    if (parsed) gst_object_unref(parsed);
    throw PipelineError(std::string("cannot build the pipeline: ") +
                        (error ? error->message : "unknown error"));
  }
  GstObjectPtr<GstElement> pipeline = adopt_floating(parsed);
  if (options.on_parsed) options.on_parsed(pipeline.get());

  /* A private context so a caller's own main loop is not disturbed. */
  MainContextScope scope;
  LoopState state;
  state.loop = g_main_loop_new(scope.context, FALSE);
  state.options = &options;
  state.pipeline = pipeline.get();

  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  scope.attach(gst_bus_create_watch(bus.get()), G_SOURCE_FUNC(on_bus_message), &state);
  if (options.timeout > 0)
    scope.attach(g_timeout_source_new(static_cast<guint>(options.timeout / GST_MSECOND)),
                 on_timeout, &state);

  if (options.on_progress)
    scope.attach(g_timeout_source_new(static_cast<guint>(options.progress_interval / GST_MSECOND)),
                 on_progress_tick, &state);
  if (options.stop_on_signals) {
    scope.attach(g_unix_signal_source_new(SIGINT), on_signal, &state);
    scope.attach(g_unix_signal_source_new(SIGTERM), on_signal, &state);
  }

  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    /* The reason, when there is one, is an error message on the bus. */
    MessagePtr pending(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    state.error = pending ? describe_error(pending.get()) : "the pipeline could not start";
  } else {
    g_main_loop_run(state.loop);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  g_main_loop_unref(state.loop);

  if (state.interrupted) throw Interrupted("interrupted");
  if (state.callback_error) std::rethrow_exception(state.callback_error);
  if (state.error) throw PipelineError(*state.error);
}

}  // namespace reelforge::run
