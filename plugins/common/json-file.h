/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loading JSON documents with json-glib, and reading them. Failures to load
 * throw std::runtime_error whose message names the file and, for syntax
 * errors, the line and column.
 */
#pragma once

#include "gst-ptr.h"

#include <json-glib/json-glib.h>

#include <optional>
#include <string>
#include <string_view>

namespace reelforge {

/* Parses the file at path; the root node is returned owned. */
JsonNodePtr load_json_file(const std::string &path);

/* Parses text; origin names it in error messages (a path or "resource:..."). */
JsonNodePtr parse_json(std::string_view text, const std::string &origin);

/* Serialises node, pretty-printed with two-space indents when pretty. */
std::string to_json_string(JsonNode *node, bool pretty);

/* The text of object's member name; nullopt when object is null, the member
 * is absent or it holds anything but a string. */
std::optional<std::string> string_member(JsonObject *object, const char *name);

}  // namespace reelforge
