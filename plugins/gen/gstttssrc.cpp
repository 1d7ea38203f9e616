/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-ttssrc
 * @title: ttssrc
 * @short_description: text to speech, with one timed caption buffer per word
 *
 * Speaks #GstTtsSrc:text and gives two streams that share one timeline:
 *
 * - `src`: the speech, `audio/x-raw, format=S16LE, channels=1` at the
 *   backend's native rate (espeak-ng: 22050 Hz).
 * - `captions`: `text/x-raw, format=utf8`, one buffer per spoken word whose
 *   PTS is where the word's sound starts and whose duration lasts until the
 *   next word starts (the last word: until its sound ends). Stock
 *   textoverlay renders it, and so does captionoverlay. The pad may stay
 *   unlinked: its buffers are then dropped.
 *
 * Backends (#GstTtsSrc:backend):
 *
 * - `espeak`: libespeak-ng, offline, the default. Word timings are espeak's
 *   own word events, moved onto the first voiced sample of each word.
 * - `elevenlabs`: ElevenLabs' `/v1/text-to-speech/{voice}/with-timestamps`
 *   at 24 kHz; word timings from its character alignment (exact). The voice
 *   is an ElevenLabs voice id.
 * - `openai`: OpenAI's `/v1/audio/speech` with `response_format=pcm`
 *   (24 kHz). OpenAI returns no timings: word timings are *estimated* by
 *   spreading the words over the voiced stretches of the audio in
 *   proportion to their length; expect them off by a syllable or so.
 *
 * The HTTP backends run libsoup 3 on a private context of their own (the
 * streaming thread never waits on a main loop it does not own), retry 429
 * and 5xx answers with backoff honouring Retry-After, give up after
 * #GstTtsSrc:timeout seconds per attempt, and turn the provider's errors
 * (refused key, unknown voice, exceeded quota, rate limit, server error)
 * into element errors quoting the provider's message. The API key is never
 * logged nor put into a message.
 *
 * A long text is split after sentence ends into pieces within the backend's
 * character limit (espeak 2000, ElevenLabs 3000, OpenAI 4096), spoken one
 * after the other and joined on one continuous timeline (sample-exact:
 * piece n starts at the sample after piece n-1 ends).
 *
 * With #GstTtsSrc:cache-dir set, each piece's audio and word timings are
 * kept under a SHA-256 of backend, voice, language, model, speed and text;
 * an identical request is read back and synthesises nothing (no HTTP call).
 *
 * Wrong settings (empty text, unknown backend, unknown espeak voice, no API
 * key for an HTTP backend) fail the change to PAUSED with an error naming
 * the property, before any audio.
 *
 * After the last buffer and before EOS it posts a `ttssrc-done` element
 * message:
 *
 * - `backend` (string): the backend used.
 * - `characters` (#guint): characters of text spoken.
 * - `words` (#guint): caption buffers pushed.
 * - `pieces` (#guint): pieces the text was split into.
 * - `cache` (string): `hit` when every piece came from the cache, else `miss`.
 * - `cache-files` (#GstValueArray of strings): the cache files holding the
 *   speech, each piece's samples (`.pcm`) and words (`.json`) in order;
 *   empty without #GstTtsSrc:cache-dir. Another ttssrc with the same
 *   settings reads exactly these (the planner records them as inputs).
 * - `estimated-cost` (#gdouble): characters sent to the provider (not
 *   those read from the cache) times
 *   #GstTtsSrc:price-per-million-characters / 1e6; 0 for espeak.
 * - `timestamp`, `stream-time`, `running-time` (#guint64): 0, the start of
 *   the speech; `duration` (#guint64): the audio's duration in ns.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m ttssrc text="Hello there. This is Reelforge." name=t ! queue ! \
 *     audioconvert ! audioresample ! autoaudiosink \
 *     t.captions ! queue ! fakesink dump=true
 * ]| speaks two sentences and prints each word's buffer as it is spoken.
 * Without the `t.captions` branch it just speaks.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstttssrc.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "http-client.h"
#include "time-convert.h"
#include "tts-espeak.h"
#include "tts-http.h"
#include "tts-speech.h"

#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

GST_DEBUG_CATEGORY_STATIC(gst_tts_src_debug);
#define GST_CAT_DEFAULT gst_tts_src_debug

namespace {

enum {
  PROP_0,
  PROP_TEXT,
  PROP_BACKEND,
  PROP_VOICE,
  PROP_LANGUAGE,
  PROP_SPEED,
  PROP_MODEL,
  PROP_API_KEY,
  PROP_ENDPOINT,
  PROP_CACHE_DIR,
  PROP_TIMEOUT,
  PROP_PRICE,
};

constexpr const char *DEFAULT_TEXT = "";
constexpr const char *DEFAULT_BACKEND = "espeak";
constexpr const char *DEFAULT_VOICE = "";
constexpr const char *DEFAULT_LANGUAGE = "en";
constexpr gdouble DEFAULT_SPEED = 1.0;
constexpr const char *DEFAULT_MODEL = "";
constexpr const char *DEFAULT_ENDPOINT = "";
constexpr const char *DEFAULT_CACHE_DIR = "";
constexpr guint DEFAULT_TIMEOUT = 60;
constexpr gdouble DEFAULT_PRICE = 0.0;
/* Attempts per HTTP request (429, 5xx, timeouts), backoff from 0.5 s. */
constexpr int kHttpAttempts = 3;
/* Audio goes out in buffers of about this length. */
constexpr GstClockTime kAudioBufferDuration = 100 * GST_MSECOND;

GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("audio/x-raw, format=(string)S16LE, "
                                            "layout=(string)interleaved, channels=(int)1, "
                                            "rate=(int)[ 1, MAX ]"));
GstStaticPadTemplate captions_template = GST_STATIC_PAD_TEMPLATE(
    "captions", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("text/x-raw, format=(string)utf8"));

struct Settings {
  std::string text = DEFAULT_TEXT;
  std::string backend = DEFAULT_BACKEND;
  std::string voice = DEFAULT_VOICE;
  std::string language = DEFAULT_LANGUAGE;
  gdouble speed = DEFAULT_SPEED;
  std::string model = DEFAULT_MODEL;
  std::string api_key; /* never logged */
  std::string endpoint = DEFAULT_ENDPOINT;
  std::string cache_dir = DEFAULT_CACHE_DIR;
  guint timeout = DEFAULT_TIMEOUT;
  gdouble price = DEFAULT_PRICE;
};

const char *const kBackends[] = {"espeak", "elevenlabs", "openai"};

}  // namespace

struct GstTtsSrcPrivate {
  Settings settings; /* under the object lock */

  /* Children, owned by the bin. */
  GstElement *audio_src = nullptr;
  GstElement *captions_src = nullptr;
  GstPad *captions_pad = nullptr; /* the ghost pad */

  /* Synthesis, from READY->PAUSED to PAUSED->READY. */
  std::thread worker;
  std::atomic<bool> cancelled{false};
  GCancellable *cancellable = g_cancellable_new(); /* cancels HTTP calls */
};

struct _GstTtsSrc {
  GstBin parent;
  GstTtsSrcPrivate *priv;
};

G_DEFINE_TYPE_WITH_CODE(GstTtsSrc, gst_tts_src, GST_TYPE_BIN,
                        GST_DEBUG_CATEGORY_INIT(gst_tts_src_debug, "ttssrc", 0,
                                                "Text to speech with word timings"));
GST_ELEMENT_REGISTER_DEFINE(ttssrc, "ttssrc", GST_RANK_NONE, GST_TYPE_TTS_SRC);

namespace {

using reelforge::ElementError;
namespace tts = reelforge::tts;

gsize character_limit(const std::string &backend) {
  if (backend == "elevenlabs") return tts::kElevenLabsCharacterLimit;
  if (backend == "openai") return tts::kOpenAiCharacterLimit;
  return tts::kEspeakCharacterLimit;
}

const char *key_variable(const std::string &backend) {
  return backend == "elevenlabs" ? "ELEVENLABS_API_KEY" : "OPENAI_API_KEY";
}

/* The settings as they will be used: an HTTP backend's key from the
 * environment when the property is empty. */
Settings effective(Settings s) {
  if (s.api_key.empty() && s.backend != "espeak")
    if (const char *key = g_getenv(key_variable(s.backend))) s.api_key = key;
  return s;
}

/* Throws an ElementError naming the property for settings no backend can
 * speak; called before any audio. */
void validate(const Settings &s) {
  if (std::none_of(std::begin(kBackends), std::end(kBackends),
                   [&](const char *b) { return s.backend == b; }))
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                       "ttssrc: unknown backend \"" + s.backend +
                           "\": set backend to espeak, elevenlabs or openai");
  if (tts::words_of(s.text).empty())
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                       "ttssrc: text has no words to speak: set the text property");
  if (!g_utf8_validate(s.text.c_str(), static_cast<gssize>(s.text.size()), nullptr))
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                       "ttssrc: text is not valid UTF-8");
  if (s.backend != "espeak" && s.api_key.empty())
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
                       "ttssrc: backend " + s.backend + " needs an API key: set api-key or " +
                           key_variable(s.backend));
  if (s.backend == "elevenlabs" && s.voice.empty())
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                       "ttssrc: backend elevenlabs needs a voice: set voice to an ElevenLabs "
                       "voice id");
  if (s.backend == "espeak") {
    try {
      tts::espeak_check_voice(s.voice, s.language);
    } catch (const std::runtime_error &e) {
      throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                         std::string("ttssrc: ") + e.what());
    }
  }
}

tts::Speech synthesise(GstTtsSrc *self, const tts::SpeechRequest &request,
                       const Settings &settings) {
  if (request.backend == "espeak") return tts::espeak_synthesise(request);
  tts::HttpBackendSettings http_settings;
  http_settings.endpoint = settings.endpoint;
  http_settings.api_key = settings.api_key;
  http_settings.timeout = std::chrono::seconds(settings.timeout);
  http_settings.retry.max_attempts = kHttpAttempts;
  reelforge::http::HttpClient client(self->priv->cancellable);
  if (request.backend == "elevenlabs")
    return tts::elevenlabs_synthesise(request, http_settings, client);
  return tts::openai_synthesise(request, http_settings, client);
}

/* Pushes one piece's audio and words, starting at sample offset. */
void push_piece(GstTtsSrc *self, const tts::Speech &speech, guint64 offset) {
  GstTtsSrcPrivate &p = *self->priv;
  const gint rate = speech.rate;
  const gsize per_buffer =
      std::max<gsize>(1, reelforge::time_to_samples(kAudioBufferDuration, rate));
  for (gsize i = 0; i < speech.samples.size() && !p.cancelled; i += per_buffer) {
    const gsize count = std::min(per_buffer, speech.samples.size() - i);
    GstBuffer *buffer = gst_buffer_new_memdup(speech.samples.data() + i, count * 2);
    const guint64 first = offset + i;
    GST_BUFFER_PTS(buffer) = reelforge::samples_to_time(first, rate);
    GST_BUFFER_DURATION(buffer) =
        reelforge::samples_to_time(first + count, rate) - GST_BUFFER_PTS(buffer);
    GST_BUFFER_OFFSET(buffer) = first;
    GST_BUFFER_OFFSET_END(buffer) = first + count;
    if (gst_app_src_push_buffer(GST_APP_SRC(p.audio_src), buffer) != GST_FLOW_OK) return;
  }
  for (const tts::SpokenWord &word : speech.words) {
    if (p.cancelled) return;
    GstBuffer *buffer = gst_buffer_new_memdup(word.text.data(), word.text.size());
    GST_BUFFER_PTS(buffer) = reelforge::samples_to_time(offset + word.start, rate);
    GST_BUFFER_DURATION(buffer) =
        reelforge::samples_to_time(offset + word.end, rate) - GST_BUFFER_PTS(buffer);
    if (gst_app_src_push_buffer(GST_APP_SRC(p.captions_src), buffer) != GST_FLOW_OK) return;
  }
}

/* Synthesises piece by piece (or reads the cache), pushes, posts
 * ttssrc-done and ends the streams. */
void synthesise_and_push(GstTtsSrc *self, const Settings &settings) {
  GstTtsSrcPrivate &p = *self->priv;
  {
    const tts::SpeechCache cache(settings.cache_dir);
    const std::vector<std::string> pieces =
        tts::split_at_sentences(settings.text, character_limit(settings.backend));
    guint64 offset = 0;
    gint rate = 0;
    guint words = 0;
    bool all_hits = true;
    guint64 characters_sent = 0;
    std::vector<std::string> cache_files;
    for (const std::string &piece : pieces) {
      if (p.cancelled) return;
      tts::SpeechRequest request{settings.backend, settings.voice, settings.language,
                                 settings.model,   settings.speed, piece};
      std::optional<tts::Speech> speech = cache.load(request);
      if (speech) {
        GST_DEBUG_OBJECT(self, "cache hit for a piece of %zu bytes", piece.size());
      } else {
        if (cache.enabled())
          GST_DEBUG_OBJECT(self, "cache miss for %s in %s", tts::SpeechCache::key(request).c_str(),
                           settings.cache_dir.c_str());
        all_hits = false;
        speech = synthesise(self, request, settings);
        characters_sent += g_utf8_strlen(piece.c_str(), -1);
        cache.store(request, *speech);
      }
      if (cache.enabled()) {
        cache_files.push_back(cache.pcm_path(request));
        cache_files.push_back(cache.json_path(request));
      }
      if (rate == 0) {
        rate = speech->rate;
        reelforge::CapsPtr caps(gst_caps_new_simple(
            "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "layout", G_TYPE_STRING, "interleaved",
            "channels", G_TYPE_INT, 1, "rate", G_TYPE_INT, rate, nullptr));
        gst_app_src_set_caps(GST_APP_SRC(p.audio_src), caps.get());
      } else if (speech->rate != rate) {
        throw ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                           "ttssrc: the backend changed sample rate between pieces");
      }
      push_piece(self, *speech, offset);
      offset += speech->samples.size();
      words += static_cast<guint>(speech->words.size());
    }
    if (p.cancelled) return;

    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    GstStructure *s = reelforge::new_analysis_structure("ttssrc-done", segment, 0,
                                                        reelforge::samples_to_time(offset, rate));
    gst_structure_set(
        s, "backend", G_TYPE_STRING, settings.backend.c_str(), "characters", G_TYPE_UINT,
        static_cast<guint>(g_utf8_strlen(settings.text.c_str(), -1)), "words", G_TYPE_UINT, words,
        "pieces", G_TYPE_UINT, static_cast<guint>(pieces.size()), "cache", G_TYPE_STRING,
        all_hits ? "hit" : "miss", "estimated-cost", G_TYPE_DOUBLE,
        settings.backend == "espeak" ? 0.0 : characters_sent * settings.price / 1e6, nullptr);
    GValue files = G_VALUE_INIT;
    gst_value_array_init(&files, static_cast<guint>(cache_files.size()));
    for (const std::string &file : cache_files) {
      GValue value = G_VALUE_INIT;
      g_value_init(&value, G_TYPE_STRING);
      g_value_set_string(&value, file.c_str());
      gst_value_array_append_and_take_value(&files, &value);
    }
    gst_structure_take_value(s, "cache-files", &files);
    reelforge::post_element_message(GST_ELEMENT(self), s);
    GST_INFO_OBJECT(self, "spoke %u words in %" GST_TIME_FORMAT " (%s)", words,
                    GST_TIME_ARGS(reelforge::samples_to_time(offset, rate)),
                    all_hits ? "cache hit" : "synthesised");
    gst_app_src_end_of_stream(GST_APP_SRC(p.audio_src));
    gst_app_src_end_of_stream(GST_APP_SRC(p.captions_src));
  }
}

/* The worker thread's body. */
void run_synthesis(GstTtsSrc *self, Settings settings) {
  REELFORGE_GUARD_VOID(self, [&] {
    try {
      synthesise_and_push(self, settings);
    } catch (const reelforge::http::Cancelled &) {
      GST_DEBUG_OBJECT(self, "synthesis cancelled");
    }
  });
}

void stop_worker(GstTtsSrc *self) {
  GstTtsSrcPrivate &p = *self->priv;
  p.cancelled = true;
  g_cancellable_cancel(p.cancellable);
  if (p.worker.joinable()) p.worker.join();
  g_cancellable_reset(p.cancellable);
  p.cancelled = false;
}

/* An unlinked captions pad is allowed: its buffers go nowhere instead of
 * failing the stream with not-linked. */
GstPadProbeReturn drop_when_unlinked(GstPad *, GstPadProbeInfo *, gpointer user_data) {
  auto *self = GST_TTS_SRC(user_data);
  return gst_pad_is_linked(self->priv->captions_pad) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

GstElement *make_appsrc(GstTtsSrc *self, const char *name, GstCaps *caps) {
  GstElement *src = gst_element_factory_make("appsrc", name);
  if (!src) return nullptr;
  g_object_set(src, "format", GST_FORMAT_TIME, "is-live", FALSE, "max-bytes",
               static_cast<guint64>(0), "block", FALSE, "emit-signals", FALSE, nullptr);
  if (caps) g_object_set(src, "caps", caps, nullptr);
  gst_bin_add(GST_BIN(self), src);
  return src;
}

}  // namespace

static GstStateChangeReturn gst_tts_src_change_state(GstElement *element,
                                                     GstStateChange transition) {
  auto *self = GST_TTS_SRC(element);
  GstTtsSrcPrivate &p = *self->priv;
  Settings snapshot;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    if (!p.audio_src || !p.captions_src) {
      GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN, ("ttssrc needs appsrc"),
                        ("install gstreamer1.0-plugins-base"));
      return GST_STATE_CHANGE_FAILURE;
    }
    GST_OBJECT_LOCK(self);
    snapshot = p.settings;
    GST_OBJECT_UNLOCK(self);
    snapshot = effective(std::move(snapshot));
    const bool valid = REELFORGE_GUARD(self, false, [&] {
      validate(snapshot);
      return true;
    });
    if (!valid) return GST_STATE_CHANGE_FAILURE;
  } else if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    stop_worker(self);
  }

  const GstStateChangeReturn result =
      GST_ELEMENT_CLASS(gst_tts_src_parent_class)->change_state(element, transition);
  if (result == GST_STATE_CHANGE_FAILURE) return result;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    p.worker = std::thread(run_synthesis, self, std::move(snapshot));
  }
  return result;
}

static void gst_tts_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                     GParamSpec *pspec) {
  auto *self = GST_TTS_SRC(object);
  auto string_or = [value](const char *fallback) {
    const gchar *s = g_value_get_string(value);
    return std::string(s ? s : fallback);
  };
  GST_OBJECT_LOCK(self);
  Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_TEXT:
      s.text = string_or(DEFAULT_TEXT);
      break;
    case PROP_BACKEND:
      s.backend = string_or(DEFAULT_BACKEND);
      break;
    case PROP_VOICE:
      s.voice = string_or(DEFAULT_VOICE);
      break;
    case PROP_LANGUAGE:
      s.language = string_or(DEFAULT_LANGUAGE);
      break;
    case PROP_SPEED:
      s.speed = g_value_get_double(value);
      break;
    case PROP_MODEL:
      s.model = string_or(DEFAULT_MODEL);
      break;
    case PROP_API_KEY:
      s.api_key = string_or("");
      break;
    case PROP_ENDPOINT:
      s.endpoint = string_or(DEFAULT_ENDPOINT);
      break;
    case PROP_CACHE_DIR:
      s.cache_dir = string_or(DEFAULT_CACHE_DIR);
      break;
    case PROP_TIMEOUT:
      s.timeout = g_value_get_uint(value);
      break;
    case PROP_PRICE:
      s.price = g_value_get_double(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_tts_src_get_property(GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec) {
  auto *self = GST_TTS_SRC(object);
  GST_OBJECT_LOCK(self);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_TEXT:
      g_value_set_string(value, s.text.c_str());
      break;
    case PROP_BACKEND:
      g_value_set_string(value, s.backend.c_str());
      break;
    case PROP_VOICE:
      g_value_set_string(value, s.voice.c_str());
      break;
    case PROP_LANGUAGE:
      g_value_set_string(value, s.language.c_str());
      break;
    case PROP_SPEED:
      g_value_set_double(value, s.speed);
      break;
    case PROP_MODEL:
      g_value_set_string(value, s.model.c_str());
      break;
    case PROP_API_KEY:
      /* Write-only in spirit: reading it back says only whether one is set. */
      g_value_set_string(value, s.api_key.empty() ? "" : "***");
      break;
    case PROP_ENDPOINT:
      g_value_set_string(value, s.endpoint.c_str());
      break;
    case PROP_CACHE_DIR:
      g_value_set_string(value, s.cache_dir.c_str());
      break;
    case PROP_TIMEOUT:
      g_value_set_uint(value, s.timeout);
      break;
    case PROP_PRICE:
      g_value_set_double(value, s.price);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_tts_src_finalize(GObject *object) {
  auto *self = GST_TTS_SRC(object);
  stop_worker(self);
  g_object_unref(self->priv->cancellable);
  delete self->priv;
  G_OBJECT_CLASS(gst_tts_src_parent_class)->finalize(object);
}

static void gst_tts_src_class_init(GstTtsSrcClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = gst_tts_src_set_property;
  gobject_class->get_property = gst_tts_src_get_property;
  gobject_class->finalize = gst_tts_src_finalize;

  const auto ready_flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                    GST_PARAM_MUTABLE_READY);
  /**
   * GstTtsSrc:text:
   *
   * The text to speak (UTF-8). Long texts are split at sentence ends.
   */
  g_object_class_install_property(
      gobject_class, PROP_TEXT,
      g_param_spec_string("text", "Text", "The text to speak (UTF-8)", DEFAULT_TEXT, ready_flags));
  /**
   * GstTtsSrc:backend:
   *
   * Which synthesiser speaks: `espeak` (libespeak-ng, offline),
   * `elevenlabs` or `openai` (HTTP, need an API key).
   */
  g_object_class_install_property(
      gobject_class, PROP_BACKEND,
      g_param_spec_string("backend", "Backend",
                          "Which synthesiser speaks: espeak, elevenlabs or openai", DEFAULT_BACKEND,
                          ready_flags));
  /**
   * GstTtsSrc:voice:
   *
   * The backend's voice: for espeak a name from `espeak-ng --voices`
   * (en, en-us, de, en+f3...); empty: the language's default voice.
   */
  g_object_class_install_property(
      gobject_class, PROP_VOICE,
      g_param_spec_string("voice", "Voice",
                          "The backend's voice name (espeak: en-us, en+f3, ...); empty: the "
                          "language's default",
                          DEFAULT_VOICE, ready_flags));
  /**
   * GstTtsSrc:language:
   *
   * Language code (en, de, fr...), used when no voice is set.
   */
  g_object_class_install_property(
      gobject_class, PROP_LANGUAGE,
      g_param_spec_string("language", "Language", "Language code (en, de, ...)", DEFAULT_LANGUAGE,
                          ready_flags));
  /**
   * GstTtsSrc:speed:
   *
   * Speaking speed as a factor of the backend's normal speed (espeak: 175
   * words per minute at 1.0, clamped to 80-450).
   */
  g_object_class_install_property(
      gobject_class, PROP_SPEED,
      g_param_spec_double("speed", "Speed", "Speaking speed, a factor of the normal speed", 0.25,
                          4.0, DEFAULT_SPEED, ready_flags));
  /**
   * GstTtsSrc:model:
   *
   * The provider's model for HTTP backends; empty: the provider's default.
   */
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model", "The provider's model (HTTP backends)", DEFAULT_MODEL,
                          ready_flags));
  /**
   * GstTtsSrc:api-key:
   *
   * API key of an HTTP backend; empty: `ELEVENLABS_API_KEY` or
   * `OPENAI_API_KEY` from the environment. Never logged nor put into
   * messages; reading the property back gives `***` when one is set.
   */
  g_object_class_install_property(
      gobject_class, PROP_API_KEY,
      g_param_spec_string("api-key", "API key", "API key of an HTTP backend (never logged)", "",
                          ready_flags));
  /**
   * GstTtsSrc:endpoint:
   *
   * Base URL of an HTTP backend (a gateway or a test server), to which the
   * API's paths (`/v1/...`) are appended; empty: the provider's public API
   * (https://api.elevenlabs.io, https://api.openai.com).
   */
  g_object_class_install_property(
      gobject_class, PROP_ENDPOINT,
      g_param_spec_string("endpoint", "Endpoint", "Base URL of an HTTP backend", DEFAULT_ENDPOINT,
                          ready_flags));
  /**
   * GstTtsSrc:cache-dir:
   *
   * Directory of the content-addressed speech cache; empty: no cache.
   */
  g_object_class_install_property(
      gobject_class, PROP_CACHE_DIR,
      g_param_spec_string("cache-dir", "Cache directory",
                          "Directory of the content-addressed speech cache (empty: none)",
                          DEFAULT_CACHE_DIR, ready_flags));
  /**
   * GstTtsSrc:timeout:
   *
   * Seconds one HTTP attempt may take to answer; a stalled provider fails
   * the element after at most 3 attempts of this length.
   */
  g_object_class_install_property(
      gobject_class, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout", "Seconds an HTTP request may take", 1, 3600,
                        DEFAULT_TIMEOUT, ready_flags));
  /**
   * GstTtsSrc:price-per-million-characters:
   *
   * The provider's price in US dollars per million characters, for the
   * `estimated-cost` of `ttssrc-done` (the element knows no prices).
   */
  g_object_class_install_property(
      gobject_class, PROP_PRICE,
      g_param_spec_double("price-per-million-characters", "Price per million characters",
                          "US dollars per million characters sent, for estimated-cost", 0.0,
                          G_MAXDOUBLE, DEFAULT_PRICE, ready_flags));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_add_static_pad_template(element_class, &captions_template);
  gst_element_class_set_static_metadata(
      element_class, "Text to speech", "Source/Audio",
      "Speaks text (espeak-ng, ElevenLabs, OpenAI) and gives one timed caption buffer per "
      "spoken word",
      "Reelforge <dev@reelforge.invalid>");
  element_class->change_state = gst_tts_src_change_state;
}

static void gst_tts_src_init(GstTtsSrc *self) {
  self->priv = new GstTtsSrcPrivate();
  GstTtsSrcPrivate &p = *self->priv;

  reelforge::CapsPtr text_caps(gst_caps_from_string("text/x-raw, format=(string)utf8"));
  p.audio_src = make_appsrc(self, "audio", nullptr);
  p.captions_src = make_appsrc(self, "captions", text_caps.get());
  if (!p.audio_src || !p.captions_src) return; /* change_state reports it */

  reelforge::GstObjectPtr<GstPad> audio_target(gst_element_get_static_pad(p.audio_src, "src"));
  GstPadTemplate *audio_template = gst_static_pad_template_get(&src_template);
  GstPad *audio_pad = gst_ghost_pad_new_from_template("src", audio_target.get(), audio_template);
  gst_object_unref(audio_template);
  gst_element_add_pad(GST_ELEMENT(self), audio_pad);

  reelforge::GstObjectPtr<GstPad> captions_target(
      gst_element_get_static_pad(p.captions_src, "src"));
  GstPadTemplate *captions_tmpl = gst_static_pad_template_get(&captions_template);
  p.captions_pad =
      gst_ghost_pad_new_from_template("captions", captions_target.get(), captions_tmpl);
  gst_object_unref(captions_tmpl);
  gst_element_add_pad(GST_ELEMENT(self), p.captions_pad);
  gst_pad_add_probe(captions_target.get(), GST_PAD_PROBE_TYPE_BUFFER, drop_when_unlinked, self,
                    nullptr);
}
