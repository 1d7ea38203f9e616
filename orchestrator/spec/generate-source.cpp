/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "spec/generate-source.h"

#include "genvideo-request.h"
#include "gst-ptr.h"
#include "json-file.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

namespace reelforge::spec {

namespace {

constexpr const char *kRoutingResource = "/dev/reelforge/routing.json";

JsonNodePtr load_routing() {
  if (const char *path = g_getenv("REELFORGE_ROUTING"); path && *path) return load_json_file(path);
  GBytesPtr bytes(g_resources_lookup_data(kRoutingResource, G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr));
  if (!bytes) throw std::runtime_error("the built-in routing.json is missing");
  gsize size = 0;
  const auto *data = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
  return parse_json(std::string_view(data, size), std::string("resource:") + kRoutingResource);
}

std::string text_member(JsonObject *o, const char *name) {
  if (!json_object_has_member(o, name)) return "";
  JsonNode *node = json_object_get_member(o, name);
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    return json_node_get_string(node);
  return to_json_string(node, false);
}

gen::GenRequest request_for(const GenerateSpec &spec, const GenerateProvider &provider) {
  gen::GenRequest request;
  request.provider = provider.provider;
  request.model = provider.model;
  request.prompt = spec.prompt;
  request.negative_prompt = spec.negative_prompt;
  request.image = spec.image;
  request.last_image = spec.last_image;
  request.duration_s = spec.duration_s;
  request.aspect_ratio = spec.aspect_ratio;
  request.resolution = spec.resolution;
  request.seed = spec.seed;
  request.extra = provider.extra;
  return request;
}

}  // namespace

std::vector<GenerateProvider> routing_chain(const std::string &category) {
  JsonNodePtr root = load_routing();
  JsonObject *top = JSON_NODE_HOLDS_OBJECT(root.get()) ? json_node_get_object(root.get()) : nullptr;
  JsonObject *categories = top && json_object_has_member(top, "categories")
                               ? json_object_get_object_member(top, "categories")
                               : nullptr;
  if (categories == nullptr) throw std::invalid_argument("routing data has no \"categories\"");
  const std::string name = category.empty() ? text_member(top, "default_category") : category;
  if (!json_object_has_member(categories, name.c_str())) {
    std::string known;
    GList *members = json_object_get_members(categories);
    for (GList *m = members; m; m = m->next)
      known += std::string(known.empty() ? "" : ", ") + static_cast<char *>(m->data);
    g_list_free(members);
    throw std::invalid_argument("category: \"" + name + "\" is not in the routing data (known: " +
                                known + "); add it to routing.json or use one of those");
  }
  std::vector<GenerateProvider> chain;
  JsonArray *entries = json_object_get_array_member(categories, name.c_str());
  for (guint i = 0; entries && i < json_array_get_length(entries); ++i) {
    JsonObject *entry = json_array_get_object_element(entries, i);
    if (entry == nullptr) continue;
    chain.push_back({text_member(entry, "provider"), text_member(entry, "model"),
                     text_member(entry, "endpoint"), text_member(entry, "extra")});
  }
  if (chain.empty())
    throw std::invalid_argument("category: \"" + name + "\" has no providers in the routing data");
  return chain;
}

std::string generate_uri(const GenerateSpec &spec) {
  std::vector<GenerateProvider> chain =
      spec.providers.empty() ? routing_chain(spec.category) : spec.providers;
  for (size_t i = 0; i < chain.size(); ++i) {
    try {
      request_for(spec, chain[i]).validate();
    } catch (const std::invalid_argument &e) {
      throw std::invalid_argument(
          (spec.providers.empty()
               ? "routing \"" + spec.category + "\" entry " + std::to_string(i) + ": "
               : "providers/" + std::to_string(i) + "/") +
          e.what());
    }
  }
  std::string uri = gen::to_genvideo_uri(request_for(spec, chain[0]));
  if (!chain[0].endpoint.empty()) {
    GCharPtr escaped(g_uri_escape_string(chain[0].endpoint.c_str(), nullptr, FALSE));
    uri += std::string("&endpoint=") + escaped.get();
  }
  if (chain.size() > 1) {
    GObjectPtr<JsonBuilder> b(json_builder_new());
    json_builder_begin_array(b.get());
    for (size_t i = 1; i < chain.size(); ++i) {
      json_builder_begin_object(b.get());
      for (const auto &[name, value] : {std::pair{"provider", chain[i].provider},
                                        {"model", chain[i].model},
                                        {"endpoint", chain[i].endpoint},
                                        {"extra", chain[i].extra}}) {
        if (value.empty()) continue;
        json_builder_set_member_name(b.get(), name);
        json_builder_add_string_value(b.get(), value.c_str());
      }
      json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
    JsonNodePtr node(json_builder_get_root(b.get()));
    GCharPtr escaped(
        g_uri_escape_string(to_json_string(node.get(), false).c_str(), nullptr, FALSE));
    uri += std::string("&fallback=") + escaped.get();
  }
  return uri;
}

}  // namespace reelforge::spec
