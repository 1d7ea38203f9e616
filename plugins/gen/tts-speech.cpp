/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tts-speech.h"

#include "gst-ptr.h"
#include "json-file.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace reelforge::tts {

void Speech::append(const Speech &next) {
  if (samples.empty() && words.empty()) rate = next.rate;
  if (next.rate != rate)
    throw std::runtime_error("speech pieces at different sample rates (" + std::to_string(rate) +
                             " and " + std::to_string(next.rate) + " Hz)");
  const guint64 offset = samples.size();
  samples.insert(samples.end(), next.samples.begin(), next.samples.end());
  for (SpokenWord word : next.words) {
    word.start += offset;
    word.end += offset;
    words.push_back(std::move(word));
  }
}

namespace {

bool is_space(gunichar c) {
  return g_unichar_isspace(c);
}

bool is_sentence_end(gunichar c) {
  return c == '.' || c == '!' || c == '?' || c == 0x2026;
}

}  // namespace

std::vector<std::string> split_at_sentences(const std::string &text, gsize limit) {
  if (limit == 0) throw std::invalid_argument("split_at_sentences: limit 0");
  if (!g_utf8_validate(text.c_str(), static_cast<gssize>(text.size()), nullptr))
    throw std::runtime_error("text is not valid UTF-8");
  std::vector<std::string> pieces;
  const char *p = text.c_str();
  const char *end = p + text.size();
  while (p < end) {
    while (p < end && is_space(g_utf8_get_char(p))) p = g_utf8_next_char(p);
    if (p >= end) break;
    /* Walk up to limit characters, remembering the best cut. */
    const char *q = p;
    const char *sentence_cut = nullptr, *space_cut = nullptr;
    gsize count = 0;
    while (q < end && count < limit) {
      const gunichar c = g_utf8_get_char(q);
      const char *after = g_utf8_next_char(q);
      if (is_space(c)) space_cut = q;
      if (is_sentence_end(c) && (after >= end || is_space(g_utf8_get_char(after))))
        sentence_cut = after;
      q = after;
      ++count;
    }
    const char *cut = q;
    if (q < end) {
      if (sentence_cut) {
        cut = sentence_cut;
      } else if (space_cut && space_cut > p) {
        cut = space_cut;
      }
    }
    std::string piece(p, cut);
    while (!piece.empty() && g_ascii_isspace(piece.back())) piece.pop_back();
    if (!piece.empty()) pieces.push_back(std::move(piece));
    p = cut;
  }
  return pieces;
}

std::vector<TextWord> text_words(const std::string &text) {
  std::vector<TextWord> words;
  const char *begin = text.c_str();
  const char *p = begin;
  const char *end = p + text.size();
  while (p < end) {
    while (p < end && is_space(g_utf8_get_char(p))) p = g_utf8_next_char(p);
    const char *start = p;
    bool has_alnum = false;
    while (p < end && !is_space(g_utf8_get_char(p))) {
      if (g_unichar_isalnum(g_utf8_get_char(p))) has_alnum = true;
      p = g_utf8_next_char(p);
    }
    if (p > start && has_alnum)
      words.push_back({std::string(start, p), static_cast<gsize>(start - begin),
                       static_cast<gsize>(p - begin)});
  }
  return words;
}

std::vector<std::string> words_of(const std::string &text) {
  std::vector<std::string> words;
  for (TextWord &word : text_words(text)) words.push_back(std::move(word.text));
  return words;
}

void time_words(Speech &speech, const std::string &text,
                const std::vector<std::pair<gsize, guint64>> &anchors) {
  const std::vector<TextWord> words = text_words(text);
  std::vector<std::optional<guint64>> starts(words.size());
  gsize w = 0;
  for (const auto &[position, sample] : anchors) {
    while (w < words.size() && words[w].end <= position) ++w;
    if (w == words.size()) break;
    if (position < words[w].begin) continue; /* between words: punctuation */
    if (!starts[w]) starts[w] = sample;
  }
  const guint64 total = speech.samples.size();
  speech.words.clear();
  for (gsize i = 0; i < words.size(); ++i) {
    if (!starts[i]) {
      /* Interpolate between the timed words around it. */
      gsize before = i, after = i;
      while (before > 0 && !starts[before - 1]) --before;
      while (after < words.size() && !starts[after]) ++after;
      const guint64 from = before > 0 ? *starts[before - 1] : 0;
      const guint64 to = after < words.size() ? *starts[after] : total;
      /* Characters from the timed word before up to the one after. */
      const gsize first_char = before > 0 ? words[before - 1].begin : words[before].begin;
      const gsize last_char = after < words.size() ? words[after].begin : text.size();
      const gsize span = std::max<gsize>(1, last_char - first_char);
      const guint64 length = to > from ? to - from : 0;
      for (gsize j = before; j < after; ++j)
        starts[j] = from + length * (words[j].begin - first_char) / span;
    }
    SpokenWord spoken;
    spoken.text = words[i].text;
    spoken.start = std::min<guint64>(*starts[i], total > 0 ? total - 1 : 0);
    if (!speech.words.empty() && spoken.start <= speech.words.back().start)
      spoken.start = std::min<guint64>(speech.words.back().start + 1, total);
    speech.words.push_back(std::move(spoken));
  }
  close_word_ends(speech);
}

gsize first_voiced_sample(const std::vector<gint16> &samples, gsize from, gint16 threshold) {
  for (gsize i = from; i < samples.size(); ++i)
    if (std::abs(static_cast<int>(samples[i])) > threshold) return i;
  return samples.size();
}

void close_word_ends(Speech &speech) {
  const guint64 total = speech.samples.size();
  guint64 last_voiced = total;
  while (last_voiced > 0 && std::abs(static_cast<int>(speech.samples[last_voiced - 1])) <= 500)
    --last_voiced;
  for (gsize i = 0; i < speech.words.size(); ++i) {
    SpokenWord &word = speech.words[i];
    guint64 end = i + 1 < speech.words.size() ? speech.words[i + 1].start : last_voiced;
    if (end > total) end = total;
    if (word.start >= end) end = std::min<guint64>(word.start + 1, total);
    if (word.start >= total && total > 0) word.start = total - 1;
    word.end = std::max(end, word.start + 1);
  }
}

std::string SpeechCache::key(const SpeechRequest &request) {
  GChecksum *checksum = g_checksum_new(G_CHECKSUM_SHA256);
  auto add = [checksum](const std::string &field) {
    /* Length-prefixed, so no two requests share a byte stream. */
    const std::string length = std::to_string(field.size()) + ":";
    g_checksum_update(checksum, reinterpret_cast<const guchar *>(length.data()),
                      static_cast<gssize>(length.size()));
    g_checksum_update(checksum, reinterpret_cast<const guchar *>(field.data()),
                      static_cast<gssize>(field.size()));
  };
  add("reelforge-tts-1");
  add(request.backend);
  add(request.voice);
  add(request.language);
  add(request.model);
  gchar speed[G_ASCII_DTOSTR_BUF_SIZE];
  add(g_ascii_dtostr(speed, sizeof speed, request.speed));
  add(request.text);
  std::string digest = g_checksum_get_string(checksum);
  g_checksum_free(checksum);
  return digest;
}

std::string SpeechCache::pcm_path(const SpeechRequest &request) const {
  return (std::filesystem::path(directory_) / (key(request) + ".pcm")).string();
}

std::string SpeechCache::json_path(const SpeechRequest &request) const {
  return (std::filesystem::path(directory_) / (key(request) + ".json")).string();
}

std::optional<Speech> SpeechCache::load(const SpeechRequest &request) const {
  if (!enabled()) return std::nullopt;
  gchar *raw_pcm = nullptr;
  gsize pcm_size = 0;
  if (!g_file_get_contents(pcm_path(request).c_str(), &raw_pcm, &pcm_size, nullptr))
    return std::nullopt;
  GCharPtr pcm(raw_pcm);
  try {
    JsonNodePtr root = load_json_file(json_path(request));
    JsonObject *object = json_node_get_object(root.get());
    if (!object) return std::nullopt;
    Speech speech;
    speech.rate = static_cast<gint>(json_object_get_int_member_with_default(object, "rate", 0));
    if (speech.rate <= 0 || pcm_size % 2 != 0) return std::nullopt;
    speech.samples.resize(pcm_size / 2);
    memcpy(speech.samples.data(), pcm.get(), pcm_size);
    JsonArray *words = json_object_get_array_member(object, "words");
    if (!words) return std::nullopt;
    for (guint i = 0; i < json_array_get_length(words); ++i) {
      JsonObject *w = json_array_get_object_element(words, i);
      if (!w) return std::nullopt;
      SpokenWord word;
      word.text = json_object_get_string_member_with_default(w, "text", "");
      word.start = static_cast<guint64>(json_object_get_int_member_with_default(w, "start", 0));
      word.end = static_cast<guint64>(json_object_get_int_member_with_default(w, "end", 0));
      if (word.end <= word.start || word.end > speech.samples.size()) return std::nullopt;
      speech.words.push_back(std::move(word));
    }
    return speech;
  } catch (const std::exception &) {
    return std::nullopt; /* a damaged entry is a miss */
  }
}

namespace {

void write_atomically(const std::string &path, const void *data, gsize size) {
  GError *raw_error = nullptr;
  if (!g_file_set_contents(path.c_str(), static_cast<const gchar *>(data),
                           static_cast<gssize>(size), &raw_error)) {
    GErrorPtr error(raw_error);
    throw std::runtime_error("cannot write the TTS cache file " + path + ": " + error->message);
  }
}

}  // namespace

void SpeechCache::store(const SpeechRequest &request, const Speech &speech) const {
  if (!enabled()) return;
  if (g_mkdir_with_parents(directory_.c_str(), 0755) != 0)
    throw std::runtime_error("cannot create the TTS cache directory " + directory_ + ": " +
                             g_strerror(errno) + " (set cache-dir to a writable directory)");

  GObjectPtr<JsonBuilder> builder(json_builder_new());
  json_builder_begin_object(builder.get());
  json_builder_set_member_name(builder.get(), "rate");
  json_builder_add_int_value(builder.get(), speech.rate);
  json_builder_set_member_name(builder.get(), "backend");
  json_builder_add_string_value(builder.get(), request.backend.c_str());
  json_builder_set_member_name(builder.get(), "words");
  json_builder_begin_array(builder.get());
  for (const SpokenWord &word : speech.words) {
    json_builder_begin_object(builder.get());
    json_builder_set_member_name(builder.get(), "text");
    json_builder_add_string_value(builder.get(), word.text.c_str());
    json_builder_set_member_name(builder.get(), "start");
    json_builder_add_int_value(builder.get(), static_cast<gint64>(word.start));
    json_builder_set_member_name(builder.get(), "end");
    json_builder_add_int_value(builder.get(), static_cast<gint64>(word.end));
    json_builder_end_object(builder.get());
  }
  json_builder_end_array(builder.get());
  json_builder_end_object(builder.get());
  JsonNodePtr root(json_builder_get_root(builder.get()));
  const std::string json = to_json_string(root.get(), false);

  /* The .pcm first: the .json's presence is what makes an entry whole. */
  write_atomically(pcm_path(request), speech.samples.data(), speech.samples.size() * 2);
  write_atomically(json_path(request), json.data(), json.size());
}

}  // namespace reelforge::tts
