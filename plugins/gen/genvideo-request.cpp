/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "genvideo-request.h"

#include "gst-ptr.h"
#include "json-file.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace reelforge::gen {

namespace {

std::string collapse_whitespace(const std::string &text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (g_ascii_isspace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

/* JSON with object members sorted by name, so equal inputs print equally. */
void write_canonical(JsonNode *node, std::string &out) {
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
      JsonObject *object = json_node_get_object(node);
      GList *members = json_object_get_members(object);
      std::vector<std::string> names;
      for (GList *m = members; m; m = m->next) names.emplace_back(static_cast<char *>(m->data));
      g_list_free(members);
      std::sort(names.begin(), names.end());
      out += '{';
      for (size_t i = 0; i < names.size(); ++i) {
        if (i) out += ',';
        JsonNodePtr key(json_node_new(JSON_NODE_VALUE));
        json_node_set_string(key.get(), names[i].c_str());
        out += to_json_string(key.get(), false);
        out += ':';
        write_canonical(json_object_get_member(object, names[i].c_str()), out);
      }
      out += '}';
      break;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *array = json_node_get_array(node);
      out += '[';
      for (guint i = 0; i < json_array_get_length(array); ++i) {
        if (i) out += ',';
        write_canonical(json_array_get_element(array, i), out);
      }
      out += ']';
      break;
    }
    default:
      out += to_json_string(node, false);
  }
}

std::string json_string(const std::string &text) {
  JsonNodePtr node(json_node_new(JSON_NODE_VALUE));
  json_node_set_string(node.get(), text.c_str());
  return to_json_string(node.get(), false);
}

std::string sha256_hex(const std::string &data) {
  GCharPtr hex(g_compute_checksum_for_data(
      G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(data.data()), data.size()));
  return hex.get();
}

/* A local image by its content (moving or renaming it keeps the key), any
 * other reference as written. */
std::string image_identity(const std::string &reference) {
  if (reference.empty()) return "";
  const std::string path = local_image_path(reference);
  if (path.empty()) return reference;
  std::ifstream in(path, std::ios::binary);
  if (!in) return reference; /* validate() reports it */
  std::ostringstream content;
  content << in.rdbuf();
  return "sha256:" + sha256_hex(content.str());
}

std::string format_number(double value) {
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buffer, sizeof buffer, "%.3f", value);
  std::string text = buffer;
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string canonical_name(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

/* A string member, or an object member as JSON text; fallback if absent. */
std::string text_member(JsonObject *o, const char *name, const std::string &fallback) {
  if (!json_object_has_member(o, name)) return fallback;
  if (std::optional<std::string> text = string_member(o, name)) return *text;
  JsonNode *node = json_object_get_member(o, name);
  if (JSON_NODE_HOLDS_OBJECT(node)) return to_json_string(node, false);
  throw std::invalid_argument(std::string(name) + " must be a string");
}

ChainEntry fallback_entry(const GenRequest &primary, JsonObject *o) {
  ChainEntry next{primary, ""};
  GenRequest &r = next.request;
  r.provider = text_member(o, "provider", "");
  if (r.provider.empty()) throw std::invalid_argument("provider is required");
  r.model = text_member(o, "model", "");
  r.prompt = text_member(o, "prompt", r.prompt);
  r.negative_prompt = text_member(o, "negative-prompt", r.negative_prompt);
  r.image = text_member(o, "image", r.image);
  r.last_image = text_member(o, "last-image", r.last_image);
  r.aspect_ratio = text_member(o, "aspect-ratio", r.aspect_ratio);
  r.resolution = text_member(o, "resolution", r.resolution);
  r.extra = text_member(o, "extra", "");
  if (json_object_has_member(o, "duration"))
    r.duration_s = json_object_get_double_member(o, "duration");
  if (json_object_has_member(o, "seed")) r.seed = json_object_get_int_member(o, "seed");
  next.endpoint = text_member(o, "endpoint", "");
  return next;
}

}  // namespace

std::string cache_file(const std::string &cache_dir, const GenRequest &request) {
  return cache_dir + G_DIR_SEPARATOR_S + request.provider + G_DIR_SEPARATOR_S + request.key() +
         ".mp4";
}

std::vector<ChainEntry> request_chain(const GenRequest &primary, const std::string &endpoint,
                                      const std::string &fallback) {
  std::vector<ChainEntry> chain{{primary, endpoint}};
  if (!fallback.empty()) {
    JsonNodePtr root;
    try {
      root = parse_json(fallback, "fallback");
    } catch (const std::exception &e) {
      throw std::invalid_argument(std::string("fallback: not JSON: ") + e.what());
    }
    if (!JSON_NODE_HOLDS_ARRAY(root.get()))
      throw std::invalid_argument(
          "fallback: must be a JSON array of {\"provider\", \"model\", ...} objects");
    JsonArray *array = json_node_get_array(root.get());
    for (guint i = 0; i < json_array_get_length(array); ++i) {
      const std::string where = "fallback[" + std::to_string(i) + "]";
      JsonNode *node = json_array_get_element(array, i);
      if (!JSON_NODE_HOLDS_OBJECT(node)) throw std::invalid_argument(where + ": must be an object");
      try {
        chain.push_back(fallback_entry(primary, json_node_get_object(node)));
      } catch (const std::invalid_argument &e) {
        throw std::invalid_argument(where + ": " + e.what());
      }
    }
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    try {
      chain[i].request.validate();
    } catch (const std::invalid_argument &e) {
      throw std::invalid_argument(
          (i == 0 ? std::string() : "fallback[" + std::to_string(i - 1) + "]: ") + e.what());
    }
  }
  return chain;
}

const std::vector<std::string> &known_providers() {
  static const std::vector<std::string> providers = {"replicate", "runway", "veo",
                                                     "fal",       "luma",   "local"};
  return providers;
}

std::string local_image_path(const std::string &reference) {
  if (reference.empty()) return "";
  if (g_str_has_prefix(reference.c_str(), "file:")) {
    GCharPtr path(g_filename_from_uri(reference.c_str(), nullptr, nullptr));
    return path ? path.get() : "";
  }
  GCharPtr scheme(g_uri_parse_scheme(reference.c_str()));
  return scheme ? "" : reference;
}

std::string GenRequest::normalised() const {
  std::string out = "{";
  out += "\"aspect_ratio\":" + json_string(aspect_ratio);
  out += ",\"duration\":" + format_number(duration_s);
  if (!extra.empty()) {
    std::string canonical;
    try {
      auto node = parse_json(extra, "extra");
      write_canonical(node.get(), canonical);
    } catch (const std::exception &) {
      canonical = json_string(extra); /* validate() reports it */
    }
    out += ",\"extra\":" + canonical;
  }
  if (!image.empty()) out += ",\"image\":" + json_string(image_identity(image));
  if (!last_image.empty()) out += ",\"last_image\":" + json_string(image_identity(last_image));
  out += ",\"model\":" + json_string(model);
  if (!negative_prompt.empty())
    out += ",\"negative_prompt\":" + json_string(collapse_whitespace(negative_prompt));
  out += ",\"prompt\":" + json_string(collapse_whitespace(prompt));
  out += ",\"provider\":" + json_string(provider);
  if (!resolution.empty()) out += ",\"resolution\":" + json_string(resolution);
  if (seed >= 0) out += ",\"seed\":" + std::to_string(seed);
  out += "}";
  return out;
}

std::string GenRequest::key() const {
  return sha256_hex(normalised());
}

double GenRequest::aspect() const {
  int w = 0, h = 0;
  char colon = 0;
  std::istringstream in(aspect_ratio);
  if (!(in >> w >> colon >> h) || colon != ':' || w <= 0 || h <= 0) return 0;
  return static_cast<double>(w) / h;
}

std::pair<int, int> GenRequest::frame_size() const {
  const double ratio = aspect() > 0 ? aspect() : 9.0 / 16.0;
  int w = 0, h = 0;
  if (std::sscanf(resolution.c_str(), "%dx%d", &w, &h) == 2 && w > 0 && h > 0) return {w, h};
  int short_side = 720;
  if (std::sscanf(resolution.c_str(), "%dp", &short_side) != 1 || short_side <= 0) short_side = 720;
  auto even = [](double v) { return std::max(2, static_cast<int>(std::lround(v / 2)) * 2); };
  if (ratio < 1) return {short_side, even(short_side / ratio)};
  return {even(short_side * ratio), short_side};
}

void GenRequest::validate() const {
  const auto &providers = known_providers();
  if (std::find(providers.begin(), providers.end(), provider) == providers.end())
    throw std::invalid_argument("provider: \"" + provider +
                                "\" is not one of replicate, runway, veo, fal, luma, local");
  if (provider != "local" && model.empty())
    throw std::invalid_argument("model: the " + provider +
                                " provider needs a model (e.g. google/veo-3-fast on replicate)");
  if (prompt.empty() && image.empty())
    throw std::invalid_argument("prompt: give a prompt or an image to generate from");
  if (duration_s < 0 || duration_s > 60)
    throw std::invalid_argument("duration: " + format_number(duration_s) +
                                " s is outside 0..60 (0 means the model's default)");
  if (aspect() <= 0)
    throw std::invalid_argument("aspect-ratio: \"" + aspect_ratio +
                                "\" is not W:H (e.g. 9:16, 16:9, 1:1)");
  if (!extra.empty()) {
    JsonNodePtr node;
    try {
      node = parse_json(extra, "extra");
    } catch (const std::exception &e) {
      throw std::invalid_argument(std::string("extra: not JSON: ") + e.what());
    }
    if (!JSON_NODE_HOLDS_OBJECT(node.get()))
      throw std::invalid_argument("extra: must be a JSON object of model inputs");
  }
  for (const auto &[field, reference] : {std::pair{"image", image}, {"last-image", last_image}}) {
    const std::string path = local_image_path(reference);
    if (!path.empty() && !g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR))
      throw std::invalid_argument(std::string(field) + ": no file at " + path);
  }
  if (!last_image.empty() && image.empty())
    throw std::invalid_argument("last-image: needs image (the first frame) too");
}

GenRequest parse_genvideo_uri(const std::string &uri, UriOptions *options) {
  GError *raw_error = nullptr;
  GUri *parsed = g_uri_parse(uri.c_str(), G_URI_FLAGS_ENCODED_QUERY, &raw_error);
  GErrorPtr error(raw_error);
  if (parsed == nullptr)
    throw std::invalid_argument("not a URI: " + std::string(error ? error->message : uri));
  std::unique_ptr<GUri, decltype(&g_uri_unref)> guard(parsed, &g_uri_unref);
  if (g_strcmp0(g_uri_get_scheme(parsed), "genvideo") != 0)
    throw std::invalid_argument("scheme: expected genvideo://provider/model?prompt=...");
  GenRequest request;
  request.provider = g_uri_get_host(parsed) ? g_uri_get_host(parsed) : "";
  std::string path = g_uri_get_path(parsed) ? g_uri_get_path(parsed) : "";
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  GCharPtr model(g_uri_unescape_string(path.c_str(), nullptr));
  request.model = model ? model.get() : path;

  if (const char *query = g_uri_get_query(parsed)) {
    GHashTable *params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_WWW_FORM, &raw_error);
    error.reset(raw_error);
    if (params == nullptr)
      throw std::invalid_argument("query: " + std::string(error ? error->message : "malformed"));
    std::unique_ptr<GHashTable, decltype(&g_hash_table_unref)> params_guard(params,
                                                                            &g_hash_table_unref);
    GHashTableIter iter;
    gpointer k, v;
    g_hash_table_iter_init(&iter, params);
    while (g_hash_table_iter_next(&iter, &k, &v)) {
      const std::string name = canonical_name(static_cast<const char *>(k));
      const std::string value = static_cast<const char *>(v);
      auto number = [&](const char *what) {
        char *end = nullptr;
        const double n = g_ascii_strtod(value.c_str(), &end);
        if (end == value.c_str() || *end != '\0')
          throw std::invalid_argument(std::string(what) + ": \"" + value + "\" is not a number");
        return n;
      };
      if (name == "prompt")
        request.prompt = value;
      else if (name == "negative_prompt")
        request.negative_prompt = value;
      else if (name == "image")
        request.image = value;
      else if (name == "last_image")
        request.last_image = value;
      else if (name == "duration")
        request.duration_s = number("duration");
      else if (name == "aspect_ratio")
        request.aspect_ratio = value;
      else if (name == "resolution")
        request.resolution = value;
      else if (name == "seed")
        request.seed = static_cast<std::int64_t>(number("seed"));
      else if (name == "extra")
        request.extra = value;
      else if (name == "cache_dir" || name == "timeout" || name == "max_concurrent" ||
               name == "resume_id" || name == "endpoint" || name == "stagger" ||
               name == "poll_interval" || name == "fallback" || name == "cancel_on_stop") {
        std::string setting = name;
        std::replace(setting.begin(), setting.end(), '_', '-');
        if (options) options->settings[setting] = value;
      } else {
        throw std::invalid_argument(
            "query: unknown parameter \"" + name +
            "\" (known: prompt, negative_prompt, image, last_image, "
            "duration, aspect_ratio, resolution, seed, extra, cache_dir, "
            "timeout, max_concurrent, resume_id, endpoint, stagger, poll_interval, "
            "fallback)");
      }
    }
  }
  return request;
}

std::string to_genvideo_uri(const GenRequest &request) {
  auto escape = [](const std::string &text) {
    GCharPtr escaped(g_uri_escape_string(text.c_str(), nullptr, FALSE));
    return std::string(escaped.get());
  };
  GCharPtr model(g_uri_escape_string(request.model.c_str(), "/", FALSE));
  std::string uri = "genvideo://" + request.provider + "/" + model.get() + "?";
  std::vector<std::string> params;
  if (!request.prompt.empty()) params.push_back("prompt=" + escape(request.prompt));
  if (!request.negative_prompt.empty())
    params.push_back("negative_prompt=" + escape(request.negative_prompt));
  if (!request.image.empty()) params.push_back("image=" + escape(request.image));
  if (!request.last_image.empty()) params.push_back("last_image=" + escape(request.last_image));
  if (request.duration_s > 0) params.push_back("duration=" + format_number(request.duration_s));
  params.push_back("aspect_ratio=" + escape(request.aspect_ratio));
  if (!request.resolution.empty()) params.push_back("resolution=" + escape(request.resolution));
  if (request.seed >= 0) params.push_back("seed=" + std::to_string(request.seed));
  if (!request.extra.empty()) params.push_back("extra=" + escape(request.extra));
  for (size_t i = 0; i < params.size(); ++i) uri += (i ? "&" : "") + params[i];
  return uri;
}

}  // namespace reelforge::gen
