/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A scene source {"generate": {...}} becomes a genvideo:// clip URI that
 * stitchbin plays through genvideosrc: the first provider of the chain in
 * the URI, the others in its `fallback` parameter. Without "providers",
 * the chain comes from the routing data (schemas/routing.json, or the file
 * REELFORGE_ROUTING names) by the source's "category".
 */
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::spec {

struct GenerateProvider {
  std::string provider;
  std::string model;
  std::string endpoint;
  std::string extra; /* JSON object text */
};

struct GenerateSpec {
  std::vector<GenerateProvider> providers; /* empty: from the routing by category */
  std::string category;                    /* empty: the routing's default */
  std::string prompt;
  std::string negative_prompt;
  std::string image; /* a URI (local files resolved by the spec reader) */
  std::string last_image;
  double duration_s = 0;
  std::string aspect_ratio = "9:16";
  std::string resolution;
  std::int64_t seed = -1;
};

/* The chain for category (empty: the default one). Throws
 * std::invalid_argument naming the category and the known ones. */
std::vector<GenerateProvider> routing_chain(const std::string &category);

/* The genvideo:// URI for spec. Throws std::invalid_argument with a message
 * naming the member that is wrong (e.g. "providers/1/provider: ..."). */
std::string generate_uri(const GenerateSpec &spec);

}  // namespace reelforge::spec
