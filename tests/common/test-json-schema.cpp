/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * JSON Schema validation of json-glib documents: which documents pass, and
 * the exact pointer and sentence of each error.
 */
#include "json-file.h"
#include "json-schema.h"
#include "test-environment.h"

#include <fstream>
#include <optional>
#include <ostream>
#include <stdexcept>

namespace reelforge {

/* So failed expectations print readable errors. */
void PrintTo(const SchemaError &error, std::ostream *os) {
  *os << "{\"" << error.pointer << "\", \"" << error.message << "\"}";
}

namespace {

using Errors = std::vector<SchemaError>;

JsonSchema schema_from(std::string_view text) {
  const JsonNodePtr root = parse_json(text, "inline schema");
  return JsonSchema::from_node(root.get(), "test.schema.json");
}

Errors validate(const JsonSchema &schema, std::string_view document) {
  const JsonNodePtr root = parse_json(document, "inline document");
  return schema.validate(root.get());
}

Errors validate(std::string_view schema, std::string_view document) {
  return validate(schema_from(schema), document);
}

/* The message of the runtime_error that f throws, or "" when it throws none. */
template <typename F>
std::string thrown_message(F &&f) {
  try {
    f();
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

/* A cut-down job spec: nested objects, arrays of objects, enums, bounds,
 * $ref to definitions, additionalProperties false. */
constexpr std::string_view kJobSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["fps", "output", "scenes"],
  "additionalProperties": false,
  "properties": {
    "fps": {"type": "integer", "minimum": 1, "maximum": 120},
    "platforms": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
    "output": {
      "type": "object",
      "required": ["format"],
      "properties": {
        "format": {"enum": ["mp4", "webm"]},
        "path": {"type": "string", "minLength": 1}
      }
    },
    "scenes": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/scene"}}
  },
  "definitions": {
    "scene": {
      "type": "object",
      "required": ["clips"],
      "properties": {
        "clips": {"type": "array", "items": {"$ref": "#/definitions/clip"}},
        "transition": {"$ref": "#/definitions/transition"}
      }
    },
    "clip": {
      "type": "object",
      "required": ["uri"],
      "properties": {
        "uri": {"type": "string", "pattern": "^(file|https|s3|genvideo)://"},
        "seconds": {"type": "number", "exclusiveMinimum": 0}
      }
    },
    "transition": {
      "type": "object",
      "properties": {"type": {"enum": ["cut", "crossfade", "fade-black"]}}
    }
  }
})";

constexpr std::string_view kValidJob = R"({
  "fps": 30,
  "platforms": ["tiktok", "youtube-shorts"],
  "output": {"format": "mp4", "path": "out/final.mp4"},
  "scenes": [
    {"clips": [{"uri": "file:///a.mp4", "seconds": 2.5}]},
    {"clips": [{"uri": "s3://bucket/b.mp4"}], "transition": {"type": "crossfade"}},
    {"clips": [], "transition": {"type": "cut"}}
  ]
})";

TEST(JsonSchema, AcceptsAValidDocument) {
  EXPECT_EQ(validate(kJobSchema, kValidJob), Errors{});
}

TEST(JsonSchema, EnumErrorListsTheAllowedValues) {
  const Errors errors = validate(kJobSchema, R"({
    "fps": 30, "output": {"format": "mp4"},
    "scenes": [{"clips": []}, {"clips": []}, {"clips": [], "transition": {"type": "swoosh"}}]
  })");
  EXPECT_EQ(errors, (Errors{{"/scenes/2/transition/type",
                             "\"swoosh\" is not one of cut, crossfade, fade-black"}}));
}

TEST(JsonSchema, MissingRequiredPropertyIsNamed) {
  EXPECT_EQ(validate(kJobSchema, R"({"fps": 30, "output": {}, "scenes": [{"clips": []}]})"),
            (Errors{{"/output", "missing required property \"format\""}}));
  EXPECT_EQ(validate(kJobSchema, R"({"fps": 30, "scenes": [{"clips": []}]})"),
            (Errors{{"", "missing required property \"output\""}}));
}

TEST(JsonSchema, TypeErrorSaysWhatWasExpectedAndWhatCame) {
  EXPECT_EQ(validate(kJobSchema, R"({
    "fps": 30, "output": {"format": "mp4"}, "scenes": [{"clips": []}],
    "platforms": [7, "tiktok"]
  })"),
            (Errors{{"/platforms/0", "expected a string, got a number"}}));
  EXPECT_EQ(validate(kJobSchema, R"({"fps": 30, "output": [], "scenes": [{"clips": []}]})"),
            (Errors{{"/output", "expected an object, got an array"}}));
}

TEST(JsonSchema, BoundsNameTheValueAndTheLimit) {
  EXPECT_EQ(
      validate(kJobSchema, R"({"fps": 0, "output": {"format": "mp4"}, "scenes": [{"clips": []}]})"),
      (Errors{{"/fps", "0 is below the minimum 1"}}));
  EXPECT_EQ(validate(kJobSchema,
                     R"({"fps": 240, "output": {"format": "mp4"}, "scenes": [{"clips": []}]})"),
            (Errors{{"/fps", "240 is above the maximum 120"}}));
  EXPECT_EQ(validate(kJobSchema, R"({
    "fps": 30, "output": {"format": "mp4"},
    "scenes": [{"clips": [{"uri": "file:///a.mp4", "seconds": 0}]}]
  })"),
            (Errors{{"/scenes/0/clips/0/seconds", "0 must be greater than 0"}}));
  EXPECT_EQ(validate(R"({"exclusiveMaximum": 0.5})", "0.5"),
            (Errors{{"", "0.5 must be less than 0.5"}}));
}

TEST(JsonSchema, UnknownPropertiesAreReportedEachWithTheAllowedOnes) {
  constexpr std::string_view schema = R"({
    "type": "object",
    "properties": {"a": {}, "b": {}, "c": {}},
    "additionalProperties": false
  })";
  EXPECT_EQ(validate(schema, R"({"a": 1, "foo": 2})"),
            (Errors{{"/foo", "unknown property \"foo\" (allowed: a, b, c)"}}));
  EXPECT_EQ(validate(schema, R"({"foo": 1, "b": 2, "bar": 3})"),
            (Errors{{"/foo", "unknown property \"foo\" (allowed: a, b, c)"},
                    {"/bar", "unknown property \"bar\" (allowed: a, b, c)"}}));
  EXPECT_EQ(validate(R"({"properties": {"a": {}}, "patternProperties": {"^x-": {}},
                         "additionalProperties": false})",
                     R"({"x-note": 1, "y": 2})"),
            (Errors{{"/y", "unknown property \"y\" (allowed: a, or names matching ^x-)"}}));
}

TEST(JsonSchema, IntegerAcceptsWholeNumbersOnly) {
  constexpr std::string_view schema = R"({"type": "integer"})";
  EXPECT_EQ(validate(schema, "3"), Errors{});
  EXPECT_EQ(validate(schema, "-9223372036854775808"), Errors{});
  EXPECT_EQ(validate(schema, "3.5"), (Errors{{"", "expected an integer, got 3.5"}}));
  EXPECT_EQ(validate(schema, "\"3\""), (Errors{{"", "expected an integer, got a string"}}));
  /* Draft 6 and later: a number with no fractional part is an integer. */
  EXPECT_EQ(validate(schema, "3.0"), Errors{});

  constexpr std::string_view number = R"({"type": "number", "multipleOf": 0.5})";
  EXPECT_EQ(validate(number, "3"), Errors{});
  EXPECT_EQ(validate(number, "3.5"), Errors{});
  EXPECT_EQ(validate(number, "3.25"), (Errors{{"", "3.25 is not a multiple of 0.5"}}));
  EXPECT_EQ(validate(R"({"enum": [1, 2.5]})", "1.0"), Errors{});
}

TEST(JsonSchema, ErrorsInNestedArraysOfObjectsPointAtTheItem) {
  const Errors errors = validate(kJobSchema, R"({
    "fps": 30, "output": {"format": "mp4"},
    "scenes": [
      {"clips": [{"uri": "file:///a.mp4"}]},
      {"clips": [{"uri": "file:///b.mp4"}, {"seconds": 1}, {"uri": "ftp://c.mp4"}]}
    ]
  })");
  EXPECT_EQ(errors,
            (Errors{{"/scenes/1/clips/1", "missing required property \"uri\""},
                    {"/scenes/1/clips/2/uri",
                     "\"ftp://c.mp4\" does not match the pattern ^(file|https|s3|genvideo)://"}}));
}

TEST(JsonSchema, RefsToDefinitionsAreFollowed) {
  constexpr std::string_view schema = R"({
    "definitions": {
      "size": {"type": "object", "required": ["width"], "properties": {"width": {"$ref": "#/definitions/pixels"}}},
      "pixels": {"type": "integer", "minimum": 16}
    },
    "type": "array",
    "items": {"$ref": "#/definitions/size"}
  })";
  EXPECT_EQ(validate(schema, R"([{"width": 320}, {"width": 8}, {}])"),
            (Errors{{"/1/width", "8 is below the minimum 16"},
                    {"/2", "missing required property \"width\""}}));
}

TEST(JsonSchema, PointersEscapeSlashAndTilde) {
  constexpr std::string_view schema = R"({
    "properties": {"a/b": {"type": "string"}, "m~n": {"minimum": 1}},
    "additionalProperties": false
  })";
  EXPECT_EQ(validate(schema, R"({"a/b": 1, "m~n": 0, "x/~y": true})"),
            (Errors{{"/a~1b", "expected a string, got a number"},
                    {"/m~0n", "0 is below the minimum 1"},
                    {"/x~1~0y", "unknown property \"x/~y\" (allowed: a/b, m~n)"}}));
}

TEST(JsonSchema, OtherKeywordsGetSentencesToo) {
  EXPECT_EQ(validate(R"({"minLength": 3})", R"("ab")"),
            (Errors{{"", "\"ab\" has 2 characters, fewer than the minimum 3"}}));
  EXPECT_EQ(validate(R"({"maxItems": 2})", "[1, 2, 3]"),
            (Errors{{"", "has 3 items, more than the maximum 2"}}));
  EXPECT_EQ(validate(R"({"minProperties": 1})", "{}"),
            (Errors{{"", "has 0 properties, fewer than the minimum 1"}}));
  EXPECT_EQ(validate(R"({"const": "clip"})", R"("title")"),
            (Errors{{"", "expected \"clip\", got \"title\""}}));
  EXPECT_EQ(validate(R"({"uniqueItems": true})", R"(["a", "b", "a"])"),
            (Errors{{"", "items 0 and 2 are equal; every item must be unique"}}));
  EXPECT_EQ(validate(R"({"format": "date"})", R"("2024-13-01")"),
            (Errors{{"", "\"2024-13-01\" is not a valid date"}}));
  EXPECT_EQ(validate(R"({"dependencies": {"crop": ["width"]}})", R"({"crop": true})"),
            (Errors{{"", "property \"crop\" requires property \"width\""}}));
  EXPECT_EQ(validate(R"({"items": [{}, {}], "additionalItems": false})", "[1, 2, 3]"),
            (Errors{{"", "has 3 items, more than the 2 allowed"}}));
  EXPECT_EQ(validate(R"({"not": {"type": "null"}})", "null"),
            (Errors{{"", "matches the schema under \"not\", which it must not"}}));
  EXPECT_EQ(validate(R"({"properties": {"a": false}})", R"({"a": 1})"),
            (Errors{{"/a", "is not allowed here"}}));
  EXPECT_EQ(validate(R"({"items": [{}, false]})", "[1, 2]"),
            (Errors{{"/1", "is not allowed here"}}));
  EXPECT_EQ(validate("false", "1"), (Errors{{"", "does not match the schema test.schema.json"}}));
}

TEST(JsonSchema, LongStringsAreShortenedInMessages) {
  EXPECT_EQ(validate(R"({"enum": ["a"]})", R"("0123456789012345678901234567890123456789012345")"),
            (Errors{{"", "\"0123456789012345678901234567890123456...\" is not one of a"}}));
}

TEST(JsonSchema, FailedOneOfReportsTheClosestAlternativeOnly) {
  constexpr std::string_view transition = R"({
    "properties": {
      "transition": {
        "oneOf": [
          {"type": "string", "enum": ["cut", "crossfade"]},
          {"type": "object", "required": ["type"],
           "properties": {"type": {"enum": ["cut", "crossfade"]}, "seconds": {"type": "number"}}}
        ]
      }
    }
  })";
  /* The object form got further (down to /transition/type): its error alone. */
  EXPECT_EQ(validate(transition, R"({"transition": {"type": "swoosh"}})"),
            (Errors{{"/transition/type", "\"swoosh\" is not one of cut, crossfade"}}));
  EXPECT_EQ(validate(transition, R"({"transition": "swoosh"})"),
            (Errors{{"/transition", "\"swoosh\" is not one of cut, crossfade"}}));
  /* Neither form: both kinds named in one line. */
  EXPECT_EQ(validate(transition, R"({"transition": 3})"),
            (Errors{{"/transition", "3 is not one of cut, crossfade"},
                    {"/transition", "expected a string or an object, got a number"}}));
}

TEST(JsonSchema, FailedAnyOfCascadeIsDeduplicated) {
  constexpr std::string_view schema = R"({
    "type": "array",
    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "integer", "minimum": 0}]}
  })";
  EXPECT_EQ(validate(schema, R"(["a", 1, true])"),
            (Errors{{"/2", "expected a string or an integer, got a boolean"}}));

  /* Nested: the inner anyOf is where the value went wrong. */
  constexpr std::string_view nested = R"({
    "properties": {"a": {"anyOf": [
      {"type": "object", "properties": {"b": {"anyOf": [{"type": "string"}, {"type": "null"}]}}},
      {"type": "integer"}
    ]}}
  })";
  EXPECT_EQ(validate(nested, R"({"a": {"b": 1}})"),
            (Errors{{"/a/b", "expected a string or null, got a number"}}));
}

TEST(JsonSchema, DiscriminatedAlternativesReportTheMatchingKind) {
  constexpr std::string_view schema = R"({
    "definitions": {
      "clip": {"type": "object", "required": ["kind", "uri"],
               "properties": {"kind": {"const": "clip"}, "uri": {"type": "string"}}},
      "title": {"type": "object", "required": ["kind", "text"],
                "properties": {"kind": {"const": "title"}, "text": {"type": "string"}}}
    },
    "type": "array",
    "items": {"oneOf": [{"$ref": "#/definitions/clip"}, {"$ref": "#/definitions/title"}]}
  })";
  /* A clip without a uri: the title alternative's complaints are noise. */
  EXPECT_EQ(validate(schema, R"([{"kind": "clip", "uri": "a"}, {"kind": "clip"}])"),
            (Errors{{"/1", "missing required property \"uri\""}}));
  EXPECT_EQ(validate(schema, R"([{"kind": "title", "text": 5}])"),
            (Errors{{"/0/text", "expected a string, got a number"}}));
}

TEST(JsonSchema, FormatOnANonStringDoesNotCrash) {
  /* valijson 1.0 throws for "format" on an object; that becomes an error. */
  const Errors errors =
      validate(R"({"properties": {"when": {"type": "string", "format": "date"}}})",
               R"({"when": {"day": 1}})");
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back().pointer, "");
  EXPECT_NE(errors.back().message.find("test.schema.json"), std::string::npos);
}

TEST(JsonSchema, InvalidSchemaErrorNamesItsOrigin) {
  for (const char *broken : {
           R"({"type": "strnig"})",
           R"({"minimum": "one"})",
           R"({"properties": {"id": {"pattern": "(unclosed"}}})",
           R"({"items": {"$ref": "#/definitions/missing"}})",
           R"({"items": {"$ref": "clip.schema.json#/definitions/clip"}})",
       }) {
    const std::string message = thrown_message([&] { schema_from(broken); });
    EXPECT_TRUE(message.starts_with("test.schema.json: not a valid JSON Schema: "))
        << broken << " gave: " << message;
  }
  EXPECT_NE(thrown_message([] { schema_from(R"({"pattern": "("})"); }).find("/pattern"),
            std::string::npos);
  EXPECT_NE(thrown_message([] { schema_from(R"({"$ref": "other.json"})"); }).find("other.json"),
            std::string::npos);
}

TEST(JsonSchema, FromFileLoadsAndNamesTheFileInErrors) {
  test::TempDir dir;
  const std::string path = dir.file("size.schema.json");
  std::ofstream(path) << R"({"type": "object", "required": ["width"]})";
  const JsonSchema schema = JsonSchema::from_file(path);
  EXPECT_EQ(schema.origin(), path);
  EXPECT_EQ(validate(schema, "{}"), (Errors{{"", "missing required property \"width\""}}));

  const std::string missing = dir.file("missing.schema.json");
  const std::string message = thrown_message([&] { JsonSchema::from_file(missing); });
  EXPECT_TRUE(message.starts_with(missing + ": ")) << message;

  const std::string broken = dir.file("broken.schema.json");
  std::ofstream(broken) << R"({"type": 5})";
  EXPECT_TRUE(thrown_message([&] { JsonSchema::from_file(broken); }).starts_with(broken + ": "));
}

TEST(JsonSchema, FromResourceLoadsBuiltInSchemas) {
  const JsonSchema schema = JsonSchema::from_resource("/dev/reelforge/platform.schema.json");
  EXPECT_EQ(schema.origin(), "resource:/dev/reelforge/platform.schema.json");
  const std::string message =
      thrown_message([] { JsonSchema::from_resource("/dev/reelforge/nothing.json"); });
  EXPECT_TRUE(message.starts_with("resource:/dev/reelforge/nothing.json: ")) << message;
}

TEST(JsonSchema, FormatsOneLinePerError) {
  EXPECT_EQ(format_schema_errors({{"/output", "missing required property \"format\""},
                                  {"", "missing required property \"fps\""}},
                                 "job.json"),
            "job.json: /output: missing required property \"format\"\n"
            "job.json: missing required property \"fps\"");
  EXPECT_EQ(format_schema_errors({}, "job.json"), "");
}

TEST(JsonSchema, CopiesOutliveTheOriginal) {
  std::optional<JsonSchema> copy;
  {
    const JsonSchema original = schema_from(R"({"type": "string"})");
    copy = original;
  }
  EXPECT_EQ(validate(*copy, "1"), (Errors{{"", "expected a string, got a number"}}));
}

}  // namespace
}  // namespace reelforge
