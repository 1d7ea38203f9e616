/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The variation matrix of a job spec: dimensions with values, exclusion
 * rules, and the variants they make. A variant replaces ${dimension}
 * templates in the spec's strings and is named by its values
 * ("hook-a_mood-calm"), so its outputs are "<variant>.<platform>".
 */
#pragma once

#include "gst-ptr.h"

#include <json-glib/json-glib.h>

#include <string>
#include <vector>

namespace reelforge::spec {

/* One value of a dimension as written: a string, or a number kept as its
 * JSON text so "${length}" can stand for the number itself. */
struct DimensionValue {
  std::string text;
  bool is_number = false;

  bool operator==(const DimensionValue &) const = default;
};

struct Dimension {
  std::string name;
  std::vector<DimensionValue> values; /* in declared order */

  bool operator==(const Dimension &) const = default;
};

/* Drops every combination having all of these dimension=value pairs;
 * values compare by their text. */
struct ExclusionRule {
  std::vector<std::pair<std::string, std::string>> pairs;

  bool operator==(const ExclusionRule &) const = default;
};

struct Variations {
  std::vector<Dimension> dimensions; /* in declared order */
  std::vector<ExclusionRule> exclude;

  bool empty() const { return dimensions.empty(); }
  const Dimension *find(const std::string &name) const;
  bool operator==(const Variations &) const = default;
};

/* One combination: a value for each dimension, in declared order. */
struct Variant {
  std::string name;
  std::vector<std::pair<std::string, DimensionValue>> values;

  /* The value for dimension name; nullptr when it has none. */
  const DimensionValue *value_of(const std::string &name) const;
  bool operator==(const Variant &) const = default;
};

/* Lowercase letters and digits; every other run of characters becomes one
 * "-", none at either end. Empty when nothing is left. */
std::string sanitise_name(const std::string &text);

/* The variant's name: "<dim>-<value>" for each dimension joined with "_",
 * each part sanitised ("hook-a_mood-calm_cta-buy-now"). */
std::string variant_name(const std::vector<std::pair<std::string, DimensionValue>> &values);

/* Every combination of the dimensions' values, the first dimension varying
 * slowest, minus those an exclusion rule matches. No dimensions: one
 * variant with no values named sanitise_name(job_name) ("job" if that is
 * empty). */
std::vector<Variant> expand_variations(const Variations &variations, const std::string &job_name);

/* A ${name} in a string: where it starts, its length, the name. */
struct TemplateReference {
  size_t offset = 0;
  size_t length = 0;
  std::string name;
};

/* The ${name} templates in text, in order; names are letters, digits, "_"
 * and "-", starting with a letter. Anything else is plain text. */
std::vector<TemplateReference> find_templates(const std::string &text);

/* text with each ${name} of a dimension of variant replaced by its value;
 * templates naming no dimension stay as written. */
std::string substitute_templates(const std::string &text, const Variant &variant);

/* A deep copy of a job document with templates substituted in every string
 * except under the members named in skip_members of the root ("variations").
 * A string that is exactly "${name}" of a number value becomes that number. */
JsonNodePtr substitute_document(JsonNode *document, const Variant &variant,
                                const std::vector<std::string> &skip_members);

}  // namespace reelforge::spec
