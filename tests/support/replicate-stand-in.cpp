/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "replicate-stand-in.h"

#include "json-file.h"

#include <json-glib/json-glib.h>

namespace reelforge::test {

namespace {

std::string tail(const std::string &path) {
  return path.substr(path.rfind('/') + 1);
}

}  // namespace

ReplicateStandIn::ReplicateStandIn(std::string clip, int polls_before_done)
    : clip_(std::move(clip)), polls_before_done_(polls_before_done) {
  server_.route("POST", "/v1/models/", [this](const RecordedRequest &r) { return create(r); });
  server_.route("GET", "/v1/predictions/", [this](const RecordedRequest &r) { return get(r); });
  server_.route("POST", "/v1/predictions/", [this](const RecordedRequest &r) { return cancel(r); });
  server_.route("GET", "/files/", [this](const RecordedRequest &r) { return file(r); });
}

std::map<std::string, ReplicateStandIn::Prediction> ReplicateStandIn::predictions() const {
  std::lock_guard lock(mutex_);
  return predictions_;
}

int ReplicateStandIn::submissions() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(predictions_.size());
}

int ReplicateStandIn::in_flight() const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto &[id, p] : predictions_)
    n += !p.succeeded && !p.cancelled && p.prompt.find("UNSAFE") == std::string::npos;
  return n;
}

std::string ReplicateStandIn::prediction_json(const std::string &id,
                                              const std::string &status) const {
  std::string output = "null", error = "null";
  if (status == "succeeded") output = "\"" + server_.url() + "/files/" + id + ".mp4\"";
  if (status == "failed")
    error =
        "\"The input or output was flagged as sensitive. Please try again with different "
        "inputs. (E005)\"";
  return R"({"id":")" + id + R"(","model":"minimax/hailuo-02","status":")" + status +
         R"(","output":)" + output + R"(,"error":)" + error + R"(,"urls":{"get":")" +
         server_.url() + "/v1/predictions/" + id + R"(","cancel":")" + server_.url() +
         "/v1/predictions/" + id + R"(/cancel"}})";
}

Reply ReplicateStandIn::create(const RecordedRequest &r) {
  if (r.header("Authorization").value_or("") != std::string("Bearer ") + kToken)
    return Reply::json(401,
                       R"({"title":"Unauthenticated","detail":"Invalid token.","status":401})");
  Prediction p;
  try {
    JsonNodePtr body = parse_json(r.body, "prediction");
    JsonObject *input = json_object_get_object_member(json_node_get_object(body.get()), "input");
    p.prompt = json_object_get_string_member_with_default(input, "prompt", "");
  } catch (const std::exception &) {
    return Reply::json(422, R"({"title":"Invalid input","status":422})");
  }
  std::lock_guard lock(mutex_);
  const std::string id = "pred" + std::to_string(++next_id_);
  predictions_[id] = p;
  int now = 0;
  for (const auto &[other, q] : predictions_) now += !q.succeeded && !q.cancelled;
  int seen = max_in_flight_.load();
  while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
  }
  return Reply::json(201, prediction_json(id, "starting"));
}

Reply ReplicateStandIn::get(const RecordedRequest &r) {
  if (r.header("Authorization").value_or("") != std::string("Bearer ") + kToken)
    return Reply::json(401, R"({"detail":"Invalid token."})");
  std::lock_guard lock(mutex_);
  const std::string id = tail(r.path);
  auto it = predictions_.find(id);
  if (it == predictions_.end())
    return Reply::json(404, R"({"title":"Not found","detail":"Not found.","status":404})");
  Prediction &p = it->second;
  ++p.polls;
  if (p.cancelled) return Reply::json(200, prediction_json(id, "canceled"));
  if (p.prompt.find("UNSAFE") != std::string::npos)
    return Reply::json(200, prediction_json(id, "failed"));
  if (p.polls <= polls_before_done_) return Reply::json(200, prediction_json(id, "processing"));
  p.succeeded = true;
  return Reply::json(200, prediction_json(id, "succeeded"));
}

Reply ReplicateStandIn::cancel(const RecordedRequest &r) {
  if (!r.path.ends_with("/cancel")) return Reply::json(404, R"({"detail":"Not found."})");
  std::lock_guard lock(mutex_);
  const std::string path = r.path.substr(0, r.path.size() - std::string("/cancel").size());
  const std::string id = tail(path);
  auto it = predictions_.find(id);
  if (it == predictions_.end()) return Reply::json(404, R"({"detail":"Not found."})");
  if (!it->second.succeeded) it->second.cancelled = true;
  return Reply::json(200, prediction_json(id, it->second.succeeded ? "succeeded" : "canceled"));
}

Reply ReplicateStandIn::file(const RecordedRequest &r) {
  {
    std::lock_guard lock(mutex_);
    const std::string name = tail(r.path);
    auto it = predictions_.find(name.substr(0, name.find('.')));
    if (it == predictions_.end()) return Reply::text(404, "NoSuchKey");
    it->second.downloaded = true;
  }
  return StandInServer::serve_bytes(r, clip_);
}

}  // namespace reelforge::test
