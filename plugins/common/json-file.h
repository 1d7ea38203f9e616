/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loading JSON documents with json-glib. Failures throw std::runtime_error
 * whose message names the file and, for syntax errors, the line and column.
 */
#pragma once

#include "gst-ptr.h"

#include <json-glib/json-glib.h>

#include <string>
#include <string_view>

namespace reelforge {

/* Parses the file at path; the root node is returned owned. */
JsonNodePtr load_json_file(const std::string &path);

/* Parses text; origin names it in error messages (a path or "resource:..."). */
JsonNodePtr parse_json(std::string_view text, const std::string &origin);

/* Serialises node, pretty-printed with two-space indents when pretty. */
std::string to_json_string(JsonNode *node, bool pretty);

}  // namespace reelforge
