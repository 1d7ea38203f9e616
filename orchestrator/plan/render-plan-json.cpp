/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A render plan as stored: its JSON, its hash, and the digests of the
 * files it reads.
 */
#include "json-file.h"
#include "json-writer.h"
#include "plan/render-plan.h"

#include <fstream>
#include <memory>

namespace reelforge::plan {

namespace {

/* Bumped when a member is added or changes meaning: a stored plan of
 * another version is refused rather than run half-understood. */
constexpr std::int64_t kFormatVersion = 1;

/* Every member but the hash, in the canonical order. */
void write_content(JsonWriter &w, const RenderPlan &plan) {
  w.member("version", kFormatVersion);
  w.member("name", plan.name);
  w.member("folder", plan.folder.string());
  w.member("description", plan.description);
  w.member("stream_copy", plan.stream_copy);
  w.member("uri_prefix", plan.uri_prefix);
  w.member("duration_s", plan.duration_s);
  w.member("timeout_s", plan.timeout_s);
  w.begin_array("outputs");
  for (const RenderOutput &output : plan.outputs) {
    w.begin_object();
    w.member("name", output.name);
    w.member("platform", output.platform);
    w.member("video", output.video.string());
    w.member("report", output.report.string());
    w.member("thumbnails", output.thumbnails);
    w.member("thumbnail_count", static_cast<std::int64_t>(output.thumbnail_count));
    w.end_object();
  }
  w.end_array();
  w.begin_array("inputs");
  for (const PlannedInput &input : plan.inputs) {
    w.begin_object();
    w.member("path", input.path.string());
    w.member("size", input.size);
    w.member("sha256", input.sha256);
    w.end_object();
  }
  w.end_array();
}

/* Typed reads of a stored plan's members; a wrong one names itself. */
class PlanReader {
 public:
  PlanReader(JsonNode *node, std::string pointer) : pointer_(std::move(pointer)) {
    if (!node || !JSON_NODE_HOLDS_OBJECT(node))
      throw PlanError("render plan" + pointer_ + ": not a JSON object");
    object_ = json_node_get_object(node);
  }

  std::string string(const char *name) const {
    JsonNode *node = value(name, G_TYPE_STRING, "a string");
    return json_node_get_string(node);
  }
  double number(const char *name) const {
    JsonNode *node = member(name);
    const GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_NONE;
    if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64) fail(name, "a number");
    return json_node_get_double(node);
  }
  std::int64_t integer(const char *name) const {
    return json_node_get_int(value(name, G_TYPE_INT64, "an integer"));
  }
  bool boolean(const char *name) const {
    return json_node_get_boolean(value(name, G_TYPE_BOOLEAN, "true or false"));
  }
  JsonArray *array(const char *name) const {
    JsonNode *node = member(name);
    if (!JSON_NODE_HOLDS_ARRAY(node)) fail(name, "an array");
    return json_node_get_array(node);
  }
  std::string at(const char *name) const { return pointer_ + "/" + name; }

 private:
  JsonNode *member(const char *name) const {
    JsonNode *node = json_object_get_member(object_, name);
    if (!node) throw PlanError("render plan" + at(name) + ": missing");
    return node;
  }
  JsonNode *value(const char *name, GType type, const char *what) const {
    JsonNode *node = member(name);
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != type) fail(name, what);
    return node;
  }
  [[noreturn]] void fail(const char *name, const char *what) const {
    throw PlanError("render plan" + at(name) + ": not " + what);
  }

  std::string pointer_;
  JsonObject *object_ = nullptr;
};

RenderOutput output_from_json(JsonNode *node, const std::string &pointer) {
  const PlanReader in(node, pointer);
  const std::int64_t thumbnails = in.integer("thumbnail_count");
  if (thumbnails < 0) throw PlanError("render plan" + in.at("thumbnail_count") + ": negative");
  return {.name = in.string("name"),
          .platform = in.string("platform"),
          .video = in.string("video"),
          .report = in.string("report"),
          .thumbnails = in.string("thumbnails"),
          .thumbnail_count = static_cast<unsigned>(thumbnails)};
}

PlannedInput input_from_json(JsonNode *node, const std::string &pointer) {
  const PlanReader in(node, pointer);
  return {.path = in.string("path"), .size = in.integer("size"), .sha256 = in.string("sha256")};
}

}  // namespace

std::string content_hash(const RenderPlan &plan) {
  JsonWriter w;
  w.begin_object();
  write_content(w, plan);
  w.end_object();
  const std::string canonical = w.text();
  GCharPtr hash(g_compute_checksum_for_string(G_CHECKSUM_SHA256, canonical.data(),
                                              static_cast<gssize>(canonical.size())));
  return hash.get();
}

void seal(RenderPlan &plan) {
  plan.hash = content_hash(plan);
}

JsonNodePtr to_json(const RenderPlan &plan) {
  JsonWriter w;
  w.begin_object();
  write_content(w, plan);
  w.member("hash", plan.hash);
  w.end_object();
  return JsonNodePtr(json_builder_get_root(w.get()));
}

std::string to_json_text(const RenderPlan &plan, bool pretty) {
  JsonNodePtr node = to_json(plan);
  return to_json_string(node.get(), pretty);
}

RenderPlan from_json(JsonNode *node) {
  const PlanReader in(node, "");
  if (const std::int64_t version = in.integer("version"); version != kFormatVersion)
    throw PlanError("render plan/version: " + std::to_string(version) + " is not " +
                    std::to_string(kFormatVersion) + " (planned by another reelforge: plan again)");
  RenderPlan plan;
  plan.name = in.string("name");
  plan.folder = in.string("folder");
  plan.description = in.string("description");
  plan.stream_copy = in.boolean("stream_copy");
  plan.uri_prefix = in.string("uri_prefix");
  plan.duration_s = in.number("duration_s");
  plan.timeout_s = in.number("timeout_s");
  JsonArray *outputs = in.array("outputs");
  for (guint i = 0; i < json_array_get_length(outputs); ++i)
    plan.outputs.push_back(
        output_from_json(json_array_get_element(outputs, i), "/outputs/" + std::to_string(i)));
  JsonArray *inputs = in.array("inputs");
  for (guint i = 0; i < json_array_get_length(inputs); ++i)
    plan.inputs.push_back(
        input_from_json(json_array_get_element(inputs, i), "/inputs/" + std::to_string(i)));
  plan.hash = in.string("hash");
  if (const std::string content = content_hash(plan); content != plan.hash)
    throw PlanError("render plan " + plan.name + ": its content hashes to " + content +
                    ", not to the recorded " + plan.hash +
                    " (the plan was changed after it was made)");
  return plan;
}

PlannedInput digest_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PlanError("cannot read " + path.string());
  std::unique_ptr<GChecksum, decltype(&g_checksum_free)> checksum(g_checksum_new(G_CHECKSUM_SHA256),
                                                                  g_checksum_free);
  std::int64_t size = 0;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    g_checksum_update(checksum.get(), reinterpret_cast<const guchar *>(chunk), in.gcount());
    size += in.gcount();
  }
  if (in.bad()) throw PlanError("cannot read " + path.string());
  return {.path = path, .size = size, .sha256 = g_checksum_get_string(checksum.get())};
}

}  // namespace reelforge::plan
