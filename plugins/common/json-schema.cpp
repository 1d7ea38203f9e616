/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * valijson validates; the code here turns its reports into SchemaErrors.
 *
 * valijson describes each failure with a document location ({"<root>",
 * "[scenes]", "[2]"}) and an English sentence made for debugging ("Failed to
 * match against any enum values."). The sentence is recognised by its fixed
 * wording (valijson 1.0, validation_visitor.hpp), and the details it leaves
 * out (the enum values, the allowed properties, the expected type) are read
 * from the schema objects that apply at that location. When that lookup is
 * unsure the message stays generic, or is valijson's own text.
 */
#include "json-schema.h"

#include "json-file.h"
#include "valijson-json-glib-adapter.h"

#include <gio/gio.h>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <tuple>

namespace reelforge {

/* The schema as valijson runs it, and as JSON to explain its errors. */
std::string escape_pointer_token(const std::string &token) {
  std::string escaped;
  for (const char c : token) {
    if (c == '~')
      escaped += "~0";
    else if (c == '/')
      escaped += "~1";
    else
      escaped += c;
  }
  return escaped;
}

struct JsonSchema::Parsed {
  std::string origin;
  JsonNodePtr root;
  valijson::Schema schema;
};

namespace {

using valijson::adapters::JsonGlibAdapter;
using valijson::adapters::json_glib::Kind;
using valijson::adapters::json_glib::kind_of;

/* A place in a document: one member name or array index per level. */
using Path = std::vector<std::string>;

/* ---- JSON pointers (RFC 6901) ---- */

std::string to_pointer(const Path &path) {
  std::string pointer;
  for (const std::string &token : path) pointer += "/" + escape_pointer_token(token);
  return pointer;
}

bool is_within(const Path &path, const Path &base) {
  return path.size() >= base.size() && std::equal(base.begin(), base.end(), path.begin());
}

/* valijson's context is {"<root>", "[scenes]", "[2]", ...}; member names and
 * indexes look the same, which is also true of JSON pointers. */
Path path_from_context(const std::vector<std::string> &context) {
  Path path;
  for (size_t i = 0; i < context.size(); ++i) {
    const std::string &part = context[i];
    if (i == 0 && part == "<root>") continue;
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']')
      path.push_back(part.substr(1, part.size() - 2));
    else
      path.push_back(part);
  }
  return path;
}

/* ---- Reading JSON ---- */

std::optional<size_t> parse_index(std::string_view token) {
  if (token.empty()) return std::nullopt;
  size_t index = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), index);
  if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return index;
}

/* The member or element named by token; nullptr when there is none. */
JsonNode *child_node(JsonNode *node, const std::string &token) {
  switch (kind_of(node)) {
    case Kind::kObject:
      return json_object_get_member(json_node_get_object(node), token.c_str());
    case Kind::kArray: {
      JsonArray *array = json_node_get_array(node);
      const std::optional<size_t> index = parse_index(token);
      if (!index || *index >= json_array_get_length(array)) return nullptr;
      return json_array_get_element(array, static_cast<guint>(*index));
    }
    default:
      return nullptr;
  }
}

JsonNode *node_at(JsonNode *root, const Path &path) {
  JsonNode *node = root;
  for (const std::string &token : path) {
    node = child_node(node, token);
    if (node == nullptr) return nullptr;
  }
  return node;
}

JsonObject *as_object(JsonNode *node) {
  return kind_of(node) == Kind::kObject ? json_node_get_object(node) : nullptr;
}

JsonArray *as_array(JsonNode *node) {
  return kind_of(node) == Kind::kArray ? json_node_get_array(node) : nullptr;
}

JsonNode *member(JsonObject *object, const char *name) {
  return object != nullptr ? json_object_get_member(object, name) : nullptr;
}

std::vector<JsonNode *> elements(JsonArray *array) {
  std::vector<JsonNode *> nodes;
  if (array == nullptr) return nodes;
  for (guint i = 0; i < json_array_get_length(array); ++i)
    nodes.push_back(json_array_get_element(array, i));
  return nodes;
}

/* Member names in document order. */
std::vector<std::string> member_names(JsonObject *object) {
  std::vector<std::string> names;
  if (object == nullptr) return names;
  GList *list = json_object_get_members(object);
  for (GList *l = list; l != nullptr; l = l->next) names.emplace_back(static_cast<char *>(l->data));
  g_list_free(list);
  return names;
}

bool is_number(JsonNode *node) {
  const Kind kind = kind_of(node);
  return kind == Kind::kInteger || kind == Kind::kDouble;
}

double number_value(JsonNode *node) {
  if (json_node_get_value_type(node) == G_TYPE_INT64)
    return static_cast<double>(json_node_get_int(node));
  return json_node_get_double(node);
}

bool json_equal(JsonNode *a, JsonNode *b) {
  return JsonGlibAdapter(a).equalTo(JsonGlibAdapter(b), true);
}

/* valijson uses std::regex with its default (ECMAScript) grammar. */
bool regex_finds(const std::string &pattern, const std::string &text) {
  try {
    return std::regex_search(text, std::regex(pattern));
  } catch (const std::regex_error &) {
    return false;
  }
}

/* ---- Writing values into sentences ---- */

/* Shortest text that reads back as the same double. */
std::string format_number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string number_text(JsonNode *node) {
  if (json_node_get_value_type(node) == G_TYPE_INT64)
    return std::to_string(json_node_get_int(node));
  return format_number(json_node_get_double(node));
}

std::string quoted(const std::string &text) {
  JsonNodePtr node(json_node_init_string(json_node_alloc(), text.c_str()));
  return to_json_string(node.get(), false);
}

/* A scalar as JSON (strings quoted), a container as compact JSON. */
std::string json_text(JsonNode *node) {
  switch (kind_of(node)) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return json_node_get_boolean(node) ? "true" : "false";
    case Kind::kInteger:
    case Kind::kDouble:
      return number_text(node);
    case Kind::kString:
      return quoted(json_node_get_string(node));
    case Kind::kArray:
    case Kind::kObject:
      return to_json_string(node, false);
  }
  return "null";
}

/* A document value as the subject of a sentence: "\"swoosh\"", "0",
 * "an object". Long strings are shortened. */
std::string describe_value(JsonNode *node) {
  constexpr glong kMaxCharacters = 40;
  switch (kind_of(node)) {
    case Kind::kString: {
      const char *text = json_node_get_string(node);
      if (g_utf8_strlen(text, -1) <= kMaxCharacters) return quoted(text);
      GCharPtr start(g_utf8_substring(text, 0, kMaxCharacters - 3));
      return quoted(std::string(start.get()) + "...");
    }
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
    default:
      return json_text(node);
  }
}

/* An enum value in a list: strings bare, as users type them. */
std::string list_item_text(JsonNode *node) {
  if (kind_of(node) == Kind::kString) return json_node_get_string(node);
  return json_text(node);
}

std::string kind_phrase(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kInteger:
    case Kind::kDouble:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
  }
  return "a value";
}

std::string type_name_phrase(const std::string &type) {
  if (type == "null") return "null";
  if (type == "integer" || type == "object" || type == "array") return "an " + type;
  if (type == "string" || type == "number" || type == "boolean") return "a " + type;
  return quoted(type);
}

bool has_type(JsonNode *value, const std::string &type) {
  const Kind kind = kind_of(value);
  if (type == "string") return kind == Kind::kString;
  if (type == "integer") return kind == Kind::kInteger;
  if (type == "number") return kind == Kind::kInteger || kind == Kind::kDouble;
  if (type == "boolean") return kind == Kind::kBool;
  if (type == "null") return kind == Kind::kNull;
  if (type == "object") return kind == Kind::kObject;
  if (type == "array") return kind == Kind::kArray;
  return true; /* not ours to judge */
}

std::string join(const std::vector<std::string> &items, const std::string &separator) {
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) joined += (i > 0 ? separator : "") + items[i];
  return joined;
}

/* "a", "a or b", "a, b or c" */
std::string join_alternatives(const std::vector<std::string> &items) {
  if (items.size() <= 1) return join(items, "");
  return join(std::vector<std::string>(items.begin(), items.end() - 1), ", ") + " or " +
         items.back();
}

std::string count_of(size_t count, const std::string &singular, const std::string &plural) {
  return std::to_string(count) + " " + (count == 1 ? singular : plural);
}

void add_unique(std::vector<std::string> *items, const std::string &item) {
  if (std::find(items->begin(), items->end(), item) == items->end()) items->push_back(item);
}

/* The node a "#/definitions/clip" reference names within the schema;
 * nullptr for a reference to another document or to nothing. */
JsonNode *resolve_internal_ref(JsonNode *schema_root, const std::string &ref) {
  if (ref.empty() || ref[0] != '#') return nullptr;
  GCharPtr unescaped(g_uri_unescape_string(ref.c_str() + 1, nullptr));
  if (!unescaped) return nullptr;
  std::string pointer = unescaped.get();
  while (!pointer.empty() && pointer.back() == '/') pointer.pop_back(); /* as valijson does */
  JsonNode *node = schema_root;
  size_t start = 0;
  while (start < pointer.size()) {
    if (pointer[start] != '/') return nullptr;
    const size_t end = std::min(pointer.find('/', start + 1), pointer.size());
    std::string token = pointer.substr(start + 1, end - start - 1);
    for (size_t at = 0; (at = token.find("~1", at)) != std::string::npos; ++at)
      token.replace(at, 2, "/");
    for (size_t at = 0; (at = token.find("~0", at)) != std::string::npos; ++at)
      token.replace(at, 2, "~");
    node = child_node(node, token);
    if (node == nullptr) return nullptr;
    start = end;
  }
  return node;
}

/* ---- The schema objects that apply at a place in the document ---- */

/* Walks the schema alongside the document (properties, patternProperties,
 * additionalProperties, items, additionalItems), following "#..." $refs and
 * the branches of allOf/anyOf/oneOf, if-then-else and dependencies. That
 * over-approximates: branches that were never taken are included too, so
 * callers keep only the subschemas whose keyword the value really breaks. */
class SubschemaFinder {
 public:
  SubschemaFinder(JsonNode *schema_root, JsonNode *document)
      : schema_root_(schema_root), document_(document) {}

  std::vector<JsonObject *> at(const Path &path) const {
    std::vector<JsonObject *> current = with_applied({schema_root_});
    JsonNode *value = document_;
    for (const std::string &token : path) {
      std::vector<JsonNode *> next;
      for (JsonObject *schema : current) step_into(schema, value, token, &next);
      value = child_node(value, token);
      if (value == nullptr) return {};
      current = with_applied(next);
    }
    return current;
  }

 private:
  /* Far more than real schemas reach; stops pathological ones. */
  static constexpr size_t kMaxSubschemas = 4096;

  std::vector<JsonObject *> with_applied(const std::vector<JsonNode *> &start) const {
    std::vector<JsonObject *> found;
    std::set<JsonObject *> seen;
    std::vector<JsonNode *> pending(start.rbegin(), start.rend());
    while (!pending.empty() && found.size() < kMaxSubschemas) {
      JsonObject *schema = as_object(pending.back());
      pending.pop_back();
      if (schema == nullptr || !seen.insert(schema).second) continue;
      /* In draft 7 a $ref replaces its sibling keywords. */
      if (const std::optional<std::string> ref = string_member(schema, "$ref")) {
        if (JsonNode *target = resolve_internal_ref(schema_root_, *ref)) pending.push_back(target);
        continue;
      }
      found.push_back(schema);
      std::vector<JsonNode *> applied;
      for (const char *keyword : {"allOf", "anyOf", "oneOf"})
        for (JsonNode *branch : elements(as_array(member(schema, keyword))))
          applied.push_back(branch);
      for (const char *keyword : {"then", "else"})
        if (JsonNode *branch = member(schema, keyword)) applied.push_back(branch);
      JsonObject *dependencies = as_object(member(schema, "dependencies"));
      for (const std::string &name : member_names(dependencies))
        applied.push_back(json_object_get_member(dependencies, name.c_str()));
      pending.insert(pending.end(), applied.rbegin(), applied.rend());
    }
    return found;
  }

  static void step_into(JsonObject *schema, JsonNode *parent, const std::string &token,
                        std::vector<JsonNode *> *out) {
    if (kind_of(parent) == Kind::kObject) {
      bool matched = false;
      if (JsonNode *property = member(as_object(member(schema, "properties")), token.c_str())) {
        out->push_back(property);
        matched = true;
      }
      JsonObject *patterns = as_object(member(schema, "patternProperties"));
      for (const std::string &pattern : member_names(patterns)) {
        if (!regex_finds(pattern, token)) continue;
        out->push_back(json_object_get_member(patterns, pattern.c_str()));
        matched = true;
      }
      if (!matched)
        if (JsonNode *additional = member(schema, "additionalProperties"))
          out->push_back(additional);
    } else if (kind_of(parent) == Kind::kArray) {
      const std::optional<size_t> index = parse_index(token);
      JsonNode *items = member(schema, "items");
      if (JsonArray *positional = as_array(items)) {
        if (index && *index < json_array_get_length(positional))
          out->push_back(json_array_get_element(positional, static_cast<guint>(*index)));
        else if (JsonNode *additional = member(schema, "additionalItems"))
          out->push_back(additional);
      } else if (items != nullptr) {
        out->push_back(items);
      }
    }
  }

  JsonNode *schema_root_;
  JsonNode *document_;
};

/* ---- valijson's reports ---- */

/* What a valijson error says, recognised by its wording. */
enum class Report {
  /* Something inside failed; the specific errors come before these. */
  kPropertyFailed,
  kPatternPropertyFailed,
  kAdditionalPropertyFailed,
  kItemFailed,
  kChildSchemaFailed,
  kAnyOfFailed,
  kOneOfFailed,
  kConditionalFailed,
  kDependentSchemaFailed,
  /* Specific errors. */
  kType,
  kEnum,
  kConst,
  kRequired,
  kUnknownProperty,
  kMinimum,
  kExclusiveMinimum,
  kMaximum,
  kExclusiveMaximum,
  kMinLength,
  kMaxLength,
  kMinItems,
  kMaxItems,
  kMinProperties,
  kMaxProperties,
  kPattern,
  kFormat,
  kMultipleOf,
  kUniqueItems,
  kNot,
  kOneOfSeveral,
  kContains,
  kDependency,
  kTooManyItems,
  kItemBeyondSchemas,
  kOther,
};

bool is_structural(Report report) {
  return report <= Report::kDependentSchemaFailed;
}

struct KnownWording {
  std::string_view prefix;
  Report report;
};

/* Longer prefixes before the shorter ones they start with. */
constexpr KnownWording kKnownWordings[] = {
    {"Failed to validate against schema associated with property name '", Report::kPropertyFailed},
    {"Failed to validate against schema associated with pattern '", Report::kPatternPropertyFailed},
    {"Failed to validate against additional properties schema", Report::kAdditionalPropertyFailed},
    {"Failed to validate item #", Report::kItemFailed},
    {"Failed to validate against child schema #", Report::kChildSchemaFailed},
    {"Failed to validate against any schemas allowed by anyOf", Report::kAnyOfFailed},
    {"Failed to validate against any child schemas allowed by oneOf", Report::kOneOfFailed},
    {"Failed to validate against a conditional schema", Report::kConditionalFailed},
    {"Failed to validate against dependent schema", Report::kDependentSchemaFailed},
    {"Value type not permitted by 'type' constraint", Report::kType},
    {"Failed to match against any enum values", Report::kEnum},
    {"Failed to match expected value set by 'const' constraint", Report::kConst},
    {"Missing required property '", Report::kRequired},
    {"Object contains a property that could not be validated", Report::kUnknownProperty},
    {"Expected number greater than or equal to ", Report::kMinimum},
    {"Expected number greater than ", Report::kExclusiveMinimum},
    {"Expected number less than or equal to ", Report::kMaximum},
    {"Expected number less than ", Report::kExclusiveMaximum},
    {"String should be no fewer than ", Report::kMinLength},
    {"String should be no more than ", Report::kMaxLength},
    {"Array should contain no fewer than ", Report::kMinItems},
    {"Array should contain no more than ", Report::kMaxItems},
    {"Object should have no fewer than ", Report::kMinProperties},
    {"Object should have no more than ", Report::kMaxProperties},
    {"Failed to match regex specified by 'pattern' constraint", Report::kPattern},
    {"String should be a valid ", Report::kFormat},
    {"Value should be a multiple of ", Report::kMultipleOf},
    {"Elements at indexes #", Report::kUniqueItems},
    {"Target should not validate against schema specified in 'not'", Report::kNot},
    {"Failed to validate against exactly one child schema", Report::kOneOfSeveral},
    {"Failed to any values against subschema in 'contains'", Report::kContains},
    {"Missing dependency '", Report::kDependency},
    {"Array contains more items than allowed by items constraint", Report::kTooManyItems},
    {"Cannot validate item #", Report::kItemBeyondSchemas},
};

Report recognise(const std::string &description) {
  for (const KnownWording &wording : kKnownWordings)
    if (description.starts_with(wording.prefix)) return wording.report;
  return Report::kOther;
}

/* One valijson error. */
struct RawError {
  Path path;
  std::string description;
  Report report;
};

/* The text between the first and the last single quote: valijson quotes
 * property names that way. */
std::string quoted_name(const std::string &description) {
  const size_t open = description.find('\'');
  const size_t close = description.rfind('\'');
  if (open == std::string::npos || close <= open) return {};
  return description.substr(open + 1, close - open - 1);
}

/* The number right after the prefix, as in "... no fewer than 3 characters". */
std::optional<double> number_after(const std::string &description, std::string_view prefix) {
  if (description.size() <= prefix.size()) return std::nullopt;
  const char *start = description.c_str() + prefix.size();
  char *end = nullptr;
  const double value = std::strtod(start, &end);
  if (end == start) return std::nullopt;
  return value;
}

/* The numbers after each '#': "Elements at indexes #0 and #2 ...". */
std::vector<size_t> hash_numbers(const std::string &description) {
  std::vector<size_t> numbers;
  for (size_t at = description.find('#'); at != std::string::npos;
       at = description.find('#', at + 1)) {
    size_t end = at + 1;
    while (end < description.size() && g_ascii_isdigit(description[end])) ++end;
    if (const auto number = parse_index(std::string_view(description).substr(at + 1, end - at - 1)))
      numbers.push_back(*number);
  }
  return numbers;
}

/* ---- anyOf / oneOf cascades ---- */

/* An error, and for a failed anyOf/oneOf, what each alternative reported. */
struct ErrorUnit {
  size_t error;
  std::vector<std::vector<ErrorUnit>> alternatives;
};

/* valijson reports in post-order. A failed anyOf/oneOf at P comes out as
 *   <errors of alternative 0> "child schema #0" (at P)
 *   <errors of alternative 1> "child schema #1" (at P) ...
 *   "anyOf failed" (at P)
 * Reading backwards from the last error rebuilds those groups. Where the
 * first alternative starts is not marked; it is taken to stop at the first
 * error outside P, or at P's own group endings, which can only make it
 * shorter (its errors then count as ordinary ones, never hidden). */
class CascadeReader {
 public:
  explicit CascadeReader(const std::vector<RawError> &errors) : errors_(errors) {}

  std::vector<ErrorUnit> read_all() const {
    std::vector<ErrorUnit> units;
    for (std::ptrdiff_t end = std::ssize(errors_) - 1; end >= 0;) {
      std::ptrdiff_t first = end;
      units.push_back(read_unit(end, &first));
      end = first - 1;
    }
    std::reverse(units.begin(), units.end());
    return units;
  }

 private:
  /* Far more alternatives than any schema has; a guard against nonsense. */
  static constexpr size_t kMaxAlternatives = 1024;

  ErrorUnit read_unit(std::ptrdiff_t end, std::ptrdiff_t *first) const {
    ErrorUnit unit{static_cast<size_t>(end), {}};
    const Report report = errors_[end].report;
    if ((report == Report::kAnyOfFailed || report == Report::kOneOfFailed) &&
        read_alternatives(end, &unit, first))
      return unit;
    *first = end;
    return unit;
  }

  bool read_alternatives(std::ptrdiff_t end, ErrorUnit *unit, std::ptrdiff_t *first) const {
    const Path &at = errors_[end].path;
    const std::optional<size_t> last = child_marker(end - 1, at);
    if (!last || *last >= kMaxAlternatives) return false;
    std::vector<std::vector<ErrorUnit>> alternatives(*last + 1);
    size_t current = *last;
    std::ptrdiff_t pos = end - 2;
    while (pos >= 0) {
      const RawError &error = errors_[pos];
      if (current > 0) {
        if (child_marker(pos, at) == current - 1) {
          --current;
          --pos;
          continue;
        }
        if (!is_within(error.path, at)) return false; /* not the expected shape */
      } else if (ends_first_alternative(error, at)) {
        break;
      }
      std::ptrdiff_t unit_first = pos;
      alternatives[current].push_back(read_unit(pos, &unit_first));
      pos = unit_first - 1;
    }
    if (current != 0) return false;
    for (auto &alternative : alternatives) std::reverse(alternative.begin(), alternative.end());
    unit->alternatives = std::move(alternatives);
    *first = pos + 1;
    return true;
  }

  /* k when errors_[i] is "Failed to validate against child schema #k." at at. */
  std::optional<size_t> child_marker(std::ptrdiff_t i, const Path &at) const {
    if (i < 0) return std::nullopt;
    const RawError &error = errors_[i];
    if (error.report != Report::kChildSchemaFailed || error.path != at) return std::nullopt;
    const std::vector<size_t> numbers = hash_numbers(error.description);
    if (numbers.size() != 1) return std::nullopt;
    return numbers[0];
  }

  static bool ends_first_alternative(const RawError &error, const Path &at) {
    if (!is_within(error.path, at)) return true;
    if (error.path != at) return false;
    switch (error.report) {
      case Report::kChildSchemaFailed:
      case Report::kAnyOfFailed:
      case Report::kOneOfFailed:
      case Report::kConditionalFailed:
      case Report::kDependentSchemaFailed:
        return true;
      default:
        return false;
    }
  }

  const std::vector<RawError> &errors_;
};

/* How close an alternative came to matching; higher is closer. */
struct Closeness {
  /* false when the value is plainly meant for another alternative: it has the
   * wrong type, or one of its members breaks a const or an enum (a
   * discriminator such as "kind": "clip"). */
  bool right_variant = false;
  /* The deepest error: the further validation got, the closer it came. */
  std::ptrdiff_t depth = -1;

  bool operator==(const Closeness &) const = default;
  bool operator<(const Closeness &other) const {
    return std::tie(right_variant, depth) < std::tie(other.right_variant, other.depth);
  }
};

Closeness closeness(const std::vector<size_t> &kept, const std::vector<RawError> &errors,
                    const Path &at) {
  Closeness result;
  bool any_specific = false;
  bool wrong_variant = false;
  for (const size_t index : kept) {
    const RawError &error = errors[index];
    if (is_structural(error.report)) continue;
    any_specific = true;
    result.depth = std::max(result.depth, std::ssize(error.path));
    if (error.report == Report::kType && error.path == at) wrong_variant = true;
    if ((error.report == Report::kConst || error.report == Report::kEnum) &&
        error.path.size() == at.size() + 1 && is_within(error.path, at))
      wrong_variant = true;
  }
  result.right_variant = any_specific && !wrong_variant;
  return result;
}

/* Appends the indexes of the errors worth reporting: everything outside
 * anyOf/oneOf, and within them the errors of the closest alternatives. */
void keep_closest(const std::vector<ErrorUnit> &units, const std::vector<RawError> &errors,
                  std::vector<size_t> *kept) {
  for (const ErrorUnit &unit : units) {
    if (!unit.alternatives.empty()) {
      std::vector<std::vector<size_t>> kept_per_alternative;
      std::vector<Closeness> closenesses;
      for (const auto &alternative : unit.alternatives) {
        kept_per_alternative.emplace_back();
        keep_closest(alternative, errors, &kept_per_alternative.back());
        closenesses.push_back(
            closeness(kept_per_alternative.back(), errors, errors[unit.error].path));
      }
      const Closeness best = *std::max_element(closenesses.begin(), closenesses.end());
      for (size_t i = 0; i < closenesses.size(); ++i)
        if (closenesses[i] == best)
          kept->insert(kept->end(), kept_per_alternative[i].begin(), kept_per_alternative[i].end());
    }
    kept->push_back(unit.error);
  }
}

/* Where a "something inside failed" error points: the member or item for
 * the property and item notes ("Failed to validate item #1 against
 * corresponding item schema." is already reported at the item), else where
 * it was reported. */
Path structural_target(const RawError &error) {
  Path target = error.path;
  std::string child;
  if (error.report == Report::kPropertyFailed) {
    child = quoted_name(error.description);
  } else if (error.report == Report::kItemFailed &&
             error.description.find("corresponding item schema") == std::string::npos) {
    const std::vector<size_t> numbers = hash_numbers(error.description);
    if (numbers.size() == 1) child = std::to_string(numbers[0]);
  }
  if (!child.empty()) target.push_back(child);
  return target;
}

/* ---- Sentences ---- */

class ErrorExplainer {
 public:
  ErrorExplainer(JsonNode *schema_root, JsonNode *document)
      : finder_(schema_root, document), document_(document) {}

  void explain(const RawError &error, std::vector<SchemaError> *out) const {
    const std::string pointer = to_pointer(error.path);
    JsonNode *value = node_at(document_, error.path);
    if (error.report == Report::kUnknownProperty) {
      explain_unknown_properties(error, value, out);
      return;
    }
    if (error.report == Report::kPropertyFailed || error.report == Report::kItemFailed) {
      /* Left over only when nothing inside said more: a false schema. */
      out->push_back({to_pointer(structural_target(error)), "is not allowed here"});
      return;
    }
    out->push_back({pointer, sentence(error, value)});
  }

 private:
  std::vector<JsonObject *> subschemas(const RawError &error) const {
    return finder_.at(error.path);
  }

  std::string sentence(const RawError &error, JsonNode *value) const {
    const std::string &text = error.description;
    switch (error.report) {
      case Report::kType:
        return type_sentence(error, value);
      case Report::kEnum:
        return enum_sentence(error, value);
      case Report::kConst:
        return const_sentence(error, value);
      case Report::kRequired:
        return "missing required property " + quoted(quoted_name(text));
      case Report::kMinimum:
        return describe_value(value) + " is below the minimum " + limit(error, value, "minimum");
      case Report::kExclusiveMinimum:
        return describe_value(value) + " must be greater than " +
               limit(error, value, "exclusiveMinimum");
      case Report::kMaximum:
        return describe_value(value) + " is above the maximum " + limit(error, value, "maximum");
      case Report::kExclusiveMaximum:
        return describe_value(value) + " must be less than " +
               limit(error, value, "exclusiveMaximum");
      case Report::kMinLength:
      case Report::kMaxLength:
      case Report::kMinItems:
      case Report::kMaxItems:
      case Report::kMinProperties:
      case Report::kMaxProperties:
        return size_sentence(error, value);
      case Report::kPattern:
        return pattern_sentence(error, value);
      case Report::kFormat:
        return describe_value(value) + " is not a valid " +
               text.substr(std::string_view("String should be a valid ").size());
      case Report::kMultipleOf:
        return multiple_of_sentence(error, value);
      case Report::kUniqueItems: {
        const std::vector<size_t> indexes = hash_numbers(text);
        if (indexes.size() != 2) return "has duplicate items; every item must be unique";
        return "items " + std::to_string(indexes[0]) + " and " + std::to_string(indexes[1]) +
               " are equal; every item must be unique";
      }
      case Report::kNot:
        return "matches the schema under \"not\", which it must not";
      case Report::kOneOfSeveral:
        return "matches more than one of the oneOf alternatives; it must match exactly one";
      case Report::kContains:
        return "has no item that matches the \"contains\" schema";
      case Report::kDependency:
        return dependency_sentence(error, value);
      case Report::kTooManyItems:
        return too_many_items_sentence(error, value);
      case Report::kItemBeyondSchemas: {
        const std::vector<size_t> numbers = hash_numbers(text);
        if (numbers.size() != 1 || kind_of(value) != Kind::kArray)
          return "has more items than the schema allows";
        return "has " +
               count_of(json_array_get_length(json_node_get_array(value)), "item", "items") +
               ", more than the " + std::to_string(numbers[0]) + " allowed";
      }
      case Report::kAnyOfFailed:
      case Report::kOneOfFailed:
        return "does not match any of the allowed alternatives";
      case Report::kConditionalFailed:
        return "does not meet the schema's if/then/else conditions";
      case Report::kAdditionalPropertyFailed:
      case Report::kPatternPropertyFailed:
        return "has a property the schema does not allow";
      default:
        return text;
    }
  }

  std::string type_sentence(const RawError &error, JsonNode *value) const {
    std::vector<std::string> expected;
    for (JsonObject *schema : subschemas(error)) {
      JsonNode *type = member(schema, "type");
      std::vector<std::string> names;
      if (kind_of(type) == Kind::kString) names.emplace_back(json_node_get_string(type));
      for (JsonNode *name : elements(as_array(type)))
        if (kind_of(name) == Kind::kString) names.emplace_back(json_node_get_string(name));
      if (names.empty() ||
          std::any_of(names.begin(), names.end(), [&](auto &n) { return has_type(value, n); }))
        continue;
      for (const std::string &name : names) add_unique(&expected, name);
    }
    if (expected.empty())
      return "has a type the schema does not allow (" + kind_phrase(kind_of(value)) + ")";
    std::vector<std::string> phrases;
    phrases.reserve(expected.size());
    for (const std::string &name : expected) phrases.push_back(type_name_phrase(name));
    const bool fraction_for_integer =
        kind_of(value) == Kind::kDouble &&
        std::find(expected.begin(), expected.end(), "integer") != expected.end();
    return "expected " + join_alternatives(phrases) + ", got " +
           (fraction_for_integer ? number_text(value) : kind_phrase(kind_of(value)));
  }

  std::string enum_sentence(const RawError &error, JsonNode *value) const {
    std::vector<std::string> allowed;
    for (JsonObject *schema : subschemas(error)) {
      const std::vector<JsonNode *> values = elements(as_array(member(schema, "enum")));
      if (values.empty() || std::any_of(values.begin(), values.end(),
                                        [&](JsonNode *v) { return json_equal(value, v); }))
        continue;
      for (JsonNode *v : values) add_unique(&allowed, list_item_text(v));
    }
    if (allowed.empty()) return describe_value(value) + " is not one of the allowed values";
    return describe_value(value) + " is not one of " + join(allowed, ", ");
  }

  std::string const_sentence(const RawError &error, JsonNode *value) const {
    std::vector<std::string> expected;
    for (JsonObject *schema : subschemas(error)) {
      JsonNode *constant = member(schema, "const");
      if (constant != nullptr && !json_equal(value, constant))
        add_unique(&expected, json_text(constant));
    }
    if (expected.empty()) return describe_value(value) + " is not the value the schema requires";
    if (expected.size() == 1) return "expected " + expected[0] + ", got " + describe_value(value);
    return describe_value(value) + " is not one of " + join(expected, ", ");
  }

  /* The bound a number breaks, as written in the schema when it can be
   * found, else as valijson printed it. */
  std::string limit(const RawError &error, JsonNode *value, const char *keyword) const {
    if (is_number(value)) {
      const double number = number_value(value);
      const std::string_view name(keyword);
      for (JsonObject *schema : subschemas(error)) {
        JsonNode *bound = member(schema, keyword);
        if (!is_number(bound)) continue;
        const double b = number_value(bound);
        const bool broken = name == "minimum"            ? number < b
                            : name == "exclusiveMinimum" ? number <= b
                            : name == "maximum"          ? number > b
                                                         : number >= b;
        if (broken) return number_text(bound);
      }
    }
    /* "Expected number greater than or equal to 1.000000" */
    const size_t digits = error.description.find_first_of("-0123456789");
    if (digits != std::string::npos)
      if (const auto parsed = number_after(error.description, error.description.substr(0, digits)))
        return format_number(*parsed);
    return "the schema sets";
  }

  static std::string size_sentence(const RawError &error, JsonNode *value) {
    const std::string &text = error.description;
    const size_t digits = text.find_first_of("0123456789");
    const std::optional<double> bound =
        digits == std::string::npos ? std::nullopt : number_after(text, text.substr(0, digits));
    const std::string bound_text = bound ? format_number(*bound) : "the schema sets";
    const bool minimum = error.report == Report::kMinLength || error.report == Report::kMinItems ||
                         error.report == Report::kMinProperties;
    const std::string comparison =
        minimum ? ", fewer than the minimum " : ", more than the maximum ";
    switch (error.report) {
      case Report::kMinLength:
      case Report::kMaxLength:
        if (kind_of(value) != Kind::kString) break;
        return describe_value(value) + " has " +
               count_of(g_utf8_strlen(json_node_get_string(value), -1), "character", "characters") +
               comparison + bound_text;
      case Report::kMinItems:
      case Report::kMaxItems:
        if (kind_of(value) != Kind::kArray) break;
        return "has " +
               count_of(json_array_get_length(json_node_get_array(value)), "item", "items") +
               comparison + bound_text;
      default:
        if (kind_of(value) != Kind::kObject) break;
        return "has " +
               count_of(json_object_get_size(json_node_get_object(value)), "property",
                        "properties") +
               comparison + bound_text;
    }
    return text;
  }

  std::string pattern_sentence(const RawError &error, JsonNode *value) const {
    if (kind_of(value) == Kind::kString) {
      const std::string text = json_node_get_string(value);
      for (JsonObject *schema : subschemas(error)) {
        const std::optional<std::string> pattern = string_member(schema, "pattern");
        if (pattern && !regex_finds(*pattern, text))
          return describe_value(value) + " does not match the pattern " + *pattern;
      }
    }
    return describe_value(value) + " does not match the required pattern";
  }

  std::string multiple_of_sentence(const RawError &error, JsonNode *value) const {
    for (JsonObject *schema : subschemas(error)) {
      JsonNode *divisor = member(schema, "multipleOf");
      if (is_number(divisor))
        return describe_value(value) + " is not a multiple of " + number_text(divisor);
    }
    const std::string_view prefix = "Value should be a multiple of ";
    if (const auto parsed = number_after(error.description, prefix))
      return describe_value(value) + " is not a multiple of " + format_number(*parsed);
    return error.description;
  }

  std::string dependency_sentence(const RawError &error, JsonNode *value) const {
    const std::string missing = quoted_name(error.description);
    JsonObject *object = as_object(value);
    for (JsonObject *schema : subschemas(error)) {
      JsonObject *dependencies = as_object(member(schema, "dependencies"));
      for (const std::string &name : member_names(dependencies)) {
        if (member(object, name.c_str()) == nullptr) continue;
        for (JsonNode *required : elements(as_array(member(dependencies, name.c_str()))))
          if (kind_of(required) == Kind::kString && missing == json_node_get_string(required))
            return "property " + quoted(name) + " requires property " + quoted(missing);
      }
    }
    return "missing property " + quoted(missing) + ", which another property depends on";
  }

  std::string too_many_items_sentence(const RawError &error, JsonNode *value) const {
    if (JsonArray *array = as_array(value)) {
      const guint count = json_array_get_length(array);
      for (JsonObject *schema : subschemas(error)) {
        JsonArray *positional = as_array(member(schema, "items"));
        if (positional != nullptr && json_array_get_length(positional) < count)
          return "has " + count_of(count, "item", "items") + ", more than the " +
                 std::to_string(json_array_get_length(positional)) + " allowed";
      }
    }
    return "has more items than the schema allows";
  }

  /* One error per unknown member, at the member, listing what is allowed. */
  void explain_unknown_properties(const RawError &error, JsonNode *value,
                                  std::vector<SchemaError> *out) const {
    const std::string pointer = to_pointer(error.path);
    const std::string reported = quoted_name(error.description);
    JsonObject *object = as_object(value);
    for (JsonObject *schema : subschemas(error)) {
      JsonNode *additional = member(schema, "additionalProperties");
      if (kind_of(additional) != Kind::kBool || json_node_get_boolean(additional)) continue;
      if (object == nullptr || allows_property(schema, reported)) continue;
      const std::string allowed = allowed_properties(schema);
      for (const std::string &name : member_names(object))
        if (!allows_property(schema, name))
          out->push_back({pointer + "/" + escape_pointer_token(name),
                          "unknown property " + quoted(name) + allowed});
      return;
    }
    out->push_back(
        {pointer + "/" + escape_pointer_token(reported), "unknown property " + quoted(reported)});
  }

  static bool allows_property(JsonObject *schema, const std::string &name) {
    if (member(as_object(member(schema, "properties")), name.c_str()) != nullptr) return true;
    for (const std::string &pattern : member_names(as_object(member(schema, "patternProperties"))))
      if (regex_finds(pattern, name)) return true;
    return false;
  }

  /* " (allowed: a, b, c)" */
  static std::string allowed_properties(JsonObject *schema) {
    const std::vector<std::string> names = member_names(as_object(member(schema, "properties")));
    const std::vector<std::string> patterns =
        member_names(as_object(member(schema, "patternProperties")));
    if (names.empty() && patterns.empty()) return " (no properties are allowed here)";
    std::string allowed = join(names, ", ");
    if (!patterns.empty())
      allowed +=
          (names.empty() ? "" : ", or ") + std::string("names matching ") + join(patterns, " or ");
    return " (allowed: " + allowed + ")";
  }

  SubschemaFinder finder_;
  JsonNode *document_;
};

std::vector<SchemaError> explain_errors(const valijson::ValidationResults &results,
                                        JsonNode *schema_root, JsonNode *document) {
  std::vector<RawError> errors;
  for (const auto &error : results)
    errors.push_back(
        {path_from_context(error.context), error.description, recognise(error.description)});

  std::vector<size_t> kept;
  keep_closest(CascadeReader(errors).read_all(), errors, &kept);

  /* valijson's "something inside failed" notes add nothing when a more
   * specific error inside is reported. Inner notes come first (post-order),
   * so of two notes about the same place the first one stays. */
  std::vector<size_t> reported;
  for (size_t i = 0; i < kept.size(); ++i) {
    const RawError &error = errors[kept[i]];
    bool said_inside = false;
    if (is_structural(error.report)) {
      const Path target = structural_target(error);
      for (size_t j = 0; j < kept.size() && !said_inside; ++j) {
        const RawError &other = errors[kept[j]];
        if (j == i) continue;
        if (!is_structural(other.report))
          said_inside = is_within(other.path, target);
        else if (j < i)
          said_inside = is_within(structural_target(other), target);
      }
    }
    if (!said_inside) reported.push_back(kept[i]);
  }

  const ErrorExplainer explainer(schema_root, document);
  std::vector<SchemaError> explained;
  for (const size_t index : reported) explainer.explain(errors[index], &explained);

  std::vector<SchemaError> unique;
  for (SchemaError &error : explained)
    if (std::find(unique.begin(), unique.end(), error) == unique.end())
      unique.push_back(std::move(error));
  return unique;
}

/* ---- Schema checks before valijson sees the schema ---- */

/* Calls visit on every schema object in the tree, with its JSON pointer. */
void for_each_subschema(JsonNode *schema, const std::string &pointer,
                        const std::function<void(JsonObject *, const std::string &)> &visit) {
  JsonObject *object = as_object(schema);
  if (object == nullptr) return;
  visit(object, pointer);
  for (const char *keyword : {"properties", "patternProperties", "definitions", "dependencies"}) {
    JsonObject *map = as_object(member(object, keyword));
    for (const std::string &name : member_names(map))
      for_each_subschema(json_object_get_member(map, name.c_str()),
                         pointer + "/" + keyword + "/" + escape_pointer_token(name), visit);
  }
  for (const char *keyword : {"additionalProperties", "additionalItems", "items", "not", "if",
                              "then", "else", "contains", "propertyNames"})
    for_each_subschema(member(object, keyword), pointer + "/" + keyword, visit);
  for (const char *keyword : {"allOf", "anyOf", "oneOf", "items"}) {
    const std::vector<JsonNode *> branches = elements(as_array(member(object, keyword)));
    for (size_t i = 0; i < branches.size(); ++i)
      for_each_subschema(branches[i], pointer + "/" + keyword + "/" + std::to_string(i), visit);
  }
}

/* valijson compiles "pattern" and "patternProperties" only when a value
 * reaches them, and a bad one then throws mid-validation. */
void check_regular_expressions(JsonObject *schema, const std::string &pointer) {
  auto check = [](const std::string &pattern, const std::string &where) {
    try {
      std::regex compiled(pattern);
    } catch (const std::regex_error &e) {
      throw std::runtime_error(where + ": " + quoted(pattern) +
                               " is not a valid regular expression (" + e.what() + ")");
    }
  };
  if (const std::optional<std::string> pattern = string_member(schema, "pattern"))
    check(*pattern, pointer + "/pattern");
  for (const std::string &pattern : member_names(as_object(member(schema, "patternProperties"))))
    check(pattern, pointer + "/patternProperties");
}

/* valijson 1.0 recurses without end on a $ref that leads back to itself
 * through other $refs, and at the root it resolves a reference to another
 * document within the schema itself; check references first. */
void check_references(JsonNode *schema_root, JsonObject *schema, const std::string &pointer) {
  std::set<JsonObject *> chain;
  for (JsonObject *current = schema; current != nullptr;) {
    const std::optional<std::string> ref = string_member(current, "$ref");
    if (!ref) return;
    if (!chain.insert(current).second)
      throw std::runtime_error(pointer + "/$ref: " + quoted(*ref) + " leads back to itself");
    if (!ref->starts_with("#"))
      throw std::runtime_error(pointer + "/$ref: " + quoted(*ref) +
                               " refers to another document, which is not supported; use "
                               "\"#/definitions/...\" within the schema");
    JsonNode *target = resolve_internal_ref(schema_root, *ref);
    if (target == nullptr)
      throw std::runtime_error(pointer + "/$ref: " + quoted(*ref) +
                               " does not name anything in the schema");
    current = as_object(target);
  }
}

}  // namespace

JsonSchema::JsonSchema(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}

JsonSchema JsonSchema::from_node(JsonNode *schema_root, const std::string &origin) {
  if (schema_root == nullptr) throw std::runtime_error(origin + ": no schema");
  auto parsed = std::make_shared<Parsed>();
  parsed->origin = origin;
  parsed->root.reset(json_node_ref(schema_root));

  /* Other documents are never fetched: schemas ship as single files (and
   * check_references() turns such $refs away first). */
  auto fetch_document = [](const std::string &uri) -> const JsonNode * {
    throw std::runtime_error("$ref to another document (" + uri + ") is not supported");
  };
  auto free_document = [](const JsonNode *) {};
  try {
    for_each_subschema(parsed->root.get(), "", [&](JsonObject *schema, const std::string &at) {
      check_regular_expressions(schema, at);
      check_references(parsed->root.get(), schema, at);
    });
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.populateSchema(JsonGlibAdapter(parsed->root.get()), parsed->schema, fetch_document,
                          free_document);
  } catch (const std::exception &e) {
    throw std::runtime_error(origin + ": not a valid JSON Schema: " + e.what());
  }
  return JsonSchema(std::move(parsed));
}

JsonSchema JsonSchema::from_file(const std::string &path) {
  const JsonNodePtr root = load_json_file(path);
  return from_node(root.get(), path);
}

JsonSchema JsonSchema::from_resource(const std::string &resource_path) {
  const std::string origin = "resource:" + resource_path;
  GError *raw_error = nullptr;
  GBytesPtr bytes(
      g_resources_lookup_data(resource_path.c_str(), G_RESOURCE_LOOKUP_FLAGS_NONE, &raw_error));
  GErrorPtr error(raw_error);
  if (!bytes) throw std::runtime_error(origin + ": " + (error ? error->message : "not found"));
  gsize size = 0;
  const auto *data = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
  const JsonNodePtr root = parse_json(std::string_view(data, size), origin);
  return from_node(root.get(), origin);
}

const std::string &JsonSchema::origin() const {
  return parsed_->origin;
}

std::vector<SchemaError> JsonSchema::validate(JsonNode *document) const {
  if (document == nullptr) throw std::invalid_argument("JsonSchema::validate: no document");
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  bool valid = false;
  std::string failure;
  try {
    valid = validator.validate(parsed_->schema, JsonGlibAdapter(document), &results);
  } catch (const std::exception &e) {
    /* valijson 1.0 throws, for one, when "format" meets an object or array. */
    failure = e.what();
  }

  std::vector<SchemaError> errors = explain_errors(results, parsed_->root.get(), document);
  if (!failure.empty())
    errors.push_back(
        {"", "could not be checked completely against " + parsed_->origin + " (" + failure + ")"});
  else if (!valid && errors.empty()) /* a false schema, or propertyNames: valijson says nothing */
    errors.push_back({"", "does not match the schema " + parsed_->origin});
  return errors;
}

std::string format_schema_errors(const std::vector<SchemaError> &errors,
                                 const std::string &document_name) {
  std::string text;
  for (const SchemaError &error : errors) {
    if (!text.empty()) text += "\n";
    text += document_name + ": ";
    if (!error.pointer.empty()) text += error.pointer + ": ";
    text += error.message;
  }
  return text;
}

}  // namespace reelforge
