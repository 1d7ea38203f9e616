/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What genvideosrc is asked to generate, as a plain value: the provider, the
 * model and the inputs. Its normalised form (trimmed, whitespace-collapsed
 * prompt, sorted keys, defaults made explicit, local images by content) is
 * the idempotency key sent to providers and the cache key, so that two
 * requests for the same clip are recognised as one.
 *
 * The genvideo:// URI carries the same fields:
 *   genvideo://<provider>/<model...>?prompt=...&duration=8&aspect_ratio=9:16
 *     &negative_prompt=...&image=<uri>&last_image=<uri>&resolution=720p&seed=N
 *     &extra=<json object>&cache_dir=...&timeout=<s>&max_concurrent=N
 *     &cancel_on_stop=false
 * (dashes or underscores in names; values percent-encoded). The model may
 * contain slashes (Replicate's owner/name); `local` needs none.
 */
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::gen {

/* Providers genvideosrc speaks to; `local` renders offline. */
const std::vector<std::string> &known_providers();

struct GenRequest {
  std::string provider;
  std::string model;
  std::string prompt;
  std::string negative_prompt;
  std::string image;      /* first frame: a URI or a path; empty if none */
  std::string last_image; /* last frame; empty if none */
  double duration_s = 0;  /* 0: the model's default */
  std::string aspect_ratio = "9:16";
  std::string resolution; /* e.g. 720p, 1080p, or WxH (local); empty: provider default */
  std::int64_t seed = -1; /* -1: none */
  std::string extra;      /* JSON object text with model-specific inputs; empty if none */

  /* The canonical JSON text of the request (no secrets, no endpoint). */
  std::string normalised() const;
  /* Hex SHA-256 of normalised(): the idempotency and cache key. */
  std::string key() const;

  /* Throws std::invalid_argument naming the first field that is wrong and
   * what would fix it. */
  void validate() const;

  /* Width and height of the result for the local renderer (and the
   * aspect check): from resolution (WxH, or NNNp on the short side) and
   * aspect_ratio. */
  std::pair<int, int> frame_size() const;
  /* aspect_ratio as width / height. */
  double aspect() const;
};

/* Options a genvideo:// URI may carry beside the request. */
struct UriOptions {
  std::map<std::string, std::string> settings; /* cache-dir, timeout, max-concurrent... */
};

/* Parses a genvideo:// URI; throws std::invalid_argument naming the part
 * that is wrong. */
GenRequest parse_genvideo_uri(const std::string &uri, UriOptions *options = nullptr);

/* The URI for request (percent-encoded; fields left at their defaults are
 * omitted). */
std::string to_genvideo_uri(const GenRequest &request);

/* Where a content-addressed cache under cache_dir keeps request's result:
 * <cache_dir>/<provider>/<key>.mp4. */
std::string cache_file(const std::string &cache_dir, const GenRequest &request);

/* One provider of a fallback chain: the request as that provider gets it,
 * and its base URL (empty: the provider's public one). */
struct ChainEntry {
  GenRequest request;
  std::string endpoint;
};

/* primary (sent to endpoint) followed by the entries of fallback, a JSON
 * array of {"provider", "model", "endpoint", "prompt", "negative-prompt",
 * "image", "last-image", "duration", "aspect-ratio", "resolution", "seed",
 * "extra"} objects, each inheriting from primary what it does not set
 * (except model, extra and endpoint). Every request is validated. Throws
 * std::invalid_argument naming the entry, e.g. "fallback[1]: model ...". */
std::vector<ChainEntry> request_chain(const GenRequest &primary, const std::string &endpoint,
                                      const std::string &fallback);

/* A local path for an image reference (a path or a file:// URI); empty
 * for other schemes. */
std::string local_image_path(const std::string &reference);

}  // namespace reelforge::gen
