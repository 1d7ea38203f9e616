/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The editing vocabulary against the job schema: the schema's enums for
 * transition types, fits and motions list exactly the vocabulary's names,
 * in its order, so what a spec may say and what the planner and stitchbin
 * understand cannot drift apart again.
 */
#include "edit-vocabulary.h"
#include "json-file.h"
#include "test-environment.h"

#include <string>
#include <vector>

namespace reelforge::edit {
namespace {

template <typename Enum, std::size_t N>
std::vector<std::string> names_in(const NameTable<Enum, N> &table) {
  std::vector<std::string> names;
  for (const auto &[name, value] : table) names.emplace_back(name);
  return names;
}

/* The strings of the "enum" at the end of path (member names from the root
 * of schemas/job.schema.json). */
std::vector<std::string> schema_enum(const std::vector<std::string> &path) {
  const JsonNodePtr schema =
      load_json_file((test::source_dir() / "schemas" / "job.schema.json").string());
  JsonNode *node = schema.get();
  std::string where;
  for (const std::string &name : path) {
    where += "/" + name;
    if (!JSON_NODE_HOLDS_OBJECT(node) ||
        (node = json_object_get_member(json_node_get_object(node), name.c_str())) == nullptr) {
      ADD_FAILURE() << "job.schema.json has nothing at " << where;
      return {};
    }
  }
  JsonNode *values = JSON_NODE_HOLDS_OBJECT(node)
                         ? json_object_get_member(json_node_get_object(node), "enum")
                         : nullptr;
  if (values == nullptr || !JSON_NODE_HOLDS_ARRAY(values)) {
    ADD_FAILURE() << "job.schema.json has no enum at " << where;
    return {};
  }
  std::vector<std::string> names;
  JsonArray *array = json_node_get_array(values);
  for (guint i = 0; i < json_array_get_length(array); ++i)
    names.emplace_back(json_array_get_string_element(array, i));
  return names;
}

TEST(EditVocabulary, TheJobSchemaListsEveryTransitionType) {
  EXPECT_EQ(schema_enum({"definitions", "transition", "properties", "type"}),
            names_in(kTransitionTypes));
}

TEST(EditVocabulary, TheJobSchemaListsEveryFit) {
  EXPECT_EQ(schema_enum({"properties", "scenes", "items", "properties", "fit"}), names_in(kFits));
}

TEST(EditVocabulary, TheJobSchemaListsEveryMotion) {
  EXPECT_EQ(schema_enum(
                {"properties", "scenes", "items", "properties", "source", "properties", "motion"}),
            names_in(kMotions));
}

TEST(EditVocabulary, NamesAndValuesGoBothWays) {
  for (const auto &[name, value] : kTransitionTypes) {
    EXPECT_EQ(name_of(value), name);
    EXPECT_EQ(find_value(kTransitionTypes, name), value);
  }
  for (const auto &[name, value] : kFits) {
    EXPECT_EQ(name_of(value), name);
    EXPECT_EQ(find_value(kFits, name), value);
  }
  for (const auto &[name, value] : kMotions) {
    EXPECT_EQ(name_of(value), name);
    EXPECT_EQ(find_value(kMotions, name), value);
  }
  EXPECT_EQ(find_value(kTransitionTypes, "swoosh"), std::nullopt);
  EXPECT_EQ(name_of(TransitionType::kCircleClose), "circle-close");
}

}  // namespace
}  // namespace reelforge::edit
