/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "json-file.h"

#include <stdexcept>

namespace reelforge {

namespace {

JsonNodePtr take_root(JsonParser *parser, const std::string &origin) {
  JsonNode *root = json_parser_get_root(parser);
  if (root == nullptr) throw std::runtime_error(origin + ": empty document, expected JSON");
  return JsonNodePtr(json_node_copy(root));
}

/* json-glib's message already carries the line and column. */
[[noreturn]] void throw_parse_error(const GError *error, const std::string &origin) {
  throw std::runtime_error(origin + ": not valid JSON (" + error->message + ")");
}

}  // namespace

JsonNodePtr load_json_file(const std::string &path) {
  GObjectPtr<JsonParser> parser(json_parser_new_immutable());
  GError *raw_error = nullptr;
  if (!json_parser_load_from_file(parser.get(), path.c_str(), &raw_error)) {
    GErrorPtr error(raw_error);
    if (error->domain == G_FILE_ERROR) throw std::runtime_error(path + ": " + error->message);
    throw_parse_error(error.get(), path);
  }
  return take_root(parser.get(), path);
}

JsonNodePtr parse_json(std::string_view text, const std::string &origin) {
  GObjectPtr<JsonParser> parser(json_parser_new_immutable());
  GError *raw_error = nullptr;
  if (!json_parser_load_from_data(parser.get(), text.data(), static_cast<gssize>(text.size()),
                                  &raw_error)) {
    GErrorPtr error(raw_error);
    throw_parse_error(error.get(), origin);
  }
  return take_root(parser.get(), origin);
}

std::string to_json_string(JsonNode *node, bool pretty) {
  GObjectPtr<JsonGenerator> generator(json_generator_new());
  json_generator_set_root(generator.get(), node);
  json_generator_set_pretty(generator.get(), pretty);
  json_generator_set_indent(generator.get(), 2);
  GCharPtr text(json_generator_to_data(generator.get(), nullptr));
  return text.get();
}

std::optional<std::string> string_member(JsonObject *object, const char *name) {
  JsonNode *node = object != nullptr ? json_object_get_member(object, name) : nullptr;
  if (node == nullptr || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_STRING)
    return std::nullopt;
  return std::string(json_node_get_string(node));
}

}  // namespace reelforge
