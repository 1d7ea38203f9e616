/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * JSON text written in order, through json-glib's builder, so strings are
 * always escaped:
 *
 *   JsonWriter w;
 *   w.begin_object();
 *   w.member("clip", path);
 *   w.member("polls", std::int64_t{3});
 *   w.end_object();
 *   std::string text = w.text();
 *
 * Arrays: begin_array("name") ... value(...) ... end_array(), or
 * member("name", strings) for an array of strings; member_node() embeds a
 * parsed document.
 */
#pragma once

#include "gst-ptr.h"
#include "json-file.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace reelforge {

class JsonWriter {
 public:
  JsonWriter() : builder_(json_builder_new_immutable()) {}
  JsonBuilder *get() { return builder_.get(); }
  void member(const char *name, const std::string &value) {
    json_builder_set_member_name(builder_.get(), name);
    json_builder_add_string_value(builder_.get(), value.c_str());
  }
  void member(const char *name, const char *value) { member(name, std::string(value)); }
  void member(const char *name, double value) {
    json_builder_set_member_name(builder_.get(), name);
    json_builder_add_double_value(builder_.get(), value);
  }
  void member(const char *name, std::int64_t value) {
    json_builder_set_member_name(builder_.get(), name);
    json_builder_add_int_value(builder_.get(), value);
  }
  void member(const char *name, int value) { member(name, static_cast<std::int64_t>(value)); }
  void member(const char *name, bool value) {
    json_builder_set_member_name(builder_.get(), name);
    json_builder_add_boolean_value(builder_.get(), value);
  }
  /* An array of strings. */
  void member(const char *name, const std::vector<std::string> &values) {
    begin_array(name);
    for (const std::string &v : values) value(v);
    end_array();
  }
  /* A copy of node (any JSON) as the member's value. */
  void member_node(const char *name, JsonNode *node) {
    json_builder_set_member_name(builder_.get(), name);
    json_builder_add_value(builder_.get(), json_node_copy(node));
  }
  /* An element of the array being written. */
  void value(const std::string &v) { json_builder_add_string_value(builder_.get(), v.c_str()); }
  void begin_object(const char *name = nullptr) {
    if (name) json_builder_set_member_name(builder_.get(), name);
    json_builder_begin_object(builder_.get());
  }
  void end_object() { json_builder_end_object(builder_.get()); }
  void begin_array(const char *name = nullptr) {
    if (name) json_builder_set_member_name(builder_.get(), name);
    json_builder_begin_array(builder_.get());
  }
  void end_array() { json_builder_end_array(builder_.get()); }
  std::string text() {
    JsonNodePtr root(json_builder_get_root(builder_.get()));
    return to_json_string(root.get(), false);
  }

 private:
  GObjectPtr<JsonBuilder> builder_;
};

}  // namespace reelforge
