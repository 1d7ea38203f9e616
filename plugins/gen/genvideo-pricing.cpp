/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "genvideo-pricing.h"

#include "gst-ptr.h"
#include "json-file.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include <cstdio>
#include <mutex>

namespace reelforge::gen {

namespace {

constexpr const char *kPricingResource = "/dev/reelforge/pricing.json";

JsonNode *pricing_root() {
  static std::once_flag once;
  static JsonNode *root = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    try {
      if (const char *path = g_getenv("REELFORGE_PRICING"); path && *path) {
        root = load_json_file(path).release();
        return;
      }
      GBytesPtr bytes(
          g_resources_lookup_data(kPricingResource, G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr));
      if (!bytes) throw std::runtime_error("pricing: built-in pricing.json is missing");
      gsize size = 0;
      const auto *data = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
      root = parse_json(std::string_view(data, size), std::string("resource:") + kPricingResource)
                 .release();
    } catch (const std::exception &e) {
      failure = e.what();
    }
  });
  if (root == nullptr) throw std::runtime_error(failure);
  return root;
}

JsonObject *object_member(JsonObject *object, const char *name) {
  if (object == nullptr || !json_object_has_member(object, name)) return nullptr;
  JsonNode *node = json_object_get_member(object, name);
  return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : nullptr;
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

}  // namespace

CostEstimate estimate_cost(const GenRequest &request, double duration_s) {
  JsonNode *root = pricing_root();
  CostEstimate estimate;
  if (!JSON_NODE_HOLDS_OBJECT(root)) return estimate;
  JsonObject *top = json_node_get_object(root);
  if (json_object_has_member(top, "currency"))
    estimate.currency = json_object_get_string_member(top, "currency");
  JsonObject *provider = object_member(object_member(top, "providers"), request.provider.c_str());
  JsonObject *entry = object_member(object_member(provider, "models"), request.model.c_str());
  if (entry == nullptr) entry = object_member(provider, "default");
  if (entry == nullptr) return estimate;
  const std::string source =
      json_object_has_member(entry, "source") ? json_object_get_string_member(entry, "source") : "";
  const std::string as_of =
      json_object_has_member(entry, "as_of") ? json_object_get_string_member(entry, "as_of") : "";
  const std::string origin = source.empty() ? "" : " (" + source + ", " + as_of + ")";
  estimate.known = true;
  if (json_object_has_member(entry, "per_second")) {
    double seconds = duration_s > 0 ? duration_s : request.duration_s;
    if (seconds <= 0 && json_object_has_member(entry, "default_duration"))
      seconds = json_object_get_double_member(entry, "default_duration");
    const double rate = json_object_get_double_member(entry, "per_second");
    estimate.amount = rate * seconds;
    estimate.basis =
        number(seconds) + " s x " + number(rate) + " " + estimate.currency + "/s" + origin;
  } else if (json_object_has_member(entry, "per_generation")) {
    estimate.amount = json_object_get_double_member(entry, "per_generation");
    estimate.basis = number(estimate.amount) + " " + estimate.currency + " per generation" + origin;
  } else {
    estimate.known = false;
  }
  return estimate;
}

}  // namespace reelforge::gen
