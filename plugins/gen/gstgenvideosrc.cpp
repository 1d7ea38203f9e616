/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-genvideosrc
 * @title: genvideosrc
 *
 * A source of AI-generated video clips. It outputs the generated clip's
 * container bytes (MP4), seekable, so `decodebin`, `uridecodebin3`,
 * `qtdemux` and `stitchbin` read it like a file. Providers: `replicate`,
 * `runway`, `veo` (Gemini API), `fal`, `luma` over HTTP, and `local`, an
 * offline renderer that needs no key (a prompt gives a titled gradient card
 * in motion, an image a Ken Burns move, an image and a last image a
 * crossfade between them).
 *
 * For an HTTP provider it submits the job, polls at the provider's pace,
 * downloads the result promptly (resuming with Range after a dropped
 * connection), checks that it decodes to the requested duration (±0.5 s)
 * and aspect ratio, and stores it in a content-addressed cache
 * (#GstGenVideoSrc:cache-dir; written under a temporary name and renamed
 * when complete). A request already in the cache makes no HTTP request.
 * The work happens when the first buffer is asked for, in the streaming
 * thread; flushing or going to READY interrupts it at once (a job already
 * submitted is remembered and polled, not submitted again).
 *
 * ## Cancelling
 *
 * When the element stops (PAUSED to READY, so also when the pipeline goes
 * to NULL or is torn down) while a provider job it follows is still
 * running, it asks the provider to cancel that job, once, and posts
 * `genvideosrc-cancelled`; a failed cancel is a warning, never an error.
 * The jobs it follows are the ones it submitted and the one it resumed
 * with #GstGenVideoSrc:resume-id. A job is no longer running once the
 * provider said it succeeded (even if the download then failed) or a poll
 * failed for good (the job failed, was refused or is unknown); a job whose
 * polls gave up on transient errors, or that outlived
 * #GstGenVideoSrc:job-timeout, is still running and is cancelled. A
 * flushing seek does not cancel: after the seek the element polls the same
 * job again. With #GstGenVideoSrc:cancel-on-stop FALSE (read when the
 * element stops) nothing is cancelled: an application that stops for a
 * shutdown and resumes later with resume-id sets it just before stopping.
 * replicate, runway and fal have a cancel request (fal only before the
 * request starts); veo and luma have none documented, so their jobs run on
 * (`accepted` FALSE).
 *
 * Jobs per provider are limited process-wide (#GstGenVideoSrc:max-concurrent,
 * in flight from submission to download) and their starts spaced by
 * #GstGenVideoSrc:stagger. HTTP 429 with Retry-After is honoured; 5xx,
 * timeouts and dropped connections are retried with backoff. Runway's
 * THROTTLED and fal's IN_QUEUE are waits, not failures.
 *
 * #GstGenVideoSrc:fallback lists providers to try, in order, when the
 * request fails or is refused. Errors come in three classes: `transient`
 * (retries exhausted), `refused` (the provider's safety system; never
 * retried) and `fatal` (bad key, unknown model, invalid input, malformed
 * reply, expired output URL, a result of the wrong length or shape). The
 * element error carries a `genvideosrc-error` details structure with
 * `error-class` and `provider`, and the reason in its message.
 *
 * It registers the URI scheme `genvideo://`:
 * `genvideo://<provider>/<model>?prompt=...&duration=8&aspect_ratio=9:16`
 * with the other properties as query parameters (`negative_prompt`,
 * `image`, `last_image`, `resolution`, `seed`, `extra`, `cache_dir`,
 * `timeout`, `max_concurrent`, `stagger`, `poll_interval`, `resume_id`,
 * `endpoint`, `fallback`, `cancel_on_stop` = true|false).
 *
 * ## Messages
 *
 * All carry `provider`, `model` (strings) and `timestamp`, `stream-time`,
 * `running-time` (guint64, always 0: they describe the whole clip) and
 * `duration` (guint64 ns, the requested or actual clip length, or
 * GST_CLOCK_TIME_NONE when unknown):
 *
 * - `genvideosrc-submitting`: posted from the streaming thread right before
 *   the job is submitted, so a synchronous bus handler can persist it first.
 *   `idempotency-key` (string: SHA-256 of the normalised request),
 *   `request` (string: the normalised request JSON), `estimated-cost`
 *   (gdouble, -1 if unknown), `currency` (string).
 * - `genvideosrc-submitted`: `job-id` (string, what #GstGenVideoSrc:resume-id
 *   takes), `idempotency-key`, `estimated-cost`, `currency`.
 * - `genvideosrc-progress`: after each poll (and during a local render):
 *   `job-id`, `status` (string, the provider's word), `progress` (gdouble
 *   0..1, -1 if the provider does not say), `polls` (guint), `elapsed`
 *   (gdouble s since submission).
 * - `genvideosrc-done`: `job-id` (empty for a cache hit), `location`
 *   (string: the cached file), `bytes` (guint64), `actual-duration`
 *   (gdouble s), `cost` (gdouble, 0 for a cache hit, -1 if unknown),
 *   `currency`, `cache-hit` (gboolean).
 * - `genvideosrc-cancelled`: posted while the element stops, for each job
 *   still running then (unless cancel-on-stop is FALSE): `job-id`,
 *   `accepted` (gboolean: TRUE when the provider accepted the cancel; FALSE
 *   when it has no cancel request or the job had already ended). It is posted during the change to
 * READY, before a pipeline going to NULL flushes its bus: read it with a synchronous bus handler or
 * stop in two steps (READY, then NULL).
 *
 * A `local` request posts the same messages; its "job" is the render.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 genvideosrc provider=local prompt="Sunrise over the bay" duration=3 \
 *     resolution=320x568 ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! autovideosink
 * gst-launch-1.0 uridecodebin3 uri="genvideo://local/?prompt=Sunrise&duration=3&resolution=320x568"
 * \ ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstgenvideosrc.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "genvideo-limiter.h"
#include "genvideo-local.h"
#include "genvideo-pricing.h"
#include "genvideo-provider.h"
#include "genvideo-request.h"
#include "gst-ptr.h"
#include "http-client.h"
#include "json-file.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <gst/pbutils/pbutils.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_gen_video_src_debug);
#define GST_CAT_DEFAULT gst_gen_video_src_debug

using reelforge::ElementError;
using reelforge::gen::ErrorClass;
using reelforge::gen::GenError;
using reelforge::gen::GenRequest;
namespace http = reelforge::http;

enum {
  PROP_0,
  PROP_PROVIDER,
  PROP_MODEL,
  PROP_PROMPT,
  PROP_NEGATIVE_PROMPT,
  PROP_IMAGE,
  PROP_LAST_IMAGE,
  PROP_DURATION,
  PROP_ASPECT_RATIO,
  PROP_RESOLUTION,
  PROP_SEED,
  PROP_EXTRA,
  PROP_API_KEY,
  PROP_ENDPOINT,
  PROP_CACHE_DIR,
  PROP_RESUME_ID,
  PROP_TIMEOUT,
  PROP_MAX_CONCURRENT,
  PROP_STAGGER,
  PROP_POLL_INTERVAL,
  PROP_JOB_TIMEOUT,
  PROP_FALLBACK,
  PROP_CANCEL_ON_STOP,
  PROP_LOCATION,
};

constexpr const char *DEFAULT_PROVIDER = "local";
constexpr const char *DEFAULT_ASPECT_RATIO = "9:16";
constexpr double DEFAULT_DURATION = 0;
constexpr gint64 DEFAULT_SEED = -1;
constexpr guint DEFAULT_TIMEOUT = 60;       /* s, per HTTP request */
constexpr gint DEFAULT_MAX_CONCURRENT = 4;  /* jobs per provider in the process */
constexpr guint DEFAULT_STAGGER = 1000;     /* ms between starts per provider */
constexpr guint DEFAULT_POLL_INTERVAL = 0;  /* ms; 0: the provider's pace */
constexpr guint DEFAULT_JOB_TIMEOUT = 1800; /* s from submission to result */
constexpr gboolean DEFAULT_CANCEL_ON_STOP = TRUE;
constexpr std::chrono::seconds kMaxCancelTimeout{10}; /* a stop waits no longer per request */
constexpr double kDurationTolerance = 0.5;            /* s */
constexpr double kAspectTolerance = 0.02;             /* relative */

namespace {

/* One entry of the chain: a request and where to send it. */
struct Attempt {
  GenRequest request;
  std::string endpoint;
  std::string api_key;
  std::string resume_id;
};

struct Settings {
  GenRequest request;
  std::string api_key;
  std::string endpoint;
  std::string cache_dir;
  std::string resume_id;
  guint timeout = DEFAULT_TIMEOUT;
  gint max_concurrent = DEFAULT_MAX_CONCURRENT;
  guint stagger = DEFAULT_STAGGER;
  guint poll_interval = DEFAULT_POLL_INTERVAL;
  guint job_timeout = DEFAULT_JOB_TIMEOUT;
  std::string fallback;
  bool cancel_on_stop = DEFAULT_CANCEL_ON_STOP;
};

/* A provider job this element submitted or resumed. The provider object is
 * kept with it: fal's cancel URL comes from its submit reply. */
struct RemoteJob {
  std::string id; /* empty until submitted */
  std::unique_ptr<reelforge::gen::Provider> provider;
  bool running = false; /* neither succeeded nor failed for good yet */
};

/* The outcome: an open cached file. */
struct State {
  std::vector<Attempt> chain;
  Settings settings;
  bool ready = false;
  int fd = -1;
  guint64 size = 0;
  std::string location;
  /* Jobs submitted or resumed by this element, by chain index: a restart
   * after a flush polls them instead of submitting again, and stop()
   * cancels the running ones. */
  std::map<size_t, RemoteJob> jobs;

  void close_file() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

std::string default_cache_dir() {
  return std::string(g_get_user_cache_dir()) + G_DIR_SEPARATOR_S "reelforge" G_DIR_SEPARATOR_S
                                                                 "genvideo";
}

}  // namespace

struct GstGenVideoSrcPrivate {
  std::mutex lock; /* settings; the object lock is not held over C++ code */
  Settings settings;
  State state;          /* streaming thread only, and start/stop */
  std::string location; /* under lock, for the property */
  http::HttpClient client;
};

struct _GstGenVideoSrc {
  GstBaseSrc parent;
  GstGenVideoSrcPrivate *priv;
};

static void gst_gen_video_src_uri_handler_init(gpointer iface, gpointer data);

G_DEFINE_TYPE_WITH_CODE(GstGenVideoSrc, gst_gen_video_src, GST_TYPE_BASE_SRC,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER,
                                              gst_gen_video_src_uri_handler_init);
                        GST_DEBUG_CATEGORY_INIT(gst_gen_video_src_debug, "genvideosrc", 0,
                                                "AI video generation source"));
GST_ELEMENT_REGISTER_DEFINE(genvideosrc, "genvideosrc", GST_RANK_NONE, GST_TYPE_GEN_VIDEO_SRC);

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

namespace {

/* --- messages ------------------------------------------------------------ */

GstStructure *new_message(const char *name, const GenRequest &request, GstClockTime duration) {
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  GstStructure *s = reelforge::new_analysis_structure(name, segment, 0, duration);
  gst_structure_set(s, "provider", G_TYPE_STRING, request.provider.c_str(), "model", G_TYPE_STRING,
                    request.model.c_str(), nullptr);
  return s;
}

GstClockTime requested_duration(const GenRequest &request) {
  if (request.duration_s > 0) return static_cast<GstClockTime>(request.duration_s * GST_SECOND);
  if (request.provider == "local")
    return static_cast<GstClockTime>(reelforge::gen::kLocalDefaultDuration * GST_SECOND);
  return GST_CLOCK_TIME_NONE;
}

void post(GstGenVideoSrc *self, GstStructure *s) {
  reelforge::post_element_message(GST_ELEMENT(self), s);
}

/* --- settings ------------------------------------------------------------------ */

/* The primary request followed by the fallback entries, each with its key
 * (the primary's may come from #GstGenVideoSrc:api-key). */
std::vector<Attempt> build_chain(const Settings &settings) {
  std::vector<Attempt> chain;
  for (auto &entry :
       reelforge::gen::request_chain(settings.request, settings.endpoint, settings.fallback)) {
    const bool primary = chain.empty();
    Attempt attempt{std::move(entry.request), std::move(entry.endpoint),
                    primary ? settings.api_key : "", primary ? settings.resume_id : ""};
    if (attempt.api_key.empty())
      attempt.api_key = reelforge::gen::api_key_from_environment(attempt.request.provider);
    chain.push_back(std::move(attempt));
  }
  return chain;
}

/* --- the result ---------------------------------------------------------------- */

struct ClipFacts {
  double duration_s = 0;
  int width = 0, height = 0;
};

ClipFacts inspect_clip(const std::string &path) {
  reelforge::GCharPtr uri(g_filename_to_uri(path.c_str(), nullptr, nullptr));
  GError *raw_error = nullptr;
  GstDiscoverer *raw = gst_discoverer_new(30 * GST_SECOND, &raw_error);
  reelforge::GErrorPtr error(raw_error);
  if (raw == nullptr) throw GenError(ErrorClass::kFatal, "cannot create a discoverer");
  reelforge::GObjectPtr<GstDiscoverer> discoverer(raw);
  raw_error = nullptr;
  reelforge::GObjectPtr<GstDiscovererInfo> info(
      gst_discoverer_discover_uri(discoverer.get(), uri.get(), &raw_error));
  error.reset(raw_error);
  if (!info || gst_discoverer_info_get_result(info.get()) != GST_DISCOVERER_OK)
    throw GenError(ErrorClass::kFatal, std::string("the result does not decode: ") +
                                           (error ? error->message : "not a media file"));
  ClipFacts facts;
  facts.duration_s = static_cast<double>(gst_discoverer_info_get_duration(info.get())) / GST_SECOND;
  GList *video = gst_discoverer_info_get_video_streams(info.get());
  if (video == nullptr) throw GenError(ErrorClass::kFatal, "the result has no video stream");
  auto *v = GST_DISCOVERER_VIDEO_INFO(video->data);
  facts.width = static_cast<int>(gst_discoverer_video_info_get_width(v));
  facts.height = static_cast<int>(gst_discoverer_video_info_get_height(v));
  gst_discoverer_stream_info_list_free(video);
  return facts;
}

void check_clip(const GenRequest &request, const ClipFacts &facts) {
  if (request.duration_s > 0 &&
      std::abs(facts.duration_s - request.duration_s) > kDurationTolerance)
    throw GenError(ErrorClass::kFatal, "the result lasts " + std::to_string(facts.duration_s) +
                                           " s, not the " + std::to_string(request.duration_s) +
                                           " s asked (±0.5 s)");
  const double aspect = static_cast<double>(facts.width) / std::max(1, facts.height);
  if (std::abs(aspect - request.aspect()) / request.aspect() > kAspectTolerance)
    throw GenError(ErrorClass::kFatal, "the result is " + std::to_string(facts.width) + "x" +
                                           std::to_string(facts.height) +
                                           ", not the aspect ratio " + request.aspect_ratio +
                                           " asked");
}

std::string cache_path(const Settings &settings, const GenRequest &request) {
  return reelforge::gen::cache_file(settings.cache_dir, request);
}

/* Deletes a temporary file unless it was committed. */
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) g_unlink(path_.c_str());
  }
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;
  const std::string &path() const { return path_; }
  void commit(const std::string &final_path) {
    if (g_rename(path_.c_str(), final_path.c_str()) != 0)
      throw GenError(ErrorClass::kFatal,
                     "cannot rename " + path_ + " to " + final_path + ": " + g_strerror(errno));
    path_.clear();
  }

 private:
  std::string path_;
};

double cost_or_unknown(const reelforge::gen::CostEstimate &estimate) {
  return estimate.known ? estimate.amount : -1;
}

/* --- one attempt ----------------------------------------------------------------- */

class Generation {
 public:
  Generation(GstGenVideoSrc *self, State &state, size_t index)
      : self_(self),
        state_(state),
        settings_(state.settings),
        attempt_(state.chain[index]),
        index_(index),
        client_(self->priv->client) {}

  /* Produces the cached file and returns its path. */
  std::string run() {
    const GenRequest &request = attempt_.request;
    const std::string final_path = cache_path(settings_, request);
    const std::string dir = settings_.cache_dir + G_DIR_SEPARATOR_S + request.provider;
    if (g_mkdir_with_parents(dir.c_str(), 0755) != 0)
      throw GenError(ErrorClass::kFatal,
                     "cache-dir: cannot create " + dir + ": " + g_strerror(errno));
    estimate_ = reelforge::gen::estimate_cost(request);

    auto slot = reelforge::gen::acquire_provider_slot(request.provider, settings_.max_concurrent,
                                                      std::chrono::milliseconds(settings_.stagger),
                                                      client_);
    reelforge::GCharPtr name(
        g_strdup_printf(".%s.part-%08x", request.key().c_str(), g_random_int()));
    TempFile temp(dir + G_DIR_SEPARATOR_S + name.get());
    if (request.provider == "local")
      render_local(temp.path());
    else
      generate_remote(temp.path());

    const ClipFacts facts = inspect_clip(temp.path());
    check_clip(request, facts);
    temp.commit(final_path);
    actual_duration_ = facts.duration_s;
    return final_path;
  }

  const std::string &job_id() const { return job_id_; }
  double actual_duration() const { return actual_duration_; }
  double cost() const {
    auto actual = reelforge::gen::estimate_cost(attempt_.request, actual_duration_);
    return cost_or_unknown(actual);
  }

 private:
  void post_submitting() {
    const GenRequest &r = attempt_.request;
    GstStructure *s = new_message("genvideosrc-submitting", r, requested_duration(r));
    gst_structure_set(s, "idempotency-key", G_TYPE_STRING, r.key().c_str(), "request",
                      G_TYPE_STRING, r.normalised().c_str(), "estimated-cost", G_TYPE_DOUBLE,
                      cost_or_unknown(estimate_), "currency", G_TYPE_STRING,
                      estimate_.currency.c_str(), nullptr);
    post(self_, s);
  }

  void post_submitted() {
    const GenRequest &r = attempt_.request;
    GstStructure *s = new_message("genvideosrc-submitted", r, requested_duration(r));
    gst_structure_set(s, "job-id", G_TYPE_STRING, job_id_.c_str(), "idempotency-key", G_TYPE_STRING,
                      r.key().c_str(), "estimated-cost", G_TYPE_DOUBLE, cost_or_unknown(estimate_),
                      "currency", G_TYPE_STRING, estimate_.currency.c_str(), nullptr);
    post(self_, s);
  }

  void post_progress(const std::string &status, double progress, guint polls) {
    const GenRequest &r = attempt_.request;
    GstStructure *s = new_message("genvideosrc-progress", r, requested_duration(r));
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    gst_structure_set(s, "job-id", G_TYPE_STRING, job_id_.c_str(), "status", G_TYPE_STRING,
                      status.c_str(), "progress", G_TYPE_DOUBLE, progress, "polls", G_TYPE_UINT,
                      polls, "elapsed", G_TYPE_DOUBLE, elapsed, nullptr);
    post(self_, s);
  }

  void render_local(const std::string &path) {
    job_id_ = "local-" + attempt_.request.key().substr(0, 16);
    post_submitting();
    started_ = std::chrono::steady_clock::now();
    post_submitted();
    int last_tenth = -1;
    reelforge::gen::render_local_clip(attempt_.request, path, client_.cancellable(),
                                      [&](double progress) {
                                        const int tenth = static_cast<int>(progress * 10);
                                        if (tenth == last_tenth) return;
                                        last_tenth = tenth;
                                        post_progress("rendering", progress, 0);
                                      });
  }

  void generate_remote(const std::string &path) {
    const GenRequest &request = attempt_.request;
    reelforge::gen::ProviderConfig config;
    config.endpoint = attempt_.endpoint;
    config.api_key = attempt_.api_key;
    config.model = request.model;
    config.timeout = std::chrono::seconds(settings_.timeout);
    config.cancel_timeout = std::min<std::chrono::milliseconds>(config.timeout, kMaxCancelTimeout);
    RemoteJob &job = state_.jobs[index_];
    if (!job.provider)
      job.provider = reelforge::gen::make_provider(request.provider, config, client_);
    reelforge::gen::Provider &provider = *job.provider;
    const auto interval = settings_.poll_interval > 0
                              ? std::chrono::milliseconds(settings_.poll_interval)
                              : provider.poll_interval();

    reelforge::gen::JobStatus status;
    const std::string resume = job.id.empty() ? attempt_.resume_id : job.id;
    started_ = std::chrono::steady_clock::now();
    guint polls = 0;
    if (!resume.empty()) {
      job_id_ = resume;
      if (job.id.empty()) {
        job.id = resume;
        job.running = true;
      }
      GST_INFO_OBJECT(self_, "resuming %s job %s: polling, not submitting",
                      request.provider.c_str(), job_id_.c_str());
      status = poll(provider, job, polls);
    } else {
      post_submitting();
      GST_INFO_OBJECT(self_, "submitting to %s (%s)", request.provider.c_str(),
                      request.model.c_str());
      auto submission = provider.submit(request);
      job_id_ = submission.job_id;
      job.id = job_id_;
      status = submission.status;
      job.running = status.state != reelforge::gen::JobStatus::State::kSucceeded;
      post_submitted();
    }
    const auto deadline = started_ + std::chrono::seconds(settings_.job_timeout);
    while (status.state != reelforge::gen::JobStatus::State::kSucceeded) {
      if (std::chrono::steady_clock::now() > deadline)
        throw GenError(ErrorClass::kTransient, request.provider + ": job " + job_id_ +
                                                   " not done after " +
                                                   std::to_string(settings_.job_timeout) +
                                                   " s (job-timeout)" + resume_hint());
      client_.wait(interval);
      status = poll(provider, job, polls);
    }
    GST_INFO_OBJECT(self_, "%s job %s succeeded; downloading", request.provider.c_str(),
                    job_id_.c_str());
    try {
      auto download = provider.download_request(status.output_url);
      download.timeout = std::chrono::seconds(settings_.timeout);
      http::RetryPolicy policy;
      client_.download(download, path, policy);
    } catch (const http::HttpError &e) {
      throw GenError(
          e.transient() ? ErrorClass::kTransient : ErrorClass::kFatal,
          request.provider + ": downloading the result of job " + job_id_ + ": " + e.what());
    }
  }

  /* How a job left running can be picked up again. */
  std::string resume_hint() const {
    return "; to resume it later with resume-id=" + job_id_ +
           ", set cancel-on-stop=false before stopping (else stopping cancels it)";
  }

  /* One poll; a transient failure is polled again (never resubmitted)
   * for a few rounds before giving up with the job id to resume. A
   * success or a failure for good ends the job's running state. */
  reelforge::gen::JobStatus poll(reelforge::gen::Provider &provider, RemoteJob &job, guint &polls) {
    for (int round = 1;; ++round) {
      try {
        auto status = provider.poll(job_id_);
        ++polls;
        if (status.state == reelforge::gen::JobStatus::State::kSucceeded) job.running = false;
        post_progress(status.status, status.progress, polls);
        return status;
      } catch (const GenError &e) {
        if (e.error_class() != ErrorClass::kTransient || round >= 3) {
          if (e.error_class() == ErrorClass::kTransient)
            throw GenError(ErrorClass::kTransient, std::string(e.what()) + resume_hint());
          job.running = false; /* failed, refused or unknown: nothing left to cancel */
          throw;
        }
        GST_WARNING_OBJECT(self_, "poll failed, polling again: %s", e.what());
      }
    }
  }

  GstGenVideoSrc *self_;
  State &state_;
  const Settings &settings_;
  const Attempt &attempt_;
  size_t index_;
  http::HttpClient &client_;
  reelforge::gen::CostEstimate estimate_;
  std::string job_id_;
  double actual_duration_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

void open_result(GstGenVideoSrc *self, State &state, const std::string &path) {
  const int fd = g_open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
                       "cannot open " + path + ": " + g_strerror(errno));
  GStatBuf st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
                       "cannot stat " + path + ": " + g_strerror(errno));
  }
  state.close_file();
  state.fd = fd;
  state.size = static_cast<guint64>(st.st_size);
  state.location = path;
  state.ready = true;
  std::lock_guard lock(self->priv->lock);
  self->priv->location = path;
}

void post_done(GstGenVideoSrc *self, const GenRequest &request, const std::string &job_id,
               const State &state, double duration_s, double cost, bool cache_hit) {
  GstStructure *s = new_message(
      "genvideosrc-done", request,
      duration_s > 0 ? static_cast<GstClockTime>(duration_s * GST_SECOND) : GST_CLOCK_TIME_NONE);
  const auto estimate = reelforge::gen::estimate_cost(request);
  gst_structure_set(s, "job-id", G_TYPE_STRING, job_id.c_str(), "location", G_TYPE_STRING,
                    state.location.c_str(), "bytes", G_TYPE_UINT64, state.size, "actual-duration",
                    G_TYPE_DOUBLE, duration_s, "cost", G_TYPE_DOUBLE, cost, "currency",
                    G_TYPE_STRING, estimate.currency.c_str(), "cache-hit", G_TYPE_BOOLEAN,
                    cache_hit, nullptr);
  post(self, s);
}

/* Posts an error with the class and provider in its details. */
void post_generation_error(GstGenVideoSrc *self, const std::string &provider,
                           ErrorClass error_class, const std::string &message) {
  GstStructure *details = gst_structure_new("genvideosrc-error", "error-class", G_TYPE_STRING,
                                            reelforge::gen::error_class_name(error_class),
                                            "provider", G_TYPE_STRING, provider.c_str(), nullptr);
  const gint code = error_class == ErrorClass::kRefused ? GST_RESOURCE_ERROR_NOT_AUTHORIZED
                                                        : GST_RESOURCE_ERROR_FAILED;
  gst_element_message_full_with_details(
      GST_ELEMENT(self), GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, code,
      g_strdup(("genvideosrc: " + message).c_str()),
      g_strdup_printf("error class: %s", reelforge::gen::error_class_name(error_class)), __FILE__,
      GST_FUNCTION, __LINE__, details);
}

/* Makes state.ready true or throws. Cache first (no request at all), then
 * each entry of the chain in turn. */
void ensure_generated(GstGenVideoSrc *self, State &state) {
  if (state.ready) return;
  for (const Attempt &attempt : state.chain) {
    const std::string path = cache_path(state.settings, attempt.request);
    if (g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR)) {
      GST_INFO_OBJECT(self, "cache hit: %s", path.c_str());
      open_result(self, state, path);
      double duration = 0;
      try {
        duration = inspect_clip(path).duration_s;
      } catch (const GenError &) {
      }
      post_done(self, attempt.request, "", state, duration, 0, true);
      return;
    }
  }
  std::string failures;
  ErrorClass last_class = ErrorClass::kFatal;
  std::string last_provider;
  for (size_t i = 0; i < state.chain.size(); ++i) {
    const GenRequest &request = state.chain[i].request;
    try {
      Generation generation(self, state, i);
      const std::string path = generation.run();
      open_result(self, state, path);
      post_done(self, request, generation.job_id(), state, generation.actual_duration(),
                generation.cost(), false);
      return;
    } catch (const GenError &e) {
      if (e.error_class() == ErrorClass::kUnknown)
        throw GenError(ErrorClass::kUnknown,
                       failures + (failures.empty() ? "" : "; then ") + e.what() +
                           ": a job may exist at " + request.provider +
                           "; check its dashboard before generating again (no fallback was tried)");
      last_class = e.error_class();
      last_provider = request.provider;
      failures += std::string(failures.empty() ? "" : "; then ") + e.what() + " [" +
                  reelforge::gen::error_class_name(e.error_class()) + "]";
      if (i + 1 < state.chain.size()) {
        const std::string warning = std::string(e.what()) + " [" +
                                    reelforge::gen::error_class_name(e.error_class()) +
                                    "]; trying " + state.chain[i + 1].request.provider + " next";
        GST_WARNING_OBJECT(self, "%s", warning.c_str());
        GST_ELEMENT_WARNING(self, RESOURCE, FAILED, ("%s", warning.c_str()), (nullptr));
      }
    }
  }
  throw GenError(last_class, failures.empty() ? "nothing to try"
                                              : failures + " (provider " + last_provider + ")");
}

/* Asks the provider to cancel each job still running (best effort: a
 * failure is a warning) and posts genvideosrc-cancelled for each. */
void cancel_running_jobs(GstGenVideoSrc *self, State &state) {
  for (auto &[index, job] : state.jobs) {
    if (!job.running || job.id.empty() || !job.provider || index >= state.chain.size()) continue;
    job.running = false; /* once */
    const GenRequest &request = state.chain[index].request;
    try {
      const bool accepted = job.provider->cancel(job.id);
      GST_INFO_OBJECT(self, "%s job %s: %s", request.provider.c_str(), job.id.c_str(),
                      accepted                     ? "cancelled"
                      : job.provider->can_cancel() ? "already over, nothing to cancel"
                                                   : "the provider has no cancel; it runs on");
      GstStructure *s = new_message("genvideosrc-cancelled", request, requested_duration(request));
      gst_structure_set(s, "job-id", G_TYPE_STRING, job.id.c_str(), "accepted", G_TYPE_BOOLEAN,
                        accepted, nullptr);
      post(self, s);
    } catch (const std::exception &e) {
      /* GenError or http::Cancelled: the job may run on; stopping goes on. */
      const std::string warning = request.provider + ": could not cancel job " + job.id + ": " +
                                  e.what() + " (it may still run and be billed)";
      GST_WARNING_OBJECT(self, "%s", warning.c_str());
      GST_ELEMENT_WARNING(self, RESOURCE, FAILED, ("%s", warning.c_str()), (nullptr));
    }
  }
}

}  // namespace

/* --- GstBaseSrc ------------------------------------------------------------------------- */

static gboolean gst_gen_video_src_start(GstBaseSrc *src) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(src);
  return REELFORGE_GUARD(self, FALSE, [&] {
    State &state = self->priv->state;
    {
      std::lock_guard lock(self->priv->lock);
      state.settings = self->priv->settings;
    }
    if (state.settings.cache_dir.empty()) state.settings.cache_dir = default_cache_dir();
    try {
      state.chain = build_chain(state.settings);
    } catch (const std::invalid_argument &e) {
      throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                         std::string("genvideosrc: ") + e.what());
    }
    state.ready = false;
    state.jobs.clear();
    return TRUE;
  });
}

static gboolean gst_gen_video_src_stop(GstBaseSrc *src) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(src);
  return REELFORGE_GUARD(self, FALSE, [&] {
    State &state = self->priv->state;
    bool cancel_on_stop = false;
    {
      std::lock_guard lock(self->priv->lock);
      cancel_on_stop = self->priv->settings.cancel_on_stop;
    }
    state.close_file();
    state.ready = false;
    /* unlock() cancelled the client to interrupt the streaming thread. */
    self->priv->client.reset();
    if (cancel_on_stop) cancel_running_jobs(self, state);
    state.chain.clear();
    state.jobs.clear();
    return TRUE;
  });
}

static gboolean gst_gen_video_src_unlock(GstBaseSrc *src) {
  GST_GEN_VIDEO_SRC(src)->priv->client.cancel();
  return TRUE;
}

static gboolean gst_gen_video_src_unlock_stop(GstBaseSrc *src) {
  GST_GEN_VIDEO_SRC(src)->priv->client.reset();
  return TRUE;
}

static gboolean gst_gen_video_src_is_seekable(GstBaseSrc *) {
  return TRUE;
}

static gboolean gst_gen_video_src_get_size(GstBaseSrc *src, guint64 *size) {
  State &state = GST_GEN_VIDEO_SRC(src)->priv->state;
  if (!state.ready) return FALSE;
  *size = state.size;
  return TRUE;
}

static GstFlowReturn gst_gen_video_src_create(GstBaseSrc *src, guint64 offset, guint length,
                                              GstBuffer **buffer) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(src);
  State &state = self->priv->state;
  const GstFlowReturn generated = REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    try {
      ensure_generated(self, state);
    } catch (const http::Cancelled &) {
      GST_DEBUG_OBJECT(self, "generation interrupted (flushing)");
      return GST_FLOW_FLUSHING;
    } catch (const GenError &e) {
      post_generation_error(self, state.chain.empty() ? "" : state.chain.back().request.provider,
                            e.error_class(), e.what());
      return GST_FLOW_ERROR;
    }
    return GST_FLOW_OK;
  });
  if (generated != GST_FLOW_OK) return generated;
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    if (offset >= state.size) return GST_FLOW_EOS;
    const guint64 available = state.size - offset;
    const gsize wanted = static_cast<gsize>(std::min<guint64>(length, available));
    reelforge::BufferPtr out(gst_buffer_new_allocate(nullptr, wanted, nullptr));
    GstMapInfo map;
    if (!gst_buffer_map(out.get(), &map, GST_MAP_WRITE))
      throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "cannot map a buffer");
    gsize done = 0;
    while (done < wanted) {
      const ssize_t n =
          pread(state.fd, map.data + done, wanted - done, static_cast<off_t>(offset + done));
      if (n <= 0) {
        gst_buffer_unmap(out.get(), &map);
        throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
                           "cannot read " + state.location + ": " +
                               (n == 0 ? std::string("file shrank") : g_strerror(errno)));
      }
      done += static_cast<gsize>(n);
    }
    gst_buffer_unmap(out.get(), &map);
    GST_BUFFER_OFFSET(out.get()) = offset;
    GST_BUFFER_OFFSET_END(out.get()) = offset + wanted;
    *buffer = out.release();
    return GST_FLOW_OK;
  });
}

/* --- properties ------------------------------------------------------------------------- */

static void gst_gen_video_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                           GParamSpec *pspec) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(object);
  auto text = [&] {
    const char *s = g_value_get_string(value);
    return std::string(s ? s : "");
  };
  std::lock_guard lock(self->priv->lock);
  Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_PROVIDER:
      s.request.provider = text();
      break;
    case PROP_MODEL:
      s.request.model = text();
      break;
    case PROP_PROMPT:
      s.request.prompt = text();
      break;
    case PROP_NEGATIVE_PROMPT:
      s.request.negative_prompt = text();
      break;
    case PROP_IMAGE:
      s.request.image = text();
      break;
    case PROP_LAST_IMAGE:
      s.request.last_image = text();
      break;
    case PROP_DURATION:
      s.request.duration_s = g_value_get_double(value);
      break;
    case PROP_ASPECT_RATIO:
      s.request.aspect_ratio = text();
      break;
    case PROP_RESOLUTION:
      s.request.resolution = text();
      break;
    case PROP_SEED:
      s.request.seed = g_value_get_int64(value);
      break;
    case PROP_EXTRA:
      s.request.extra = text();
      break;
    case PROP_API_KEY:
      s.api_key = text();
      break;
    case PROP_ENDPOINT:
      s.endpoint = text();
      break;
    case PROP_CACHE_DIR:
      s.cache_dir = text();
      break;
    case PROP_RESUME_ID:
      s.resume_id = text();
      break;
    case PROP_TIMEOUT:
      s.timeout = g_value_get_uint(value);
      break;
    case PROP_MAX_CONCURRENT:
      s.max_concurrent = g_value_get_int(value);
      break;
    case PROP_STAGGER:
      s.stagger = g_value_get_uint(value);
      break;
    case PROP_POLL_INTERVAL:
      s.poll_interval = g_value_get_uint(value);
      break;
    case PROP_JOB_TIMEOUT:
      s.job_timeout = g_value_get_uint(value);
      break;
    case PROP_FALLBACK:
      s.fallback = text();
      break;
    case PROP_CANCEL_ON_STOP:
      s.cancel_on_stop = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_gen_video_src_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(object);
  std::lock_guard lock(self->priv->lock);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_PROVIDER:
      g_value_set_string(value, s.request.provider.c_str());
      break;
    case PROP_MODEL:
      g_value_set_string(value, s.request.model.c_str());
      break;
    case PROP_PROMPT:
      g_value_set_string(value, s.request.prompt.c_str());
      break;
    case PROP_NEGATIVE_PROMPT:
      g_value_set_string(value, s.request.negative_prompt.c_str());
      break;
    case PROP_IMAGE:
      g_value_set_string(value, s.request.image.c_str());
      break;
    case PROP_LAST_IMAGE:
      g_value_set_string(value, s.request.last_image.c_str());
      break;
    case PROP_DURATION:
      g_value_set_double(value, s.request.duration_s);
      break;
    case PROP_ASPECT_RATIO:
      g_value_set_string(value, s.request.aspect_ratio.c_str());
      break;
    case PROP_RESOLUTION:
      g_value_set_string(value, s.request.resolution.c_str());
      break;
    case PROP_SEED:
      g_value_set_int64(value, s.request.seed);
      break;
    case PROP_EXTRA:
      g_value_set_string(value, s.request.extra.c_str());
      break;
    case PROP_ENDPOINT:
      g_value_set_string(value, s.endpoint.c_str());
      break;
    case PROP_CACHE_DIR:
      g_value_set_string(value,
                         s.cache_dir.empty() ? default_cache_dir().c_str() : s.cache_dir.c_str());
      break;
    case PROP_RESUME_ID:
      g_value_set_string(value, s.resume_id.c_str());
      break;
    case PROP_TIMEOUT:
      g_value_set_uint(value, s.timeout);
      break;
    case PROP_MAX_CONCURRENT:
      g_value_set_int(value, s.max_concurrent);
      break;
    case PROP_STAGGER:
      g_value_set_uint(value, s.stagger);
      break;
    case PROP_POLL_INTERVAL:
      g_value_set_uint(value, s.poll_interval);
      break;
    case PROP_JOB_TIMEOUT:
      g_value_set_uint(value, s.job_timeout);
      break;
    case PROP_FALLBACK:
      g_value_set_string(value, s.fallback.c_str());
      break;
    case PROP_CANCEL_ON_STOP:
      g_value_set_boolean(value, s.cancel_on_stop);
      break;
    case PROP_LOCATION:
      g_value_set_string(value, self->priv->location.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

/* --- URI handler ---------------------------------------------------------------------------- */

static GstURIType gst_gen_video_src_uri_get_type(GType) {
  return GST_URI_SRC;
}

static const gchar *const *gst_gen_video_src_uri_get_protocols(GType) {
  static const gchar *protocols[] = {"genvideo", nullptr};
  return protocols;
}

static gchar *gst_gen_video_src_uri_get_uri(GstURIHandler *handler) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(handler);
  std::lock_guard lock(self->priv->lock);
  return g_strdup(reelforge::gen::to_genvideo_uri(self->priv->settings.request).c_str());
}

static gboolean gst_gen_video_src_uri_set_uri(GstURIHandler *handler, const gchar *uri,
                                              GError **error) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(handler);
  reelforge::gen::UriOptions options;
  GenRequest request;
  try {
    request = reelforge::gen::parse_genvideo_uri(uri, &options);
  } catch (const std::exception &e) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "genvideo URI: %s", e.what());
    return FALSE;
  }
  auto number = [&](const char *name, guint fallback) -> guint {
    auto it = options.settings.find(name);
    return it == options.settings.end()
               ? fallback
               : static_cast<guint>(g_ascii_strtoull(it->second.c_str(), nullptr, 10));
  };
  auto text = [&](const char *name) {
    auto it = options.settings.find(name);
    return it == options.settings.end() ? std::string() : it->second;
  };
  std::lock_guard lock(self->priv->lock);
  Settings &s = self->priv->settings;
  s.request = request;
  s.cache_dir = text("cache-dir");
  s.resume_id = text("resume-id");
  s.endpoint = text("endpoint");
  s.fallback = text("fallback");
  s.timeout = number("timeout", DEFAULT_TIMEOUT);
  s.max_concurrent = static_cast<gint>(number("max-concurrent", DEFAULT_MAX_CONCURRENT));
  s.stagger = number("stagger", DEFAULT_STAGGER);
  s.poll_interval = number("poll-interval", DEFAULT_POLL_INTERVAL);
  const std::string cancel = text("cancel-on-stop");
  if (!cancel.empty() && cancel != "true" && cancel != "false") {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
                "genvideo URI: cancel_on_stop is true or false, not \"%s\"", cancel.c_str());
    return FALSE;
  }
  s.cancel_on_stop = cancel.empty() ? DEFAULT_CANCEL_ON_STOP : cancel == "true";
  return TRUE;
}

static void gst_gen_video_src_uri_handler_init(gpointer iface, gpointer) {
  auto *i = static_cast<GstURIHandlerInterface *>(iface);
  i->get_type = gst_gen_video_src_uri_get_type;
  i->get_protocols = gst_gen_video_src_uri_get_protocols;
  i->get_uri = gst_gen_video_src_uri_get_uri;
  i->set_uri = gst_gen_video_src_uri_set_uri;
}

/* --- class -------------------------------------------------------------------------------- */

static void gst_gen_video_src_finalize(GObject *object) {
  GstGenVideoSrc *self = GST_GEN_VIDEO_SRC(object);
  self->priv->state.close_file();
  delete self->priv;
  G_OBJECT_CLASS(gst_gen_video_src_parent_class)->finalize(object);
}

static GParamFlags ready_flags() {
  return static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                  GST_PARAM_MUTABLE_READY);
}

static void install_string(GObjectClass *klass, guint id, const char *name, const char *nick,
                           const char *blurb, const char *default_value) {
  g_object_class_install_property(
      klass, id, g_param_spec_string(name, nick, blurb, default_value, ready_flags()));
}

static void gst_gen_video_src_class_init(GstGenVideoSrcClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS(klass);

  gobject_class->set_property = gst_gen_video_src_set_property;
  gobject_class->get_property = gst_gen_video_src_get_property;
  gobject_class->finalize = gst_gen_video_src_finalize;

  /**
   * GstGenVideoSrc:provider:
   *
   * Who generates: replicate, runway, veo, fal, luma or local (offline).
   */
  install_string(gobject_class, PROP_PROVIDER, "provider", "Provider",
                 "replicate, runway, veo (Gemini API), fal, luma or local (offline)",
                 DEFAULT_PROVIDER);
  /**
   * GstGenVideoSrc:model:
   *
   * The provider's model: e.g. google/veo-3-fast (replicate), gen4_turbo
   * (runway), veo-3.1-fast-generate-preview (veo), fal-ai/... (fal), ray-2
   * (luma). Not needed for local.
   */
  g_object_class_install_property(
      gobject_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "The provider's model (e.g. google/veo-3-fast on replicate)", "",
                          ready_flags()));
  install_string(gobject_class, PROP_PROMPT, "prompt", "Prompt", "What to generate", "");
  install_string(gobject_class, PROP_NEGATIVE_PROMPT, "negative-prompt", "Negative prompt",
                 "What to avoid", "");
  /**
   * GstGenVideoSrc:image:
   *
   * The first frame: a URI or a local path (sent as a data: URI, at most
   * 5 MB). For local: the picture the Ken Burns move runs over.
   */
  install_string(gobject_class, PROP_IMAGE, "image", "Image", "First frame: a URI or a local path",
                 "");
  install_string(gobject_class, PROP_LAST_IMAGE, "last-image", "Last image",
                 "Last frame: a URI or a local path (needs image)", "");
  /**
   * GstGenVideoSrc:duration:
   *
   * Length of the clip in seconds; 0 lets the model choose (local: 4 s).
   * The result must last this long ±0.5 s.
   */
  g_object_class_install_property(
      gobject_class, PROP_DURATION,
      g_param_spec_double("duration", "Duration",
                          "Clip length in seconds (0: the model's default; local 4 s)", 0, 60,
                          DEFAULT_DURATION, ready_flags()));
  install_string(gobject_class, PROP_ASPECT_RATIO, "aspect-ratio", "Aspect ratio",
                 "W:H, e.g. 9:16 or 16:9", DEFAULT_ASPECT_RATIO);
  install_string(gobject_class, PROP_RESOLUTION, "resolution", "Resolution",
                 "e.g. 720p or 1080p; local also takes WxH (default 720p)", "");
  g_object_class_install_property(gobject_class, PROP_SEED,
                                  g_param_spec_int64("seed", "Seed", "Random seed (-1: none)", -1,
                                                     G_MAXINT64, DEFAULT_SEED, ready_flags()));
  install_string(gobject_class, PROP_EXTRA, "extra", "Extra",
                 "JSON object of model-specific inputs, merged into the request", "");
  /**
   * GstGenVideoSrc:api-key:
   *
   * The provider's key; by default from REPLICATE_API_TOKEN,
   * RUNWAYML_API_SECRET, GEMINI_API_KEY (or GOOGLE_API_KEY), FAL_KEY or
   * LUMAAI_API_KEY. Write-only, never logged or posted.
   */
  g_object_class_install_property(
      gobject_class, PROP_API_KEY,
      g_param_spec_string("api-key", "API key",
                          "Provider key (default from the environment); write-only", nullptr,
                          static_cast<GParamFlags>(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));
  install_string(gobject_class, PROP_ENDPOINT, "endpoint", "Endpoint",
                 "Base URL of the provider's API (for gateways and tests; empty: the public one)",
                 "");
  install_string(gobject_class, PROP_CACHE_DIR, "cache-dir", "Cache directory",
                 "Content-addressed cache of results (default: the user cache "
                 "dir/reelforge/genvideo)",
                 nullptr);
  /**
   * GstGenVideoSrc:resume-id:
   *
   * A job id from an earlier genvideosrc-submitted message: the element
   * polls that job and never submits.
   */
  install_string(gobject_class, PROP_RESUME_ID, "resume-id", "Resume id",
                 "Poll this provider job instead of submitting", "");
  g_object_class_install_property(
      gobject_class, PROP_TIMEOUT,
      g_param_spec_uint("timeout", "Timeout",
                        "Deadline of one HTTP request in seconds (a download: longest silence)", 1,
                        3600, DEFAULT_TIMEOUT, ready_flags()));
  /**
   * GstGenVideoSrc:max-concurrent:
   *
   * Jobs of this provider in flight at once in the whole process (from
   * submission to download); a start waits for a free slot.
   */
  g_object_class_install_property(
      gobject_class, PROP_MAX_CONCURRENT,
      g_param_spec_int("max-concurrent", "Max concurrent",
                       "Jobs of the provider in flight at once, process-wide", 1, 64,
                       DEFAULT_MAX_CONCURRENT, ready_flags()));
  g_object_class_install_property(
      gobject_class, PROP_STAGGER,
      g_param_spec_uint("stagger", "Stagger",
                        "Milliseconds between two job starts of the same provider, process-wide", 0,
                        600000, DEFAULT_STAGGER, ready_flags()));
  g_object_class_install_property(
      gobject_class, PROP_POLL_INTERVAL,
      g_param_spec_uint("poll-interval", "Poll interval",
                        "Milliseconds between status polls (0: the provider's pace: replicate 1 "
                        "s, runway 6 s, veo 10 s, fal 2 s, luma 3 s)",
                        0, 600000, DEFAULT_POLL_INTERVAL, ready_flags()));
  g_object_class_install_property(
      gobject_class, PROP_JOB_TIMEOUT,
      g_param_spec_uint("job-timeout", "Job timeout",
                        "Seconds a job may take from submission to result", 1, 86400,
                        DEFAULT_JOB_TIMEOUT, ready_flags()));
  /**
   * GstGenVideoSrc:fallback:
   *
   * JSON array of providers to try in order when the request fails or is
   * refused: `[{"provider": "runway", "model": "gen4_turbo"}, {"provider":
   * "local"}]`; each entry may also set prompt, negative-prompt, image,
   * last-image, duration, aspect-ratio, resolution, seed, extra and endpoint
   * (keys come from the environment), and inherits the rest.
   */
  install_string(gobject_class, PROP_FALLBACK, "fallback", "Fallback",
                 "JSON array of {provider, model, ...} to try in order after a failure", "");
  /**
   * GstGenVideoSrc:cancel-on-stop:
   *
   * When the element stops while a job it submitted or resumed is still
   * running, ask the provider to cancel it (replicate, runway, fal; veo and
   * luma have no cancel). Read at the moment the element stops, so it may be
   * changed while playing: an application that stops for a shutdown and
   * resumes the job later with resume-id sets it to FALSE first.
   */
  g_object_class_install_property(
      gobject_class, PROP_CANCEL_ON_STOP,
      g_param_spec_boolean("cancel-on-stop", "Cancel on stop",
                           "Cancel a still running provider job when the element stops (read "
                           "when it stops; FALSE keeps it for resume-id)",
                           DEFAULT_CANCEL_ON_STOP,
                           static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                    GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location", "The cached clip being served (read-only)",
                          nullptr,
                          static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "AI video generation source", "Source/File",
      "Generates a video clip with an AI provider (replicate, runway, veo, fal, luma) or "
      "offline (local), caches it and outputs its MP4 bytes",
      "Reelforge <dev@reelforge.invalid>");

  base_class->start = gst_gen_video_src_start;
  base_class->stop = gst_gen_video_src_stop;
  base_class->unlock = gst_gen_video_src_unlock;
  base_class->unlock_stop = gst_gen_video_src_unlock_stop;
  base_class->is_seekable = gst_gen_video_src_is_seekable;
  base_class->get_size = gst_gen_video_src_get_size;
  base_class->create = gst_gen_video_src_create;
}

static void gst_gen_video_src_init(GstGenVideoSrc *self) {
  self->priv = new GstGenVideoSrcPrivate();
  self->priv->settings.request.provider = DEFAULT_PROVIDER;
  gst_base_src_set_blocksize(GST_BASE_SRC(self), 64 * 1024);
}
