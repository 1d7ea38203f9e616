/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge submit JOB.json | status ID [--watch] | approve ID --choice N |
 *           reject ID [--reason TEXT] | cancel ID | resume ID
 *
 * Clients of a running `reelforge serve`: the API's URL comes from --url or
 * REELFORGE_URL (default http://127.0.0.1:8750), the key from --key or
 * REELFORGE_API_KEY. The key is sent, never printed.
 */
#include "commands/commands.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "json-writer.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

namespace reelforge {

namespace {

constexpr const char *kClientUsage =
    "Usage: reelforge submit JOB.json [--priority 0-9] [--budget USD]\n"
    "                        [--approval before-render|before-upload]\n"
    "       reelforge status ID [--watch]\n"
    "       reelforge approve ID --choice N\n"
    "       reelforge reject ID [--reason TEXT]\n"
    "       reelforge cancel ID\n"
    "       reelforge resume ID\n"
    "\n"
    "Talk to `reelforge serve`. Common options:\n"
    "  --url URL     the API (default $REELFORGE_URL or http://127.0.0.1:8750)\n"
    "  --key KEY     the API key (default $REELFORGE_API_KEY; see `reelforge keys`)\n"
    "\n"
    "Exit status: 0 done, 1 the job ended badly (status --watch), 2 refused or bad input.\n";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Response {
  guint status = 0;
  std::string body;
};

struct Client {
  std::string url;
  std::string key;
  GObjectPtr<SoupSession> session{soup_session_new()};

  Response call(const char *method, const std::string &path, const std::string &body = "") {
    const std::string full = url + path;
    GObjectPtr<SoupMessage> msg(soup_message_new(method, full.c_str()));
    if (!msg) throw UsageError("--url: \"" + url + "\" is not an http:// URL");
    const std::string auth = "Bearer " + key;
    soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization",
                                 auth.c_str());
    if (!body.empty()) {
      GBytesPtr bytes(g_bytes_new(body.data(), body.size()));
      soup_message_set_request_body_from_bytes(msg.get(), "application/json", bytes.get());
    }
    GError *raw_error = nullptr;
    GBytesPtr reply(soup_session_send_and_read(session.get(), msg.get(), nullptr, &raw_error));
    GErrorPtr error(raw_error);
    if (!reply)
      throw std::runtime_error("cannot reach " + url +
                               " (is `reelforge serve` running?): " + error->message);
    gsize size = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(reply.get(), &size));
    return {soup_message_get_status(msg.get()), std::string(data ? data : "", size)};
  }
};

JsonObject *object_of(const JsonNodePtr &node) {
  return JSON_NODE_HOLDS_OBJECT(node.get()) ? json_node_get_object(node.get()) : nullptr;
}

/* Prints the API's complaint; returns the exit status for it. */
int complain(const char *command, const Response &r) {
  std::string message = r.body;
  try {
    JsonNodePtr node = parse_json(r.body, "the reply");
    if (JsonObject *o = object_of(node)) {
      message = json_object_get_string_member_with_default(o, "error", r.body.c_str());
      if (json_object_has_member(o, "errors")) {
        JsonArray *errors = json_object_get_array_member(o, "errors");
        for (guint i = 0; i < json_array_get_length(errors); ++i) {
          JsonObject *e = json_array_get_object_element(errors, i);
          message += std::string("\n  ") +
                     json_object_get_string_member_with_default(e, "pointer", "") + ": " +
                     json_object_get_string_member_with_default(e, "message", "");
        }
      }
    }
  } catch (const std::exception &) {
    /* not JSON: print as is */
  }
  std::fprintf(stderr, "reelforge %s: HTTP %u: %s\n", command, r.status, message.c_str());
  return kExitBadInput;
}

std::string describe(JsonObject *job) {
  std::string out = "job " + std::to_string(json_object_get_int_member(job, "id")) + ": " +
                    json_object_get_string_member_with_default(job, "status", "?");
  if (JsonObject *p = json_object_get_object_member(job, "progress"))
    out += " (" + std::to_string(json_object_get_int_member(p, "succeeded")) + "/" +
           std::to_string(json_object_get_int_member(p, "steps")) + " steps)";
  if (const char *reason = json_object_get_string_member_with_default(job, "reason", nullptr))
    out += std::string(": ") + reason;
  out += "\n";
  JsonArray *steps = json_object_get_array_member(job, "steps");
  for (guint i = 0; steps && i < json_array_get_length(steps); ++i) {
    JsonObject *s = json_array_get_object_element(steps, i);
    out += "  step " + std::to_string(json_object_get_int_member(s, "id")) + " " +
           json_object_get_string_member_with_default(s, "kind", "") + " " +
           json_object_get_string_member_with_default(s, "status", "");
    if (const char *w = json_object_get_string_member_with_default(s, "waiting_for", nullptr))
      out += std::string(" (waiting for ") + w + ")";
    if (const char *v = json_object_get_string_member_with_default(s, "variant", nullptr))
      out += std::string(" [") + v + "]";
    JsonNode *outputs = json_object_get_member(s, "outputs");
    if (std::string(json_object_get_string_member_with_default(s, "kind", "")) == "approval" &&
        outputs && JSON_NODE_HOLDS_OBJECT(outputs)) {
      GCharPtr text(json_to_string(outputs, FALSE));
      out += std::string(" ") + text.get();
    }
    out += "\n";
  }
  JsonArray *artifacts = json_object_get_array_member(job, "artifacts");
  for (guint i = 0; artifacts && i < json_array_get_length(artifacts); ++i) {
    JsonObject *a = json_array_get_object_element(artifacts, i);
    /* Delivered objects by where they went, the others by their API URL. */
    const char *where = json_object_get_string_member_with_default(
        a, "uri", json_object_get_string_member_with_default(a, "url", ""));
    out += std::string("  artifact ") + json_object_get_string_member_with_default(a, "kind", "") +
           " " + where + " (" + std::to_string(json_object_get_int_member(a, "size")) + " bytes)\n";
  }
  return out;
}

/* What the command line asked for. */
struct ClientArguments {
  Client client;
  std::string target; /* the job spec (submit) or the job's id */
  std::optional<int> choice, priority;
  std::optional<double> budget;
  std::string reason = "no reason given", approval;
  bool watch = false;
};

/* Throws UsageError. */
ClientArguments parse_client_arguments(const std::string &command,
                                       const std::vector<std::string> &args) {
  ClientArguments parsed;
  Client &client = parsed.client;
  const char *env_url = std::getenv("REELFORGE_URL");
  client.url = env_url ? env_url : "http://127.0.0.1:8750";
  if (const char *env_key = std::getenv("REELFORGE_API_KEY")) client.key = env_key;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--url")
      client.url = value();
    else if (arg == "--key")
      client.key = value();
    else if (arg == "--watch" && command == "status")
      parsed.watch = true;
    else if (arg == "--choice" && command == "approve")
      parsed.choice = std::atoi(value().c_str());
    else if (arg == "--reason" && command == "reject")
      parsed.reason = value();
    else if (arg == "--priority" && command == "submit")
      parsed.priority = std::atoi(value().c_str());
    else if (arg == "--budget" && command == "submit")
      parsed.budget = std::atof(value().c_str());
    else if (arg == "--approval" && command == "submit")
      parsed.approval = value();
    else if (arg.starts_with("-"))
      throw UsageError("unknown option " + arg);
    else
      positional.push_back(arg);
  }
  if (positional.size() != 1)
    throw UsageError(command == "submit" ? "give one job spec" : "give one job id");
  if (command == "approve" && !parsed.choice) throw UsageError("approve needs --choice N");
  if (client.key.empty())
    throw UsageError("no API key: give --key or set REELFORGE_API_KEY (`reelforge keys create`)");
  while (client.url.ends_with("/")) client.url.pop_back();
  parsed.target = positional[0];
  return parsed;
}

/* POST /v1/jobs with the spec file's document; prints the new job's id. */
int submit(ClientArguments &parsed) {
  JsonNodePtr spec;
  try {
    spec = load_json_file(parsed.target);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reelforge submit: %s\n", e.what());
    return kExitBadInput;
  }
  JsonWriter body;
  body.begin_object();
  body.member_node("spec", spec.get());
  body.member("base_dir", std::filesystem::absolute(parsed.target).parent_path().string());
  if (parsed.priority) body.member("priority", *parsed.priority);
  if (parsed.budget) body.member("budget", *parsed.budget);
  if (!parsed.approval.empty()) body.member("approval", parsed.approval);
  body.end_object();
  const Response r = parsed.client.call("POST", "/v1/jobs", body.text());
  if (r.status != 201) return complain("submit", r);
  JsonNodePtr reply = parse_json(r.body, "the reply");
  std::printf("%" G_GINT64_FORMAT "\n", json_object_get_int_member(object_of(reply), "id"));
  return kExitOk;
}

/* Prints the job, and with --watch again on every change until it ends. */
int status(ClientArguments &parsed) {
  std::string last;
  for (;;) {
    const Response r = parsed.client.call("GET", "/v1/jobs/" + parsed.target);
    if (r.status != 200) return complain("status", r);
    JsonNodePtr reply = parse_json(r.body, "the reply");
    const std::string text = describe(object_of(reply));
    if (text != last) {
      std::fputs(text.c_str(), stdout);
      std::fflush(stdout);
      last = text;
    }
    const std::string status =
        json_object_get_string_member_with_default(object_of(reply), "status", "");
    const bool ended =
        status == "succeeded" || status == "failed" || status == "cancelled" || status == "paused";
    if (!parsed.watch) return kExitOk;
    if (ended) return status == "succeeded" ? kExitOk : kExitQcFailed;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

/* approve, reject, cancel or resume: POST /v1/jobs/ID/<command>. */
int act(const std::string &command, ClientArguments &parsed) {
  std::string body;
  if (command == "approve" || command == "reject") {
    JsonWriter w;
    w.begin_object();
    if (command == "approve")
      w.member("choice", *parsed.choice);
    else
      w.member("reason", parsed.reason);
    w.end_object();
    body = w.text();
  }
  const Response r = parsed.client.call("POST", "/v1/jobs/" + parsed.target + "/" + command, body);
  if (r.status != 200) return complain(command.c_str(), r);
  JsonNodePtr reply = parse_json(r.body, "the reply");
  std::printf("job %s: %s %s\n", parsed.target.c_str(), command.c_str(),
              json_object_get_string_member_with_default(object_of(reply), "outcome", ""));
  return kExitOk;
}

}  // namespace

int client_command(const std::string &command, const std::vector<std::string> &args) {
  for (const auto &arg : args)
    if (arg == "--help" || arg == "-h") {
      std::fputs(kClientUsage, stdout);
      return kExitOk;
    }
  ClientArguments parsed;
  try {
    parsed = parse_client_arguments(command, args);
  } catch (const UsageError &e) {
    std::fprintf(stderr, "reelforge %s: %s\n\n%s", command.c_str(), e.what(), kClientUsage);
    return kExitBadInput;
  }
  if (command == "submit") return submit(parsed);
  if (command == "status") return status(parsed);
  return act(command, parsed);
}

}  // namespace reelforge
