/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "spec/variations.h"

#include <algorithm>
#include <cctype>

namespace reelforge::spec {

namespace {

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

bool excluded(const std::vector<std::pair<std::string, DimensionValue>> &values,
              const std::vector<ExclusionRule> &rules) {
  for (const ExclusionRule &rule : rules) {
    const bool all_match = std::all_of(rule.pairs.begin(), rule.pairs.end(), [&](const auto &pair) {
      return std::any_of(values.begin(), values.end(), [&](const auto &value) {
        return value.first == pair.first && value.second.text == pair.second;
      });
    });
    if (all_match && !rule.pairs.empty()) return true;
  }
  return false;
}

/* In document order, which json_object_get_members() keeps. */
std::vector<std::string> member_names(JsonObject *object) {
  std::vector<std::string> names;
  GList *list = json_object_get_members(object);
  for (GList *l = list; l != nullptr; l = l->next) names.emplace_back(static_cast<char *>(l->data));
  g_list_free(list);
  return names;
}

JsonNode *substitute_node(JsonNode *node, const Variant &variant) {
  switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT: {
      JsonObject *source = json_node_get_object(node);
      JsonObject *copy = json_object_new();
      for (const std::string &name : member_names(source))
        json_object_set_member(
            copy, name.c_str(),
            substitute_node(json_object_get_member(source, name.c_str()), variant));
      JsonNode *result = json_node_init_object(json_node_alloc(), copy);
      json_object_unref(copy);
      return result;
    }
    case JSON_NODE_ARRAY: {
      JsonArray *source = json_node_get_array(node);
      JsonArray *copy = json_array_sized_new(json_array_get_length(source));
      for (guint i = 0; i < json_array_get_length(source); ++i)
        json_array_add_element(copy, substitute_node(json_array_get_element(source, i), variant));
      JsonNode *result = json_node_init_array(json_node_alloc(), copy);
      json_array_unref(copy);
      return result;
    }
    case JSON_NODE_VALUE:
      if (json_node_get_value_type(node) == G_TYPE_STRING) {
        const std::string text = json_node_get_string(node);
        const std::vector<TemplateReference> templates = find_templates(text);
        if (templates.size() == 1 && templates[0].length == text.size()) {
          const DimensionValue *value = variant.value_of(templates[0].name);
          if (value != nullptr && value->is_number) {
            /* The text came from a JSON number, so it parses back to one. */
            JsonNodePtr number(json_from_string(value->text.c_str(), nullptr));
            if (number) return json_node_copy(number.get());
          }
        }
        return json_node_init_string(json_node_alloc(),
                                     substitute_templates(text, variant).c_str());
      }
      return json_node_copy(node);
    case JSON_NODE_NULL:
      break;
  }
  return json_node_copy(node);
}

}  // namespace

const Dimension *Variations::find(const std::string &name) const {
  for (const Dimension &dimension : dimensions)
    if (dimension.name == name) return &dimension;
  return nullptr;
}

const DimensionValue *Variant::value_of(const std::string &name) const {
  for (const auto &[dimension, value] : values)
    if (dimension == name) return &value;
  return nullptr;
}

std::string sanitise_name(const std::string &text) {
  std::string name;
  bool pending_dash = false;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 128) {
      if (pending_dash && !name.empty()) name += '-';
      pending_dash = false;
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      pending_dash = true;
    }
  }
  return name;
}

std::string variant_name(const std::vector<std::pair<std::string, DimensionValue>> &values) {
  std::string name;
  for (const auto &[dimension, value] : values) {
    if (!name.empty()) name += '_';
    name += sanitise_name(dimension) + "-" + sanitise_name(value.text);
  }
  return name;
}

std::vector<Variant> expand_variations(const Variations &variations, const std::string &job_name) {
  if (variations.dimensions.empty()) {
    const std::string name = sanitise_name(job_name);
    return {Variant{name.empty() ? "job" : name, {}}};
  }
  for (const Dimension &dimension : variations.dimensions)
    if (dimension.values.empty()) return {};

  std::vector<Variant> variants;
  /* An odometer over the value indexes, the last dimension turning fastest. */
  std::vector<size_t> index(variations.dimensions.size(), 0);
  for (;;) {
    std::vector<std::pair<std::string, DimensionValue>> values;
    for (size_t d = 0; d < index.size(); ++d)
      values.emplace_back(variations.dimensions[d].name, variations.dimensions[d].values[index[d]]);
    if (!excluded(values, variations.exclude))
      variants.push_back(Variant{variant_name(values), std::move(values)});
    size_t d = index.size();
    while (d > 0) {
      --d;
      if (++index[d] < variations.dimensions[d].values.size()) break;
      index[d] = 0;
      if (d == 0) return variants;
    }
  }
}

std::vector<TemplateReference> find_templates(const std::string &text) {
  std::vector<TemplateReference> found;
  for (size_t at = text.find("${"); at != std::string::npos; at = text.find("${", at + 1)) {
    size_t end = at + 2;
    if (end >= text.size() || !is_name_start(text[end])) continue;
    while (end < text.size() && is_name_char(text[end])) ++end;
    if (end >= text.size() || text[end] != '}') continue;
    found.push_back({at, end + 1 - at, text.substr(at + 2, end - at - 2)});
  }
  return found;
}

std::string substitute_templates(const std::string &text, const Variant &variant) {
  std::string result;
  size_t copied = 0;
  for (const TemplateReference &reference : find_templates(text)) {
    const DimensionValue *value = variant.value_of(reference.name);
    if (value == nullptr) continue;
    result += text.substr(copied, reference.offset - copied) + value->text;
    copied = reference.offset + reference.length;
  }
  return result + text.substr(copied);
}

JsonNodePtr substitute_document(JsonNode *document, const Variant &variant,
                                const std::vector<std::string> &skip_members) {
  if (JSON_NODE_TYPE(document) != JSON_NODE_OBJECT)
    return JsonNodePtr(substitute_node(document, variant));
  JsonObject *source = json_node_get_object(document);
  JsonObject *copy = json_object_new();
  for (const std::string &name : member_names(source)) {
    JsonNode *child = json_object_get_member(source, name.c_str());
    const bool skip =
        std::find(skip_members.begin(), skip_members.end(), name) != skip_members.end();
    json_object_set_member(copy, name.c_str(),
                           skip ? json_node_copy(child) : substitute_node(child, variant));
  }
  JsonNodePtr result(json_node_init_object(json_node_alloc(), copy));
  json_object_unref(copy);
  return result;
}

}  // namespace reelforge::spec
