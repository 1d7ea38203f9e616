/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every ttssrc backend produces: S16LE mono samples at the backend's
 * rate and the words, each with the stretch of samples it is spoken in.
 * Also the parts the backends share: splitting a long text at sentence
 * boundaries, joining the pieces, and the content-addressed cache.
 */
#pragma once

#include <glib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reelforge::tts {

/* One spoken word, in samples from the start of its speech. */
struct SpokenWord {
  std::string text;
  guint64 start = 0; /* first sample */
  guint64 end = 0;   /* one past the last sample; start < end */
};

struct Speech {
  gint rate = 0; /* samples per second */
  std::vector<gint16> samples;
  std::vector<SpokenWord> words;

  /* Appends next, whose rate must equal this one's (or this is empty),
   * shifting its words by the samples already here. */
  void append(const Speech &next);
};

/* What identifies a synthesis: everything that changes the audio. */
struct SpeechRequest {
  std::string backend;
  std::string voice;
  std::string language;
  std::string model;
  double speed = 1.0;
  std::string text;
};

/* text split into pieces of at most limit characters (UTF-8 characters),
 * cut after a sentence end (. ! ? followed by space) when one fits, else
 * after the last space, else hard. Whitespace between pieces is dropped;
 * no piece is empty. */
std::vector<std::string> split_at_sentences(const std::string &text, gsize limit);

/* A word of a text and where it is (bytes). */
struct TextWord {
  std::string text;
  gsize begin = 0, end = 0;
};

/* The words of text as a reader counts them: runs of non-space characters
 * holding at least one letter or digit. */
std::vector<TextWord> text_words(const std::string &text);
std::vector<std::string> words_of(const std::string &text);

/* Times the words of text from anchors: (byte position in text, sample)
 * pairs from a synthesiser's word events, in speaking order. An anchor
 * times the word holding its position (the first anchor inside a word
 * wins: "21" spoken as "twenty one" is one word). Words without an anchor
 * share the stretch between their timed neighbours in proportion to their
 * length. Ends are then closed with close_word_ends(). */
void time_words(Speech &speech, const std::string &text,
                const std::vector<std::pair<gsize, guint64>> &anchors);

/* Word end times from start times: each word lasts until the next one
 * starts, the last until the end of voiced sound (or of the samples). */
void close_word_ends(Speech &speech);

/* Index of the first sample whose magnitude exceeds threshold at or after
 * from, or samples.size() if none. */
gsize first_voiced_sample(const std::vector<gint16> &samples, gsize from, gint16 threshold = 500);

/* The content-addressed cache: one .pcm and one .json per request, named by
 * a SHA-256 of the request. An empty directory disables it. */
class SpeechCache {
 public:
  explicit SpeechCache(std::string directory) : directory_(std::move(directory)) {}
  bool enabled() const { return !directory_.empty(); }
  static std::string key(const SpeechRequest &request);
  /* The entry's two files, the samples (.pcm) and the words (.json). */
  std::string pcm_path(const SpeechRequest &request) const;
  std::string json_path(const SpeechRequest &request) const;
  std::optional<Speech> load(const SpeechRequest &request) const;
  /* Writes atomically (temporary file, then rename); throws on failure. */
  void store(const SpeechRequest &request, const Speech &speech) const;

 private:
  std::string directory_;
};

}  // namespace reelforge::tts
