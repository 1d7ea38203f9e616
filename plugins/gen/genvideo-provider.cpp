/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "genvideo-provider.h"

#include "gst-ptr.h"
#include "json-file.h"

#include <json-glib/json-glib.h>

#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace reelforge::gen {

namespace {

using Clock = std::chrono::steady_clock;

/* --- JSON ------------------------------------------------------------- */

JsonNodePtr new_object_node() {
  JsonNodePtr node(json_node_new(JSON_NODE_OBJECT));
  json_node_take_object(node.get(), json_object_new());
  return node;
}

std::string member_string(JsonObject *object, const char *name) {
  if (object == nullptr || !json_object_has_member(object, name)) return "";
  JsonNode *node = json_object_get_member(object, name);
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    return json_node_get_string(node);
  if (JSON_NODE_HOLDS_VALUE(node)) return to_json_string(node, false);
  if (JSON_NODE_HOLDS_NULL(node)) return "";
  return to_json_string(node, false);
}

JsonObject *member_object(JsonObject *object, const char *name) {
  if (object == nullptr || !json_object_has_member(object, name)) return nullptr;
  JsonNode *node = json_object_get_member(object, name);
  return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : nullptr;
}

double member_double(JsonObject *object, const char *name, double fallback) {
  if (object == nullptr || !json_object_has_member(object, name)) return fallback;
  JsonNode *node = json_object_get_member(object, name);
  if (!JSON_NODE_HOLDS_VALUE(node)) return fallback;
  const GType type = json_node_get_value_type(node);
  if (type == G_TYPE_DOUBLE || type == G_TYPE_INT64) return json_node_get_double(node);
  return fallback;
}

/* The first URL in a string or an array of strings. */
std::string first_url(JsonNode *node) {
  if (node == nullptr) return "";
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    return json_node_get_string(node);
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    if (json_array_get_length(array) > 0) return first_url(json_array_get_element(array, 0));
  }
  return "";
}

void set_number(JsonObject *object, const char *name, double value) {
  if (std::floor(value) == value)
    json_object_set_int_member(object, name, static_cast<gint64>(value));
  else
    json_object_set_double_member(object, name, value);
}

/* Merges the members of extra (a JSON object text) into object. */
void merge_extra(JsonObject *object, const std::string &extra) {
  if (extra.empty()) return;
  auto node = parse_json(extra, "extra");
  if (!JSON_NODE_HOLDS_OBJECT(node.get()))
    throw GenError(ErrorClass::kFatal, "extra: must be a JSON object of model inputs");
  JsonObject *source = json_node_get_object(node.get());
  GList *members = json_object_get_members(source);
  for (GList *m = members; m; m = m->next) {
    const char *name = static_cast<const char *>(m->data);
    json_object_set_member(object, name, json_node_copy(json_object_get_member(source, name)));
  }
  g_list_free(members);
}

/* An image reference as a provider takes it: URLs as they are, local files
 * as data: URIs. */
std::string image_for_upload(const std::string &reference) {
  const std::string path = local_image_path(reference);
  return path.empty() ? reference : data_uri_for_file(path);
}

bool mentions_safety(const std::string &text) {
  GCharPtr lowered(g_ascii_strdown(text.c_str(), -1));
  const std::string t = lowered.get();
  for (const char *word : {"safety", "nsfw", "sensitive", "flagged", "moderation", "content policy",
                           "content_policy", "blocked", "unsafe"})
    if (t.find(word) != std::string::npos) return true;
  return false;
}

/* --- the shared HTTP conversation --------------------------------------- */

class HttpProvider : public Provider {
 public:
  HttpProvider(const ProviderConfig &config, http::HttpClient &client, const char *default_endpoint)
      : config_(config), client_(client) {
    endpoint_ = config.endpoint.empty() ? default_endpoint : config.endpoint;
    while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  }

 protected:
  virtual void authorise(http::Request &request) const = 0;

  /* Sends and parses a JSON reply; any failure becomes a GenError. */
  JsonNodePtr call(const std::string &method, const std::string &url, const std::string &body,
                   const char *what, guint *status_out = nullptr,
                   const http::Headers &extra_headers = {}) {
    http::Request request{.method = method, .url = url, .body = body, .timeout = config_.timeout};
    request.repeatable = method != "POST"; /* every POST here starts a paid job */
    authorise(request);
    for (const auto &header : extra_headers) request.headers.push_back(header);
    http::Response response;
    try {
      response = client_.send(request, config_.retry);
    } catch (const http::HttpError &e) {
      throw GenError(e.outcome_unknown() ? ErrorClass::kUnknown
                     : e.transient()     ? ErrorClass::kTransient
                                         : ErrorClass::kFatal,
                     std::string(name()) + ": " + what + ": " + e.what());
    }
    if (status_out) *status_out = response.status;
    if (!response.ok()) throw_for_status(response, what, method + " " + http::redact_url(url));
    try {
      return parse_json(response.body, std::string(name()) + " reply");
    } catch (const std::exception &e) {
      throw GenError(ErrorClass::kFatal, std::string(name()) + ": malformed JSON in the reply to " +
                                             what + " (" + method + " " + http::redact_url(url) +
                                             "): " + e.what());
    }
  }

  [[noreturn]] void throw_for_status(const http::Response &response, const char *what,
                                     const std::string &request_line) const {
    std::string detail = error_detail(response.body);
    const std::string prefix = std::string(name()) + ": " + what + " (" + request_line +
                               ") answered HTTP " + std::to_string(response.status);
    if (!detail.empty()) detail = ": " + detail;
    switch (response.status) {
      case 401:
      case 403:
        throw GenError(ErrorClass::kFatal, prefix + detail + " (the API key was refused: check " +
                                               api_key_variable(name()) + " or api-key)");
      case 402:
        throw GenError(ErrorClass::kFatal, prefix + detail + " (out of credit)");
      case 404:
        throw GenError(ErrorClass::kFatal,
                       prefix + detail + " (unknown model or job: check the model name)");
      default:
        break;
    }
    if (detail.find("API key") != std::string::npos || detail.find("api key") != std::string::npos)
      throw GenError(ErrorClass::kFatal,
                     prefix + detail + " (check " + api_key_variable(name()) + " or api-key)");
    if (mentions_safety(detail)) throw GenError(ErrorClass::kRefused, prefix + detail);
    throw GenError(response.status >= 500 || response.status == 429 ? ErrorClass::kTransient
                                                                    : ErrorClass::kFatal,
                   prefix + detail);
  }

  /* Sends a cancel request (repeatable: cancelling twice is harmless) with
   * the cancel deadline and retries. Returns the reply when the provider
   * accepted (2xx), nullopt when the job is already over or unknown (404,
   * 409, 410, a 400 saying it already completed); throws GenError for any
   * other answer, as poll() would. */
  std::optional<http::Response> send_cancel(const std::string &method, const std::string &url) {
    http::Request request{.method = method, .url = url, .timeout = config_.cancel_timeout};
    authorise(request);
    http::Response response;
    try {
      response = client_.send(request, config_.cancel_retry);
    } catch (const http::HttpError &e) {
      throw GenError(e.transient() ? ErrorClass::kTransient : ErrorClass::kFatal,
                     std::string(name()) + ": cancel: " + e.what());
    }
    if (response.ok()) return response;
    if (response.status == 404 || response.status == 409 || response.status == 410 ||
        (response.status == 400 && says_already_completed(response.body)))
      return std::nullopt;
    throw_for_status(response, "cancel", method + " " + http::redact_url(url));
  }

  /* fal's {"status":"ALREADY_COMPLETED"}, or an error text saying so. */
  static bool says_already_completed(const std::string &body) {
    GCharPtr lowered(g_ascii_strdown(body.c_str(), -1));
    const std::string text = lowered.get();
    if (text.find("already_completed") != std::string::npos) return true;
    if (text.find("already") == std::string::npos) return false;
    for (const char *word : {"complete", "finished", "succeeded", "failed", "cancel", "done"})
      if (text.find(word) != std::string::npos) return true;
    return false;
  }

  /* The human part of an error body: RFC 7807 detail, {"error":{"message"}},
   * {"detail":{"message"}}, {"failure"}... or the start of the text. */
  static std::string error_detail(const std::string &body) {
    try {
      auto node = parse_json(body, "error body");
      if (JSON_NODE_HOLDS_OBJECT(node.get())) {
        JsonObject *o = json_node_get_object(node.get());
        if (JsonObject *error = member_object(o, "error")) return member_string(error, "message");
        if (JsonObject *detail = member_object(o, "detail"))
          return member_string(detail, "message");
        for (const char *field : {"detail", "error", "message", "failure", "title"})
          if (auto text = member_string(o, field); !text.empty()) return text;
      }
    } catch (const std::exception &) {
    }
    return body.substr(0, 200);
  }

  ProviderConfig config_;
  http::HttpClient &client_;
  std::string endpoint_;
};

/* --- Replicate ------------------------------------------------------------ */

class ReplicateProvider : public HttpProvider {
 public:
  ReplicateProvider(const ProviderConfig &config, http::HttpClient &client)
      : HttpProvider(config, client, "https://api.replicate.com") {}
  const char *name() const override { return "replicate"; }
  std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(1); }

  Submission submit(const GenRequest &request) override {
    auto body = new_object_node();
    JsonObject *root = json_node_get_object(body.get());
    JsonObject *input = json_object_new();
    json_object_set_object_member(root, "input", input);
    if (!request.prompt.empty())
      json_object_set_string_member(input, "prompt", request.prompt.c_str());
    if (!request.negative_prompt.empty())
      json_object_set_string_member(input, "negative_prompt", request.negative_prompt.c_str());
    json_object_set_string_member(input, "aspect_ratio", request.aspect_ratio.c_str());
    if (request.duration_s > 0) set_number(input, "duration", request.duration_s);
    if (!request.resolution.empty())
      json_object_set_string_member(input, "resolution", request.resolution.c_str());
    if (request.seed >= 0) json_object_set_int_member(input, "seed", request.seed);
    /* Each model names its frame inputs its own way. */
    const bool hailuo = request.model.find("hailuo") != std::string::npos;
    const bool kling = request.model.find("kling") != std::string::npos;
    if (!request.image.empty())
      json_object_set_string_member(input,
                                    hailuo  ? "first_frame_image"
                                    : kling ? "start_image"
                                            : "image",
                                    image_for_upload(request.image).c_str());
    if (!request.last_image.empty())
      json_object_set_string_member(input, hailuo ? "last_frame_image" : "last_frame",
                                    image_for_upload(request.last_image).c_str());
    merge_extra(input, request.extra);

    /* A short "Prefer: wait" (the API allows up to 60 s) finishes fast
     * models in one request; the rest is polled. */
    guint status = 0;
    auto reply = call("POST", endpoint_ + "/v1/models/" + request.model + "/predictions",
                      to_json_string(body.get(), false), "create prediction", &status,
                      {{"Prefer", "wait=5"}});
    if (!JSON_NODE_HOLDS_OBJECT(reply.get()))
      throw GenError(ErrorClass::kFatal, "replicate: the prediction is not a JSON object");
    Submission submission;
    JsonObject *prediction = json_node_get_object(reply.get());
    submission.job_id = member_string(prediction, "id");
    if (submission.job_id.empty())
      throw GenError(ErrorClass::kFatal, "replicate: the create reply has no prediction id");
    submission.status = status_of(prediction);
    return submission;
  }

  JobStatus poll(const std::string &job_id) override {
    auto reply = call("GET", endpoint_ + "/v1/predictions/" + job_id, "", "get prediction");
    if (!JSON_NODE_HOLDS_OBJECT(reply.get()))
      throw GenError(ErrorClass::kFatal, "replicate: the prediction is not a JSON object");
    return status_of(json_node_get_object(reply.get()));
  }

  bool can_cancel() const override { return true; }
  bool cancel(const std::string &job_id) override {
    auto reply = send_cancel("POST", endpoint_ + "/v1/predictions/" + job_id + "/cancel");
    if (!reply) return false;
    /* The prediction as it is now: one that had already ended stays so. */
    try {
      auto node = parse_json(reply->body, "replicate reply");
      if (JSON_NODE_HOLDS_OBJECT(node.get())) {
        const std::string status = member_string(json_node_get_object(node.get()), "status");
        if (status == "succeeded" || status == "failed" || status == "aborted") return false;
      }
    } catch (const std::exception &) {
      /* A 2xx without a readable prediction: accepted all the same. */
    }
    return true;
  }

 protected:
  void authorise(http::Request &request) const override {
    request.headers.emplace_back("Authorization", "Bearer " + config_.api_key);
  }

 private:
  JobStatus status_of(JsonObject *prediction) const {
    JobStatus status;
    status.status = member_string(prediction, "status");
    if (status.status == "starting") {
      status.state = JobStatus::State::kWaiting;
    } else if (status.status == "processing") {
      status.state = JobStatus::State::kRunning;
    } else if (status.status == "succeeded") {
      status.state = JobStatus::State::kSucceeded;
      status.output_url = first_url(json_object_get_member(prediction, "output"));
      if (status.output_url.empty())
        throw GenError(ErrorClass::kFatal, "replicate: prediction " +
                                               member_string(prediction, "id") +
                                               " succeeded without an output URL");
    } else if (status.status == "failed" || status.status == "canceled" ||
               status.status == "aborted") {
      const std::string error = member_string(prediction, "error");
      const std::string message = "replicate: prediction " + member_string(prediction, "id") + " " +
                                  status.status + (error.empty() ? "" : ": " + error);
      throw GenError(mentions_safety(error) ? ErrorClass::kRefused : ErrorClass::kFatal, message);
    } else {
      throw GenError(ErrorClass::kFatal,
                     "replicate: unknown prediction status \"" + status.status + "\"");
    }
    return status;
  }
};

/* --- Runway ---------------------------------------------------------------- */

class RunwayProvider : public HttpProvider {
 public:
  RunwayProvider(const ProviderConfig &config, http::HttpClient &client)
      : HttpProvider(config, client, "https://api.dev.runwayml.com") {}
  const char *name() const override { return "runway"; }
  std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(6); }

  Submission submit(const GenRequest &request) override {
    auto body = new_object_node();
    JsonObject *o = json_node_get_object(body.get());
    json_object_set_string_member(o, "model", request.model.c_str());
    if (!request.prompt.empty())
      json_object_set_string_member(o, "promptText", request.prompt.substr(0, 1000).c_str());
    json_object_set_string_member(o, "ratio", ratio(request).c_str());
    if (request.duration_s > 0) set_number(o, "duration", request.duration_s);
    if (request.seed >= 0) json_object_set_int_member(o, "seed", request.seed);
    if (!request.image.empty()) {
      if (request.last_image.empty()) {
        json_object_set_string_member(o, "promptImage", image_for_upload(request.image).c_str());
      } else {
        JsonArray *images = json_array_new();
        for (const auto &[uri, position] :
             {std::pair{request.image, "first"}, {request.last_image, "last"}}) {
          JsonObject *image = json_object_new();
          json_object_set_string_member(image, "uri", image_for_upload(uri).c_str());
          json_object_set_string_member(image, "position", position);
          json_array_add_object_element(images, image);
        }
        json_object_set_array_member(o, "promptImage", images);
      }
    }
    merge_extra(o, request.extra);
    const char *path = request.image.empty() ? "/v1/text_to_video" : "/v1/image_to_video";
    auto reply = call("POST", endpoint_ + path, to_json_string(body.get(), false), "create task");
    Submission submission;
    submission.job_id = JSON_NODE_HOLDS_OBJECT(reply.get())
                            ? member_string(json_node_get_object(reply.get()), "id")
                            : "";
    if (submission.job_id.empty())
      throw GenError(ErrorClass::kFatal, "runway: the create reply has no task id");
    submission.status.status = "PENDING";
    return submission;
  }

  JobStatus poll(const std::string &job_id) override {
    auto reply = call("GET", endpoint_ + "/v1/tasks/" + job_id, "", "get task");
    if (!JSON_NODE_HOLDS_OBJECT(reply.get()))
      throw GenError(ErrorClass::kFatal, "runway: the task is not a JSON object");
    JsonObject *task = json_node_get_object(reply.get());
    JobStatus status;
    status.status = member_string(task, "status");
    if (status.status == "PENDING" || status.status == "THROTTLED") {
      /* THROTTLED: queued beyond the account's concurrency; waiting, not failing. */
      status.state = JobStatus::State::kWaiting;
    } else if (status.status == "RUNNING") {
      status.state = JobStatus::State::kRunning;
      status.progress = member_double(task, "progress", -1);
    } else if (status.status == "SUCCEEDED") {
      status.state = JobStatus::State::kSucceeded;
      status.output_url = first_url(json_object_get_member(task, "output"));
      if (status.output_url.empty())
        throw GenError(ErrorClass::kFatal, "runway: task " + job_id + " succeeded without output");
    } else if (status.status == "FAILED" || status.status == "CANCELLED") {
      const std::string code = member_string(task, "failureCode");
      const std::string failure = member_string(task, "failure");
      const std::string message = "runway: task " + job_id + " " + status.status +
                                  (code.empty() ? "" : " (" + code + ")") +
                                  (failure.empty() ? "" : ": " + failure);
      throw GenError(code.rfind("SAFETY", 0) == 0 ? ErrorClass::kRefused : ErrorClass::kFatal,
                     message);
    } else {
      throw GenError(ErrorClass::kFatal, "runway: unknown task status \"" + status.status + "\"");
    }
    return status;
  }

  bool can_cancel() const override { return true; }
  bool cancel(const std::string &job_id) override {
    return send_cancel("DELETE", endpoint_ + "/v1/tasks/" + job_id).has_value();
  }

 protected:
  void authorise(http::Request &request) const override {
    request.headers.emplace_back("Authorization", "Bearer " + config_.api_key);
    request.headers.emplace_back("X-Runway-Version", "2024-11-06");
  }

 private:
  /* Runway's ratios are pixel sizes: 9:16 → 720:1280 (1080:1920 for 1080p). */
  static std::string ratio(const GenRequest &request) {
    const double aspect = request.aspect();
    const bool hd = request.resolution == "1080p";
    if (std::abs(aspect - 9.0 / 16) < 0.01) return hd ? "1080:1920" : "720:1280";
    if (std::abs(aspect - 16.0 / 9) < 0.01) return hd ? "1920:1080" : "1280:720";
    if (std::abs(aspect - 1) < 0.01) return "960:960";
    if (std::abs(aspect - 4.0 / 3) < 0.02) return "1104:832";
    if (std::abs(aspect - 3.0 / 4) < 0.02) return "832:1104";
    return "1584:672";
  }
};

/* --- Veo (Gemini API) ----------------------------------------------------- */

class VeoProvider : public HttpProvider {
 public:
  VeoProvider(const ProviderConfig &config, http::HttpClient &client)
      : HttpProvider(config, client, "https://generativelanguage.googleapis.com/v1beta") {}
  const char *name() const override { return "veo"; }
  std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(10); }

  /* providers.md documents no cancel for Gemini API operations (only
   * start and get): Provider::cancel() returns false and sends nothing. */

  Submission submit(const GenRequest &request) override {
    auto body = new_object_node();
    JsonObject *root = json_node_get_object(body.get());
    JsonArray *instances = json_array_new();
    JsonObject *instance = json_object_new();
    json_array_add_object_element(instances, instance);
    json_object_set_array_member(root, "instances", instances);
    if (!request.prompt.empty())
      json_object_set_string_member(instance, "prompt", request.prompt.c_str());
    if (!request.image.empty())
      json_object_set_object_member(instance, "image", inline_image(request.image));
    if (!request.last_image.empty())
      json_object_set_object_member(instance, "lastFrame", inline_image(request.last_image));
    JsonObject *parameters = json_object_new();
    json_object_set_object_member(root, "parameters", parameters);
    json_object_set_string_member(parameters, "aspectRatio", request.aspect_ratio.c_str());
    if (request.duration_s > 0) set_number(parameters, "durationSeconds", request.duration_s);
    if (!request.resolution.empty())
      json_object_set_string_member(parameters, "resolution", request.resolution.c_str());
    if (!request.negative_prompt.empty())
      json_object_set_string_member(parameters, "negativePrompt", request.negative_prompt.c_str());
    if (request.seed >= 0) json_object_set_int_member(parameters, "seed", request.seed);
    merge_extra(parameters, request.extra);
    auto reply = call("POST", endpoint_ + "/models/" + request.model + ":predictLongRunning",
                      to_json_string(body.get(), false), "start operation");
    Submission submission;
    if (JSON_NODE_HOLDS_OBJECT(reply.get())) {
      JsonObject *operation = json_node_get_object(reply.get());
      submission.job_id = member_string(operation, "name");
      if (!submission.job_id.empty()) submission.status = status_of(operation);
    }
    if (submission.job_id.empty())
      throw GenError(ErrorClass::kFatal, "veo: the reply has no operation name");
    return submission;
  }

  JobStatus poll(const std::string &job_id) override {
    auto reply = call("GET", endpoint_ + "/" + job_id, "", "get operation");
    if (!JSON_NODE_HOLDS_OBJECT(reply.get()))
      throw GenError(ErrorClass::kFatal, "veo: the operation is not a JSON object");
    return status_of(json_node_get_object(reply.get()));
  }

  http::Request download_request(const std::string &output_url) const override {
    http::Request request{.url = output_url, .timeout = config_.timeout};
    request.headers.emplace_back("x-goog-api-key", config_.api_key);
    return request;
  }

 protected:
  void authorise(http::Request &request) const override {
    request.headers.emplace_back("x-goog-api-key", config_.api_key);
  }

 private:
  static JsonObject *inline_image(const std::string &reference) {
    const std::string path = local_image_path(reference);
    if (path.empty())
      throw GenError(
          ErrorClass::kFatal,
          "veo: image: the Gemini API takes image bytes; give a local file, not " + reference);
    const std::string data = data_uri_for_file(path);
    const auto comma = data.find(',');
    JsonObject *image = json_object_new();
    json_object_set_string_member(image, "bytesBase64Encoded", data.substr(comma + 1).c_str());
    json_object_set_string_member(image, "mimeType", data.substr(5, data.find(';') - 5).c_str());
    return image;
  }

  JobStatus status_of(JsonObject *operation) const {
    JobStatus status;
    const bool done = json_object_has_member(operation, "done") &&
                      json_object_get_boolean_member(operation, "done");
    status.status = done ? "done" : "running";
    status.state = JobStatus::State::kRunning;
    if (!done) return status;
    const std::string name = member_string(operation, "name");
    if (JsonObject *error = member_object(operation, "error")) {
      const std::string message = member_string(error, "message");
      throw GenError(mentions_safety(message) ? ErrorClass::kRefused : ErrorClass::kFatal,
                     "veo: operation " + name + " failed: " + message);
    }
    JsonObject *response =
        member_object(member_object(operation, "response"), "generateVideoResponse");
    if (response && json_object_has_member(response, "raiMediaFilteredReasons"))
      throw GenError(ErrorClass::kRefused, "veo: operation " + name + " was filtered by safety: " +
                                               member_string(response, "raiMediaFilteredReasons"));
    JsonNode *samples = response ? json_object_get_member(response, "generatedSamples") : nullptr;
    if (samples && JSON_NODE_HOLDS_ARRAY(samples) &&
        json_array_get_length(json_node_get_array(samples)) > 0) {
      JsonObject *sample = json_array_get_object_element(json_node_get_array(samples), 0);
      status.output_url = member_string(member_object(sample, "video"), "uri");
    }
    if (status.output_url.empty())
      throw GenError(ErrorClass::kFatal, "veo: operation " + name + " is done without a video uri");
    status.state = JobStatus::State::kSucceeded;
    return status;
  }
};

/* --- fal.ai queue ------------------------------------------------------------- */

class FalProvider : public HttpProvider {
 public:
  FalProvider(const ProviderConfig &config, http::HttpClient &client)
      : HttpProvider(config, client, "https://queue.fal.run") {}
  const char *name() const override { return "fal"; }
  std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(2); }

  Submission submit(const GenRequest &request) override {
    auto body = new_object_node();
    JsonObject *o = json_node_get_object(body.get());
    if (!request.prompt.empty()) json_object_set_string_member(o, "prompt", request.prompt.c_str());
    if (!request.negative_prompt.empty())
      json_object_set_string_member(o, "negative_prompt", request.negative_prompt.c_str());
    json_object_set_string_member(o, "aspect_ratio", request.aspect_ratio.c_str());
    if (request.duration_s > 0)
      json_object_set_string_member(o, "duration",
                                    std::to_string(std::lround(request.duration_s)).c_str());
    if (!request.resolution.empty())
      json_object_set_string_member(o, "resolution", request.resolution.c_str());
    if (request.seed >= 0) json_object_set_int_member(o, "seed", request.seed);
    if (!request.image.empty())
      json_object_set_string_member(o, "image_url", image_for_upload(request.image).c_str());
    if (!request.last_image.empty())
      json_object_set_string_member(o, "end_image_url",
                                    image_for_upload(request.last_image).c_str());
    merge_extra(o, request.extra);
    auto reply = call("POST", endpoint_ + "/" + request.model, to_json_string(body.get(), false),
                      "submit request");
    JsonObject *queued =
        JSON_NODE_HOLDS_OBJECT(reply.get()) ? json_node_get_object(reply.get()) : nullptr;
    Submission submission;
    submission.job_id = member_string(queued, "request_id");
    if (submission.job_id.empty())
      throw GenError(ErrorClass::kFatal, "fal: the submit reply has no request_id");
    /* The queue names its own URLs; keep them for this job. */
    QueueUrls urls{member_string(queued, "status_url"), member_string(queued, "response_url"),
                   member_string(queued, "cancel_url")};
    const QueueUrls documented = documented_urls(submission.job_id);
    for (auto [field, fallback] : {std::pair{&urls.status, &documented.status},
                                   {&urls.response, &documented.response},
                                   {&urls.cancel, &documented.cancel}})
      if (field->empty()) *field = *fallback;
    queue_urls_[submission.job_id] = urls;
    submission.status.status = member_string(queued, "status");
    if (submission.status.status.empty()) submission.status.status = "IN_QUEUE";
    return submission;
  }

  JobStatus poll(const std::string &job_id) override {
    const QueueUrls urls = urls_for(job_id);
    const std::string &status_url = urls.status;
    const std::string &response_url = urls.response;
    auto reply = call("GET", status_url, "", "get status");
    JsonObject *o =
        JSON_NODE_HOLDS_OBJECT(reply.get()) ? json_node_get_object(reply.get()) : nullptr;
    JobStatus status;
    status.status = member_string(o, "status");
    if (status.status == "IN_QUEUE") {
      /* Over-concurrency requests wait in the queue; never a failure. */
      status.state = JobStatus::State::kWaiting;
      const double position = member_double(o, "queue_position", -1);
      if (position >= 0)
        status.status += " (position " + std::to_string(std::lround(position)) + ")";
    } else if (status.status == "IN_PROGRESS") {
      status.state = JobStatus::State::kRunning;
    } else if (status.status == "COMPLETED") {
      guint http_status = 0;
      JsonNodePtr result;
      result = call("GET", response_url, "", "get result", &http_status);
      JsonObject *r =
          JSON_NODE_HOLDS_OBJECT(result.get()) ? json_node_get_object(result.get()) : nullptr;
      status.output_url = member_string(member_object(r, "video"), "url");
      if (status.output_url.empty())
        throw GenError(ErrorClass::kFatal,
                       "fal: request " + job_id + " completed without video.url");
      status.state = JobStatus::State::kSucceeded;
    } else {
      throw GenError(ErrorClass::kFatal, "fal: unknown request status \"" + status.status + "\"");
    }
    return status;
  }

  bool can_cancel() const override { return true; }
  bool cancel(const std::string &job_id) override {
    return send_cancel("PUT", urls_for(job_id).cancel).has_value();
  }

 protected:
  void authorise(http::Request &request) const override {
    request.headers.emplace_back("Authorization", "Key " + config_.api_key);
  }

 private:
  struct QueueUrls {
    std::string status, response, cancel;
  };

  QueueUrls urls_for(const std::string &job_id) const {
    if (auto it = queue_urls_.find(job_id); it != queue_urls_.end()) return it->second;
    return documented_urls(job_id);
  }

  /* A job submitted elsewhere (resumed): the queue's documented URL shape,
   * under the model's owner/app without the endpoint path
   * (fal-ai/kling-video/v2/master/text-to-video → fal-ai/kling-video). */
  QueueUrls documented_urls(const std::string &job_id) const {
    std::string app = config_.model;
    if (const auto owner_end = app.find('/'); owner_end != std::string::npos)
      if (const auto app_end = app.find('/', owner_end + 1); app_end != std::string::npos)
        app.resize(app_end);
    const std::string base = endpoint_ + "/" + app + "/requests/" + job_id;
    return {base + "/status", base, base + "/cancel"};
  }

  std::map<std::string, QueueUrls> queue_urls_;
};

/* --- Luma Dream Machine --------------------------------------------------------- */

class LumaProvider : public HttpProvider {
 public:
  LumaProvider(const ProviderConfig &config, http::HttpClient &client)
      : HttpProvider(config, client, "https://api.lumalabs.ai/dream-machine/v1") {}
  const char *name() const override { return "luma"; }
  std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(3); }

  /* providers.md documents no cancel for Luma generations (only create
   * and get; Luma's DELETE /generations/{id} deletes a generation, and
   * whether that stops a running one and its billing is not documented):
   * Provider::cancel() returns false and sends nothing. */

  Submission submit(const GenRequest &request) override {
    auto body = new_object_node();
    JsonObject *o = json_node_get_object(body.get());
    if (!request.prompt.empty()) json_object_set_string_member(o, "prompt", request.prompt.c_str());
    json_object_set_string_member(o, "model", request.model.c_str());
    json_object_set_string_member(o, "aspect_ratio", request.aspect_ratio.c_str());
    if (request.duration_s > 0)
      json_object_set_string_member(
          o, "duration", (std::to_string(std::lround(request.duration_s)) + "s").c_str());
    if (!request.resolution.empty())
      json_object_set_string_member(o, "resolution", request.resolution.c_str());
    if (!request.image.empty()) {
      JsonObject *keyframes = json_object_new();
      for (const auto &[uri, frame] :
           {std::pair{request.image, "frame0"}, {request.last_image, "frame1"}}) {
        if (uri.empty()) continue;
        JsonObject *k = json_object_new();
        json_object_set_string_member(k, "type", "image");
        json_object_set_string_member(k, "url", image_for_upload(uri).c_str());
        json_object_set_object_member(keyframes, frame, k);
      }
      json_object_set_object_member(o, "keyframes", keyframes);
    }
    merge_extra(o, request.extra);
    auto reply = call("POST", endpoint_ + "/generations/video", to_json_string(body.get(), false),
                      "create generation");
    if (!JSON_NODE_HOLDS_OBJECT(reply.get()))
      throw GenError(ErrorClass::kFatal, "luma: the generation is not a JSON object");
    Submission submission;
    submission.job_id = member_string(json_node_get_object(reply.get()), "id");
    if (submission.job_id.empty())
      throw GenError(ErrorClass::kFatal, "luma: the create reply has no generation id");
    submission.status = status_of(json_node_get_object(reply.get()));
    return submission;
  }

  JobStatus poll(const std::string &job_id) override {
    auto reply = call("GET", endpoint_ + "/generations/" + job_id, "", "get generation");
    if (!JSON_NODE_HOLDS_OBJECT(reply.get()))
      throw GenError(ErrorClass::kFatal, "luma: the generation is not a JSON object");
    return status_of(json_node_get_object(reply.get()));
  }

 protected:
  void authorise(http::Request &request) const override {
    request.headers.emplace_back("Authorization", "Bearer " + config_.api_key);
  }

 private:
  JobStatus status_of(JsonObject *generation) const {
    JobStatus status;
    status.status = member_string(generation, "state");
    if (status.status == "queued") {
      status.state = JobStatus::State::kWaiting;
    } else if (status.status == "dreaming") {
      status.state = JobStatus::State::kRunning;
    } else if (status.status == "completed") {
      status.state = JobStatus::State::kSucceeded;
      status.output_url = member_string(member_object(generation, "assets"), "video");
      if (status.output_url.empty())
        throw GenError(ErrorClass::kFatal, "luma: generation completed without assets.video");
    } else if (status.status == "failed") {
      const std::string reason = member_string(generation, "failure_reason");
      throw GenError(mentions_safety(reason) ? ErrorClass::kRefused : ErrorClass::kFatal,
                     "luma: generation " + member_string(generation, "id") + " failed: " + reason);
    } else {
      throw GenError(ErrorClass::kFatal, "luma: unknown state \"" + status.status + "\"");
    }
    return status;
  }
};

}  // namespace

const char *error_class_name(ErrorClass error_class) {
  switch (error_class) {
    case ErrorClass::kTransient:
      return "transient";
    case ErrorClass::kRefused:
      return "refused";
    case ErrorClass::kFatal:
      return "fatal";
    case ErrorClass::kUnknown:
      return "unknown-outcome";
  }
  return "fatal";
}

http::Request Provider::download_request(const std::string &output_url) const {
  return http::Request{.url = output_url};
}

bool Provider::cancel(const std::string &) {
  return false;
}

const char *api_key_variable(const std::string &name) {
  if (name == "replicate") return "REPLICATE_API_TOKEN";
  if (name == "runway") return "RUNWAYML_API_SECRET";
  if (name == "veo") return "GEMINI_API_KEY";
  if (name == "fal") return "FAL_KEY";
  if (name == "luma") return "LUMAAI_API_KEY";
  return "";
}

std::string api_key_from_environment(const std::string &name) {
  const char *variable = api_key_variable(name);
  if (*variable) {
    if (const char *value = g_getenv(variable); value && *value) return value;
  }
  if (name == "veo")
    if (const char *value = g_getenv("GOOGLE_API_KEY"); value && *value) return value;
  return "";
}

std::string data_uri_for_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw GenError(ErrorClass::kFatal, "image: cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  const std::string bytes = content.str();
  if (bytes.size() > 5 * 1024 * 1024)
    throw GenError(ErrorClass::kFatal,
                   "image: " + path + " is over 5 MB; providers take smaller images (resize it)");
  gboolean uncertain = FALSE;
  GCharPtr type(g_content_type_guess(path.c_str(), reinterpret_cast<const guchar *>(bytes.data()),
                                     bytes.size(), &uncertain));
  GCharPtr mime(g_content_type_get_mime_type(type.get()));
  GCharPtr encoded(g_base64_encode(reinterpret_cast<const guchar *>(bytes.data()), bytes.size()));
  return std::string("data:") + (mime ? mime.get() : "image/png") + ";base64," + encoded.get();
}

std::unique_ptr<Provider> make_provider(const std::string &name, const ProviderConfig &config,
                                        http::HttpClient &client) {
  if (config.api_key.empty())
    throw GenError(ErrorClass::kFatal, std::string("api-key: no key for ") + name + ": set " +
                                           api_key_variable(name) + " or the api-key property");
  if (name == "replicate") return std::make_unique<ReplicateProvider>(config, client);
  if (name == "runway") return std::make_unique<RunwayProvider>(config, client);
  if (name == "veo") return std::make_unique<VeoProvider>(config, client);
  if (name == "fal") return std::make_unique<FalProvider>(config, client);
  if (name == "luma") return std::make_unique<LumaProvider>(config, client);
  throw GenError(ErrorClass::kFatal, "provider: \"" + name + "\" is not an HTTP provider");
}

}  // namespace reelforge::gen
