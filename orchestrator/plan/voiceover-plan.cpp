/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "plan/voiceover-plan.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "plan/render-plan.h"

#include <gst/app/gstappsink.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace reelforge::plan {

namespace {

constexpr GstClockTime kSynthesisTimeout = 300 * GST_SECOND;
/* A page stays up this long after its last word when speech pauses. */
constexpr double kPageLinger_s = 0.6;

std::string colour_text(const spec::Colour &c) {
  char text[16];
  std::snprintf(text, sizeof text, "#%02X%02X%02X%02X", c.r, c.g, c.b, c.a);
  return text;
}

std::string number_text(double value) {
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd(text, sizeof text, "%.6g", value);
}

/* captionoverlay names the middle of an edge "<edge>-center". */
std::string caption_anchor(spec::Anchor anchor) {
  switch (anchor) {
    case spec::Anchor::kTop:
      return "top-center";
    case spec::Anchor::kBottom:
      return "bottom-center";
    case spec::Anchor::kLeft:
      return "center-left";
    case spec::Anchor::kRight:
      return "center-right";
    default:
      return std::string(spec::name_of(anchor));
  }
}

GstFlowReturn collect_word(GstAppSink *sink, gpointer user_data) {
  auto *words = static_cast<std::vector<TimedWord> *>(user_data);
  SamplePtr sample(gst_app_sink_pull_sample(sink));
  if (!sample) return GST_FLOW_EOS;
  GstBuffer *buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return GST_FLOW_ERROR;
  TimedWord word;
  word.text.assign(reinterpret_cast<const char *>(map.data), map.size);
  gst_buffer_unmap(buffer, &map);
  word.start_s = static_cast<double>(GST_BUFFER_PTS(buffer)) / GST_SECOND;
  word.end_s = word.start_s + static_cast<double>(GST_BUFFER_DURATION(buffer)) / GST_SECOND;
  words->push_back(std::move(word));
  return GST_FLOW_OK;
}

GstElement *make(const char *factory, const char *name) {
  GstElement *element = gst_element_factory_make(factory, name);
  if (!element)
    throw PlanError(std::string("/audio/voiceover: the ") + factory +
                    " element is missing; a spoken voiceover needs the reelgen plugin "
                    "(build with -Dreelgen=enabled, and put it on GST_PLUGIN_PATH)");
  return element;
}

/* The JSON of one page's style, scaled from a 1080-wide frame to width. */
void write_style(JsonBuilder *b, const spec::Captions &captions, int width) {
  const spec::TextStyle &style = captions.text_style;
  const double scale = width / 1080.0;
  auto member = [b](const char *name, const std::string &value) {
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value.c_str());
  };
  auto number = [b](const char *name, double value) {
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, value);
  };
  json_builder_set_member_name(b, "style");
  json_builder_begin_object(b);
  member("font", style.font);
  number("size", style.size * scale);
  number("min_size", style.size * scale * 0.6);
  member("color", colour_text(style.color));
  member("highlight_color", colour_text(captions.highlight_color));
  if (style.stroke) {
    json_builder_set_member_name(b, "stroke");
    json_builder_begin_object(b);
    member("color", colour_text(style.stroke->color));
    number("width", style.stroke->width * scale);
    json_builder_end_object(b);
  }
  if (style.shadow) {
    json_builder_set_member_name(b, "shadow");
    json_builder_begin_object(b);
    member("color", colour_text(style.shadow->color));
    number("dx", style.shadow->offset_x * scale);
    number("dy", style.shadow->offset_y * scale);
    json_builder_end_object(b);
  }
  if (style.box) {
    json_builder_set_member_name(b, "box");
    json_builder_begin_object(b);
    member("color", colour_text(style.box->color));
    number("padding", style.box->padding * scale);
    json_builder_end_object(b);
  }
  member("anchor", caption_anchor(style.anchor));
  number("max_width", 0.9);
  json_builder_end_object(b);
}

bool ends_sentence(const std::string &word) {
  return !word.empty() && (word.back() == '.' || word.back() == '!' || word.back() == '?');
}

/* The cache-files array of a ttssrc-done message. */
std::vector<std::filesystem::path> cache_files(const GstStructure *done) {
  std::vector<std::filesystem::path> files;
  const GValue *array = gst_structure_get_value(done, "cache-files");
  if (!array || !GST_VALUE_HOLDS_ARRAY(array)) return files;
  for (guint i = 0; i < gst_value_array_get_size(array); ++i) {
    const GValue *file = gst_value_array_get_value(array, i);
    if (G_VALUE_HOLDS_STRING(file)) files.emplace_back(g_value_get_string(file));
  }
  return files;
}

}  // namespace

std::string tts_cache_dir() {
  if (const char *dir = g_getenv("REELFORGE_TTS_CACHE"); dir && *dir) return dir;
  return (std::filesystem::path(g_get_user_cache_dir()) / "reelforge" / "tts").string();
}

VoiceoverTiming time_voiceover(const spec::SpokenVoiceover &voiceover,
                               const std::string &cache_dir) {
  auto pipeline = adopt_floating(gst_pipeline_new("voiceover-timing"));
  GstElement *tts = make("ttssrc", "tts");
  GstElement *audio = make("fakesink", nullptr);
  GstElement *captions = make("appsink", nullptr);
  gst_bin_add_many(GST_BIN(pipeline.get()), tts, audio, captions, nullptr);
  g_object_set(tts, "text", voiceover.text.c_str(), "backend", voiceover.backend.c_str(), "voice",
               voiceover.voice.c_str(), "language", voiceover.language.c_str(), "speed",
               voiceover.speed, "model", voiceover.model.c_str(), "cache-dir", cache_dir.c_str(),
               nullptr);
  g_object_set(audio, "sync", FALSE, nullptr);
  g_object_set(captions, "sync", FALSE, nullptr);
  if (!gst_element_link_pads(tts, "src", audio, "sink") ||
      !gst_element_link_pads(tts, "captions", captions, "sink"))
    throw PlanError("/audio/voiceover: cannot link ttssrc");

  VoiceoverTiming timing;
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = collect_word;
  gst_app_sink_set_callbacks(GST_APP_SINK(captions), &callbacks, &timing.words, nullptr);

  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  std::string failure;
  bool done = false;
  while (!done) {
    MessagePtr message(gst_bus_timed_pop_filtered(
        bus.get(), kSynthesisTimeout,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT)));
    if (!message) {
      failure =
          "speaking it took longer than " + std::to_string(kSynthesisTimeout / GST_SECOND) + " s";
      break;
    }
    switch (GST_MESSAGE_TYPE(message.get())) {
      case GST_MESSAGE_ELEMENT: {
        const GstStructure *s = gst_message_get_structure(message.get());
        if (!gst_structure_has_name(s, "ttssrc-done")) break;
        guint64 duration = 0;
        if (gst_structure_get_uint64(s, "duration", &duration))
          timing.duration_s = static_cast<double>(duration) / GST_SECOND;
        timing.cache_files = cache_files(s);
        break;
      }
      case GST_MESSAGE_ERROR: {
        GError *raw_error = nullptr;
        gst_message_parse_error(message.get(), &raw_error, nullptr);
        GErrorPtr error(raw_error);
        failure = error->message;
        done = true;
        break;
      }
      default:
        done = true;
        break;
    }
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  if (!failure.empty()) throw PlanError("/audio/voiceover: " + failure);
  if (timing.words.empty() || timing.duration_s <= 0)
    throw PlanError("/audio/voiceover: ttssrc spoke no words");
  return timing;
}

std::vector<double> fit_scenes_to(const spec::JobSpec &job, std::vector<double> lengths,
                                  double target_s) {
  double fixed = 0, stretchable = 0, overlaps = 0;
  for (size_t i = 0; i < job.scenes.size(); ++i) {
    if (std::holds_alternative<spec::ClipSource>(job.scenes[i].source))
      fixed += lengths[i];
    else
      stretchable += lengths[i];
    if (i > 0) overlaps += job.scenes[i].transition.overlap_s();
  }
  const double factor = stretchable > 0 ? (target_s + overlaps - fixed) / stretchable : 0;
  if (factor <= 0)
    throw PlanError("/duration: the voiceover lasts " + number_text(target_s) +
                    " s but the clip scenes alone last " + number_text(fixed - overlaps) +
                    " s, and only image and card scenes can be stretched; add an image or card "
                    "scene or remove duration \"voiceover\"");
  for (size_t i = 0; i < job.scenes.size(); ++i) {
    if (std::holds_alternative<spec::ClipSource>(job.scenes[i].source)) continue;
    lengths[i] *= factor;
    const double in = job.scenes[i].transition.overlap_s();
    const double out = i + 1 < job.scenes.size() ? job.scenes[i + 1].transition.overlap_s() : 0;
    if (lengths[i] <= in + out)
      throw PlanError("/duration: fitting the scenes to the " + number_text(target_s) +
                      " s voiceover leaves /scenes/" + std::to_string(i) + " " +
                      number_text(lengths[i]) +
                      " s, too short for its transitions; use fewer scenes or shorter "
                      "transitions");
  }
  return lengths;
}

std::string caption_cues_json(const spec::Captions &captions, const VoiceoverTiming &timing,
                              double duration_s, int width) {
  /* Pages: at most max_words words, ending early at a sentence end. */
  std::vector<std::vector<const TimedWord *>> pages;
  for (const TimedWord &word : timing.words) {
    if (word.start_s >= duration_s) break;
    if (pages.empty() || static_cast<int>(pages.back().size()) >= captions.max_words ||
        ends_sentence(pages.back().back()->text))
      pages.emplace_back();
    pages.back().push_back(&word);
  }

  GObjectPtr<JsonBuilder> builder(json_builder_new());
  JsonBuilder *b = builder.get();
  json_builder_begin_array(b);
  for (size_t p = 0; p < pages.size(); ++p) {
    const std::vector<const TimedWord *> &page = pages[p];
    const double start = page.front()->start_s;
    double end = std::min(page.back()->end_s + kPageLinger_s, duration_s);
    if (p + 1 < pages.size()) end = std::min(end, pages[p + 1].front()->start_s);
    /* Each word is current until the next starts (the last: the page's end). */
    auto word_end = [&](size_t i) { return i + 1 < page.size() ? page[i + 1]->start_s : end; };

    std::string text;
    for (const TimedWord *word : page) text += (text.empty() ? "" : " ") + word->text;

    if (captions.style == spec::CaptionStyle::kKaraoke) {
      /* One cue per word: the words spoken so far in the highlight colour. */
      for (size_t i = 0; i < page.size(); ++i) {
        std::string spoken, rest;
        for (size_t j = 0; j < page.size(); ++j) {
          GCharPtr escaped(g_markup_escape_text(page[j]->text.c_str(), -1));
          std::string &into = j <= i ? spoken : rest;
          into += (into.empty() ? "" : " ") + std::string(escaped.get());
        }
        const std::string markup = "<span foreground=\"" +
                                   colour_text(captions.highlight_color).substr(0, 7) + "\">" +
                                   spoken + "</span>" + (rest.empty() ? "" : " " + rest);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "start");
        json_builder_add_double_value(b, i == 0 ? start : page[i]->start_s);
        json_builder_set_member_name(b, "end");
        json_builder_add_double_value(b, word_end(i));
        json_builder_set_member_name(b, "text");
        json_builder_add_string_value(b, markup.c_str());
        json_builder_set_member_name(b, "markup");
        json_builder_add_boolean_value(b, TRUE);
        write_style(b, captions, width);
        json_builder_end_object(b);
      }
      continue;
    }

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "start");
    json_builder_add_double_value(b, start);
    json_builder_set_member_name(b, "end");
    json_builder_add_double_value(b, end);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, text.c_str());
    write_style(b, captions, width);
    if (captions.style == spec::CaptionStyle::kWordHighlight) {
      json_builder_set_member_name(b, "words");
      json_builder_begin_array(b);
      for (size_t i = 0; i < page.size(); ++i) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "start");
        json_builder_add_double_value(b, page[i]->start_s);
        json_builder_set_member_name(b, "end");
        json_builder_add_double_value(b, word_end(i));
        json_builder_set_member_name(b, "text");
        json_builder_add_string_value(b, page[i]->text.c_str());
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  JsonNodePtr root(json_builder_get_root(b));
  return to_json_string(root.get(), false);
}

std::string join_json_arrays(const std::string &a, const std::string &b) {
  JsonNodePtr first = parse_json(a, "cues");
  JsonNodePtr second = parse_json(b, "caption cues");
  JsonArray *into = json_node_get_array(first.get());
  JsonArray *from = json_node_get_array(second.get());
  for (guint i = 0; i < json_array_get_length(from); ++i)
    json_array_add_element(into, json_node_copy(json_array_get_element(from, i)));
  return to_json_string(first.get(), false);
}

void add_tts_values(const spec::SpokenVoiceover &voiceover, const std::string &cache_dir,
                    std::map<std::string, std::string> *values) {
  (*values)["tts_text"] = voiceover.text;
  (*values)["tts_backend"] = voiceover.backend;
  (*values)["tts_voice"] = voiceover.voice;
  (*values)["tts_language"] = voiceover.language;
  (*values)["tts_speed"] = number_text(voiceover.speed);
  (*values)["tts_model"] = voiceover.model;
  (*values)["tts_cache"] = cache_dir;
}

}  // namespace reelforge::plan
