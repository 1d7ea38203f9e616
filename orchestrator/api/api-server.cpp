/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job and a page of jobs are JSON built by PostgreSQL itself, in one
 * query each (store/jobs.h); the other bodies go through JsonWriter.
 * Handlers are short and run on the main loop.
 */
#include "api/api-server.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "json-writer.h"
#include "sched/step-queue.h"
#include "sched/worker-pool.h"
#include "spec/job-spec.h"
#include "store/artifacts.h"
#include "store/events.h"
#include "store/jobs.h"
#include "store/ledger.h"
#include "store/pg.h"
#include "store/provider-calls.h"
#include "store/steps.h"
#include "store/tenants.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>
#include <vector>

namespace reelforge::api {

using sched::JobControl;
using store::Connection;
using store::DatabaseError;

namespace {

struct MappedFileDeleter {
  void operator()(GMappedFile *f) const noexcept { g_mapped_file_unref(f); }
};

/* {"<name>": "<value>"}. */
std::string string_json(const char *name, const std::string &value) {
  JsonWriter w;
  w.begin_object();
  w.member(name, value);
  w.end_object();
  return w.text();
}

std::string error_json(const std::string &message) {
  return string_json("error", message);
}

struct FieldError {
  std::string pointer;
  std::string message;
};

std::string errors_json(const std::vector<FieldError> &errors) {
  JsonWriter w;
  w.begin_object();
  w.member("error", "the job was not accepted");
  w.begin_array("errors");
  for (const FieldError &error : errors) {
    w.begin_object();
    w.member("pointer", error.pointer);
    w.member("message", error.message);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.text();
}

void reply(SoupServerMessage *msg, guint status, const std::string &body,
           const char *type = "application/json") {
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body.data(), body.size());
}

std::optional<std::int64_t> parse_id(const std::string &text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::vector<std::string> split_path(const std::string &path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

/* A request the client got wrong: status and body ready to send. */
struct ClientError {
  guint status;
  std::string body;
};

/* A POST /v1/jobs body, checked. */
struct Submission {
  JsonNode *spec = nullptr; /* the body's */
  int priority = 5;
  std::optional<std::int64_t> budget_micros;
  std::string approval = "none"; /* the body's, else the spec's */
  std::string base_dir = "/";
};

/* The body's settings beside the spec, and no unknown fields. */
void read_settings(JsonObject *top, Submission &out, std::vector<FieldError> &errors) {
  if (JsonNode *n = json_object_get_member(top, "priority")) {
    const bool integer = JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
    if (!integer || json_node_get_int(n) < 0 || json_node_get_int(n) > 9)
      errors.push_back({"/priority", "priority is a whole number from 0 (lowest) to 9"});
    else
      out.priority = static_cast<int>(json_node_get_int(n));
  }
  if (JsonNode *n = json_object_get_member(top, "budget")) {
    const bool number = JSON_NODE_HOLDS_VALUE(n) && (json_node_get_value_type(n) == G_TYPE_INT64 ||
                                                     json_node_get_value_type(n) == G_TYPE_DOUBLE);
    const double usd = number ? json_node_get_double(n) : -1;
    if (!number || !(usd >= 0) || usd > 1e9)
      errors.push_back({"/budget", "budget is the most the job may spend, in US dollars (>= 0)"});
    else
      out.budget_micros = std::llround(usd * 1e6);
  }
  if (JsonNode *n = json_object_get_member(top, "approval")) {
    out.approval = JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                       ? json_node_get_string(n)
                       : "";
    if (out.approval != "none" && out.approval != "before-render" &&
        out.approval != "before-upload")
      errors.push_back(
          {"/approval", "approval is \"none\", \"before-render\" or \"before-upload\""});
  }
  if (JsonNode *n = json_object_get_member(top, "base_dir")) {
    out.base_dir = JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
                       ? json_node_get_string(n)
                       : "";
    if (!g_path_is_absolute(out.base_dir.c_str()))
      errors.push_back({"/base_dir",
                        "base_dir is the absolute folder the spec's relative media "
                        "paths start from"});
  }
  std::unique_ptr<GList, decltype(&g_list_free)> members(json_object_get_members(top), g_list_free);
  for (GList *l = members.get(); l; l = l->next) {
    const std::string name = static_cast<const char *>(l->data);
    if (name != "spec" && name != "priority" && name != "budget" && name != "approval" &&
        name != "base_dir")
      errors.push_back({"/" + name,
                        "unknown field; the body takes spec, priority, budget, "
                        "approval and base_dir"});
  }
}

/* The spec, parsed as its job's steps will parse it; the spec's approval
 * unless the body gave one. */
void check_spec(JsonObject *top, Submission &out, std::vector<FieldError> &errors) {
  out.spec = json_object_get_member(top, "spec");
  if (!out.spec || !JSON_NODE_HOLDS_OBJECT(out.spec)) {
    errors.push_back({"/spec", "spec is the job spec (an object, as `reelforge validate` takes)"});
    return;
  }
  try {
    const spec::Job job =
        spec::parse_job_document(out.spec, "spec", out.base_dir.empty() ? "/" : out.base_dir);
    if (!json_object_get_member(top, "approval")) out.approval = job.approval;
    if (out.approval == "before-upload" &&
        std::none_of(job.variants.begin(), job.variants.end(),
                     [](const auto &v) { return v.spec.output.uri_prefix.has_value(); }))
      errors.push_back({"/approval",
                        "\"before-upload\" needs an upload: set the spec's "
                        "output.uri_prefix (s3://bucket/prefix/ or file:///folder/)"});
  } catch (const spec::SpecError &e) {
    for (const auto &error : e.errors()) errors.push_back({"/spec" + error.pointer, error.message});
  } catch (const std::runtime_error &e) {
    errors.push_back({"/spec", e.what()});
  }
}

/* The body, checked; a 422 listing every error otherwise. */
Submission read_submission(JsonObject *top) {
  Submission submission;
  std::vector<FieldError> errors;
  read_settings(top, submission, errors);
  check_spec(top, submission, errors);
  if (!errors.empty()) throw ClientError{422, errors_json(errors)};
  return submission;
}

}  // namespace

struct ApiServer::Private {
  Options options;
  GObjectPtr<SoupServer> server;
  std::unique_ptr<Connection> db;

  Connection &database() {
    if (!db) db = std::make_unique<Connection>(options.conninfo);
    return *db;
  }

  void handle(SoupServerMessage *msg, const char *path, GHashTable *query);
  std::int64_t authenticate(SoupServerMessage *msg);
  JsonNodePtr body_json(SoupServerMessage *msg, bool required);

  void healthz(SoupServerMessage *msg);
  void metrics(SoupServerMessage *msg);
  void submit(SoupServerMessage *msg, std::int64_t tenant);
  void show_job(SoupServerMessage *msg, std::int64_t tenant, std::int64_t job);
  void list_jobs(SoupServerMessage *msg, std::int64_t tenant, GHashTable *query);
  void act(SoupServerMessage *msg, std::int64_t tenant, std::int64_t job,
           const std::string &action);
  void artifact(SoupServerMessage *msg, std::int64_t tenant, std::int64_t id);
};

std::int64_t ApiServer::Private::authenticate(SoupServerMessage *msg) {
  const char *header =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  const std::string value = header ? header : "";
  const std::string scheme = "Bearer ";
  if (value.size() > scheme.size() && value.compare(0, scheme.size(), scheme) == 0)
    if (const auto tenant = store::tenant_of_api_key(database(), value.substr(scheme.size())))
      return *tenant;
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                               "Bearer realm=\"reelforge\"");
  throw ClientError{401,
                    error_json("a valid API key is needed: send \"Authorization: Bearer "
                               "<key>\" (create one with `reelforge keys create --tenant T`)")};
}

JsonNodePtr ApiServer::Private::body_json(SoupServerMessage *msg, bool required) {
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  GBytesPtr bytes(soup_message_body_flatten(body));
  gsize size = 0;
  const auto *data = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
  if (size > options.max_body)
    throw ClientError{
        413, error_json("the body is larger than " + std::to_string(options.max_body) + " bytes")};
  if (size == 0) {
    if (required) throw ClientError{400, error_json("a JSON body is needed")};
    return JsonNodePtr(json_node_new(JSON_NODE_OBJECT));
  }
  JsonNodePtr node;
  try {
    node = parse_json(std::string_view(data, size), "the request body");
  } catch (const std::exception &e) {
    throw ClientError{400, error_json(e.what())};
  }
  if (!JSON_NODE_HOLDS_OBJECT(node.get()))
    throw ClientError{400, error_json("the request body must be a JSON object")};
  return node;
}

void ApiServer::Private::handle(SoupServerMessage *msg, const char *raw_path, GHashTable *query) {
  const std::string method = soup_server_message_get_method(msg);
  const auto parts = split_path(raw_path);
  auto method_not_allowed = [&](const char *allowed) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allowed);
    throw ClientError{405, error_json(method + " is not allowed here; use " + allowed)};
  };
  if (parts.size() == 1 && parts[0] == "healthz") {
    if (method != "GET") method_not_allowed("GET");
    return healthz(msg);
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (method != "GET") method_not_allowed("GET");
    return metrics(msg);
  }
  if (parts.empty() || parts[0] != "v1" || parts.size() < 2)
    throw ClientError{404, error_json(std::string("no such endpoint: ") + raw_path)};

  const std::int64_t tenant = authenticate(msg);
  if (parts[1] == "jobs" && parts.size() == 2) {
    if (method == "POST") return submit(msg, tenant);
    if (method == "GET") return list_jobs(msg, tenant, query);
    method_not_allowed("GET, POST");
  }
  if (parts[1] == "jobs" && (parts.size() == 3 || parts.size() == 4)) {
    const auto id = parse_id(parts[2]);
    if (!id) throw ClientError{404, error_json("no job " + parts[2])};
    if (parts.size() == 3) {
      if (method != "GET") method_not_allowed("GET");
      return show_job(msg, tenant, *id);
    }
    static const std::set<std::string> actions{"approve", "reject", "cancel", "resume"};
    if (!actions.contains(parts[3]))
      throw ClientError{404, error_json("no such action: " + parts[3])};
    if (method != "POST") method_not_allowed("POST");
    return act(msg, tenant, *id, parts[3]);
  }
  if (parts[1] == "artifacts" && parts.size() == 3) {
    const auto id = parse_id(parts[2]);
    if (!id) throw ClientError{404, error_json("no artifact " + parts[2])};
    if (method != "GET" && method != "HEAD") method_not_allowed("GET");
    return artifact(msg, tenant, *id);
  }
  throw ClientError{404, error_json(std::string("no such endpoint: ") + raw_path)};
}

void ApiServer::Private::healthz(SoupServerMessage *msg) {
  database().ping();
  JsonWriter w;
  w.begin_object();
  w.member("status", "ok");
  w.member("database", "ok");
  w.end_object();
  reply(msg, 200, w.text());
}

void ApiServer::Private::metrics(SoupServerMessage *msg) {
  Connection &db = database();
  std::ostringstream out;
  out << "# HELP reelforge_oldest_ready_step_age_seconds How long the oldest due step has waited "
         "for a worker.\n# TYPE reelforge_oldest_ready_step_age_seconds gauge\n"
      << "reelforge_oldest_ready_step_age_seconds " << store::oldest_ready_step_age_s(db) << "\n";
  out << "# HELP reelforge_provider_jobs_in_flight Paid provider calls submitted and not "
         "settled.\n# TYPE reelforge_provider_jobs_in_flight gauge\n";
  for (const store::CallsInFlight &calls : store::calls_in_flight(db))
    out << "reelforge_provider_jobs_in_flight{provider=\"" << calls.provider << "\"} "
        << calls.count << "\n";
  out << "# HELP reelforge_spend_usd_total Money charged by providers, all jobs.\n"
         "# TYPE reelforge_spend_usd_total counter\nreelforge_spend_usd_total "
      << store::total_spent_usd(db) << "\n";
  out << "# HELP reelforge_rescues_total Steps put back to ready after their daemon's lease "
         "expired.\n# TYPE reelforge_rescues_total counter\nreelforge_rescues_total "
      << store::rescue_count(db) << "\n";
  out << "# HELP reelforge_retries_total Failed attempts scheduled to run again.\n"
         "# TYPE reelforge_retries_total counter\nreelforge_retries_total "
      << store::retry_count(db) << "\n";
  out << "# HELP reelforge_steps Steps by status.\n# TYPE reelforge_steps gauge\n";
  for (const store::StepsInStatus &steps : store::steps_by_status(db))
    out << "reelforge_steps{status=\"" << steps.status << "\"} " << steps.count << "\n";
  if (options.pool)
    out << "# HELP reelforge_workers_busy Workers of this daemon running a step.\n"
           "# TYPE reelforge_workers_busy gauge\nreelforge_workers_busy "
        << options.pool->busy() << "\n";
  reply(msg, 200, out.str(), "text/plain; version=0.0.4");
}

void ApiServer::Private::submit(SoupServerMessage *msg, std::int64_t tenant) {
  JsonNodePtr body = body_json(msg, true);
  const Submission submission = read_submission(json_node_get_object(body.get()));
  GCharPtr spec_text(json_to_string(submission.spec, FALSE));
  JsonWriter job_options;
  job_options.begin_object();
  job_options.member("approval", submission.approval);
  job_options.member("base_dir", submission.base_dir);
  job_options.end_object();
  const std::int64_t id =
      JobControl(database())
          .create_job(tenant, spec_text.get(), submission.priority, submission.budget_micros,
                      "expand", options.max_attempts, job_options.text());
  const std::string location = "/v1/jobs/" + std::to_string(id);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Location",
                               location.c_str());
  JsonWriter created;
  created.begin_object();
  created.member("id", id);
  created.member("status", "queued");
  created.member("url", location);
  created.end_object();
  reply(msg, 201, created.text());
}

void ApiServer::Private::show_job(SoupServerMessage *msg, std::int64_t tenant, std::int64_t job) {
  const auto body = store::job_json(database(), job, tenant);
  if (!body) throw ClientError{404, error_json("no job " + std::to_string(job))};
  reply(msg, 200, *body);
}

void ApiServer::Private::list_jobs(SoupServerMessage *msg, std::int64_t tenant, GHashTable *query) {
  auto arg = [&](const char *name) -> std::optional<std::string> {
    const char *v = query ? static_cast<const char *>(g_hash_table_lookup(query, name)) : nullptr;
    if (!v) return std::nullopt;
    return std::string(v);
  };
  static const std::set<std::string> statuses{"queued",    "running", "paused",
                                              "succeeded", "failed",  "cancelled"};
  const auto status = arg("status");
  if (status && !statuses.contains(*status))
    throw ClientError{400, error_json("status is one of queued, running, paused, succeeded, "
                                      "failed, cancelled")};
  std::int64_t limit = 20;
  if (const auto text = arg("limit")) {
    const auto parsed = parse_id(*text);
    if (!parsed || *parsed > 100) throw ClientError{400, error_json("limit is from 1 to 100")};
    limit = *parsed;
  }
  std::optional<std::int64_t> cursor;
  if (const auto text = arg("cursor")) {
    cursor = parse_id(*text);
    if (!cursor) throw ClientError{400, error_json("cursor is the next_cursor of a previous page")};
  }
  reply(msg, 200,
        store::job_page_json(database(), tenant,
                             {.status = status, .before_id = cursor, .limit = limit}));
}

void ApiServer::Private::act(SoupServerMessage *msg, std::int64_t tenant, std::int64_t job,
                             const std::string &action) {
  JsonNodePtr body = body_json(msg, action == "approve");
  JsonObject *top = json_node_get_object(body.get());
  if (!store::job_belongs_to(database(), job, tenant))
    throw ClientError{404, error_json("no job " + std::to_string(job))};
  JobControl control(database());
  JobControl::Outcome outcome;
  if (action == "approve") {
    JsonNode *choice = json_object_get_member(top, "choice");
    if (!choice || !JSON_NODE_HOLDS_VALUE(choice) ||
        json_node_get_value_type(choice) != G_TYPE_INT64)
      throw ClientError{422, errors_json({{"/choice",
                                           "choice is the number of the option "
                                           "approved, from 0"}})};
    outcome = control.approve(job, static_cast<int>(json_node_get_int(choice)));
  } else if (action == "reject") {
    outcome = control.reject(
        job, json_object_get_string_member_with_default(top, "reason", "no reason given"));
  } else if (action == "cancel") {
    outcome = control.cancel(job);
  } else {
    outcome = control.resume(job);
  }
  switch (outcome) {
    case JobControl::Outcome::kDone:
      return reply(msg, 200, string_json("outcome", "done"));
    case JobControl::Outcome::kAlreadyDone:
      return reply(msg, 200, string_json("outcome", "already-done"));
    case JobControl::Outcome::kNotFound:
      throw ClientError{404, error_json("no job " + std::to_string(job))};
    case JobControl::Outcome::kInvalidChoice:
      throw ClientError{422, errors_json({{"/choice", "there is no such choice"}})};
    case JobControl::Outcome::kConflict:
      break;
  }
  throw ClientError{409, error_json("cannot " + action + " job " + std::to_string(job) +
                                    " in its current state; GET it to see why")};
}

void ApiServer::Private::artifact(SoupServerMessage *msg, std::int64_t tenant, std::int64_t id) {
  const auto stored = store::tenant_artifact(database(), id, tenant);
  if (!stored) throw ClientError{404, error_json("no artifact " + std::to_string(id))};
  const std::string &uri = stored->uri;
  /* A delivered copy is served like the file it copies. */
  std::string kind = stored->kind;
  if (kind.starts_with("delivered-")) kind = kind.substr(10);
  if (!uri.starts_with("file://"))
    throw ClientError{404, error_json("artifact " + std::to_string(id) + " is stored at " + uri)};
  GError *raw_error = nullptr;
  std::unique_ptr<GMappedFile, MappedFileDeleter> file(
      g_mapped_file_new(uri.substr(7).c_str(), FALSE, &raw_error));
  GErrorPtr error(raw_error);
  if (!file) throw ClientError{410, error_json("artifact " + std::to_string(id) + " is gone")};
  GBytesPtr bytes(g_mapped_file_get_bytes(file.get()));
  const goffset total = static_cast<goffset>(g_bytes_get_size(bytes.get()));

  SoupMessageHeaders *request = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers(msg);
  const char *type = kind == "video"       ? "video/mp4"
                     : kind == "thumbnail" ? "image/jpeg"
                                           : "application/json";
  soup_message_headers_set_content_type(response, type, nullptr);
  soup_message_headers_replace(response, "Accept-Ranges", "bytes");
  SoupMessageBody *out = soup_server_message_get_response_body(msg);

  if (soup_message_headers_get_one(request, "Range")) {
    SoupRange *ranges = nullptr;
    int count = 0;
    const bool satisfiable = soup_message_headers_get_ranges(request, total, &ranges, &count);
    if (satisfiable && (count < 1 || ranges[0].start >= total || ranges[0].end >= total ||
                        ranges[0].start > ranges[0].end)) {
      soup_message_headers_free_ranges(request, ranges);
      ranges = nullptr;
      count = 0;
    }
    if (!satisfiable || count == 0) {
      const std::string range = "bytes */" + std::to_string(total);
      soup_message_headers_replace(response, "Content-Range", range.c_str());
      throw ClientError{416, error_json("the range is outside the " + std::to_string(total) +
                                        " bytes of the artifact")};
    }
    const goffset start = ranges[0].start, end = ranges[0].end;
    soup_message_headers_free_ranges(request, ranges);
    if (count == 1) {
      soup_message_headers_set_content_range(response, start, end, total);
      GBytesPtr part(g_bytes_new_from_bytes(bytes.get(), start, end - start + 1));
      soup_server_message_set_status(msg, 206, nullptr);
      soup_message_body_append_bytes(out, part.get());
      return;
    }
    /* Several ranges: the whole file, which is a valid answer. */
  }
  soup_server_message_set_status(msg, 200, nullptr);
  soup_message_body_append_bytes(out, bytes.get());
}

namespace {

/* No exception crosses into libsoup: every failure becomes a response. */
void on_request(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer data) {
  auto *p = static_cast<ApiServer::Private *>(data);
  try {
    p->handle(msg, path, query);
  } catch (const ClientError &e) {
    reply(msg, e.status, e.body);
  } catch (const DatabaseError &e) {
    if (e.connection_lost()) p->db.reset();
    g_message("API: %s %s: %s", soup_server_message_get_method(msg), path, e.what());
    reply(msg, 503, error_json("the database is unavailable; try again shortly"));
  } catch (const std::exception &e) {
    g_message("API: %s %s: %s", soup_server_message_get_method(msg), path, e.what());
    reply(msg, 500, error_json("internal error; the daemon's log says more"));
  }
}

/* Refuses an oversized body from its Content-Length, before reading it. */
void on_headers(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer data) {
  auto *p = static_cast<ApiServer::Private *>(data);
  const goffset length =
      soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg));
  if (length > static_cast<goffset>(p->options.max_body)) {
    soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
    reply(msg, 413,
          error_json("the body is larger than " + std::to_string(p->options.max_body) + " bytes"));
  }
}

}  // namespace

ApiServer::ApiServer(Options options) : p_(std::make_unique<Private>()) {
  p_->options = std::move(options);
  const std::string &listen = p_->options.listen;
  const auto colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const char *first = listen.data() + colon + 1, *last = listen.data() + listen.size();
    const auto [end, ec] = std::from_chars(first, last, port);
    if (ec != std::errc() || end != last || first == last || port > 65535) port = -1;
  }
  if (port < 0)
    throw std::runtime_error("--listen takes HOST:PORT (e.g. 127.0.0.1:8750), not \"" + listen +
                             "\"");
  const std::string host = listen.substr(0, colon);
  GObjectPtr<GSocketAddress> address(
      g_inet_socket_address_new_from_string(host.c_str(), static_cast<guint>(port)));
  if (!address)
    throw std::runtime_error("--listen: \"" + host + "\" is not an IP address (e.g. 127.0.0.1)");

  p_->server.reset(soup_server_new("server-header", "reelforge", nullptr));
  soup_server_add_early_handler(p_->server.get(), nullptr, on_headers, p_.get(), nullptr);
  soup_server_add_handler(p_->server.get(), nullptr, on_request, p_.get(), nullptr);
  GError *raw_error = nullptr;
  if (!soup_server_listen(p_->server.get(), address.get(), static_cast<SoupServerListenOptions>(0),
                          &raw_error)) {
    GErrorPtr error(raw_error);
    throw std::runtime_error("cannot listen on " + listen + ": " + error->message);
  }
}

ApiServer::~ApiServer() {
  if (p_ && p_->server) soup_server_disconnect(p_->server.get());
}

std::string ApiServer::url() const {
  GSList *uris = soup_server_get_uris(p_->server.get());
  std::string url;
  if (uris) {
    GCharPtr text(g_uri_to_string(static_cast<GUri *>(uris->data)));
    url = text.get();
    if (url.ends_with("/")) url.pop_back();
  }
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  return url;
}

}  // namespace reelforge::api
