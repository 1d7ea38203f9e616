/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * JSON Schema (draft 7) validation of json-glib documents: job specs,
 * platform profiles, QC reports. valijson does the validating; this layer
 * loads schemas and turns valijson's reports into short sentences that name
 * the offending value by JSON pointer and say what would fix it:
 *
 *   job.json: /scenes/2/transition/type: "swoosh" is not one of cut, crossfade, fade-black
 *   job.json: /output: missing required property "format"
 *
 * $ref works within the schema document ("#/definitions/clip"); a $ref to
 * another document is reported as an invalid schema.
 */
#pragma once

#include <json-glib/json-glib.h>

#include <memory>
#include <string>
#include <vector>

namespace reelforge {

/* One way a document breaks its schema. */
struct SchemaError {
  /* RFC 6901 JSON pointer to the offending value: "" for the document itself,
   * "/scenes/2/transition/type" deeper down. */
  std::string pointer;
  /* What is wrong and what would fix it, without the pointer. */
  std::string message;

  bool operator==(const SchemaError &) const = default;
};

/* A parsed schema. Immutable and cheap to copy (copies share the parsed
 * form); validate() may run on several threads at once. */
class JsonSchema {
 public:
  /* Parses the schema in schema_root and keeps a reference to it (to explain
   * errors), so the tree must not be modified afterwards. origin names the
   * schema in errors (a path, "resource:/dev/reelforge/..."). Throws
   * std::runtime_error naming origin when the schema is invalid, including
   * a $ref to another document or a bad regular expression. */
  static JsonSchema from_node(JsonNode *schema_root, const std::string &origin);

  /* Loads and parses the schema file at path; errors name the file. */
  static JsonSchema from_file(const std::string &path);

  /* Loads a schema compiled into a GResource (schemas/reelforge.gresource.xml),
   * e.g. "/dev/reelforge/platform.schema.json". */
  static JsonSchema from_resource(const std::string &resource_path);

  /* Checks document against the schema. No errors means valid. The most
   * specific errors are kept: when anyOf/oneOf fail, the alternative that
   * came closest is reported rather than every alternative's complaints. */
  std::vector<SchemaError> validate(JsonNode *document) const;

  /* Where the schema came from, as given to from_node(). */
  const std::string &origin() const;

 private:
  struct Parsed;
  explicit JsonSchema(std::shared_ptr<const Parsed> parsed);

  std::shared_ptr<const Parsed> parsed_;
};

/* A member name as one RFC 6901 pointer token ("a/b" -> "a~1b"). */
std::string escape_pointer_token(const std::string &token);

/* One line per error, "<document_name>: <pointer>: <message>", joined with
 * newlines (no trailing newline). An error about the whole document (empty
 * pointer) reads "<document_name>: <message>". */
std::string format_schema_errors(const std::vector<SchemaError> &errors,
                                 const std::string &document_name);

}  // namespace reelforge
