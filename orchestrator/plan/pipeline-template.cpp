/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "plan/pipeline-template.h"

#include "gst-ptr.h"

#include <gio/gio.h>

#include <sstream>
#include <stdexcept>

namespace reelforge::plan {

PipelineTemplate PipelineTemplate::load(const std::string &name) {
  const std::string path = "/dev/reelforge/pipelines/" + name + ".pipeline";
  GBytesPtr bytes(g_resources_lookup_data(path.c_str(), G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr));
  if (!bytes) throw std::runtime_error("no pipeline template named " + name);
  gsize size = 0;
  const auto *data = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
  return from_text(std::string(data, size), name);
}

PipelineTemplate PipelineTemplate::from_text(std::string text, std::string name) {
  /* Drop comments and join lines, so filling works on one line. */
  std::istringstream lines(text);
  std::string joined, line;
  while (std::getline(lines, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\\");
    if (!joined.empty()) joined += ' ';
    joined += line.substr(first, last - first + 1);
  }
  return PipelineTemplate(std::move(joined), std::move(name));
}

std::string PipelineTemplate::fill(const std::map<std::string, std::string> &values) const {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = text_.find("${", pos);
    if (open == std::string::npos) break;
    const size_t close = text_.find('}', open);
    if (close == std::string::npos)
      throw std::runtime_error("pipeline " + name_ + ": unterminated ${ at offset " +
                               std::to_string(open));
    const std::string key = text_.substr(open + 2, close - open - 2);
    const auto value = values.find(key);
    if (value == values.end())
      throw std::runtime_error("pipeline " + name_ + ": no value for ${" + key + "}");
    out.append(text_, pos, open - pos);
    out += escape_quoted(value->second);
    pos = close + 1;
  }
  out.append(text_, pos, std::string::npos);
  return out;
}

std::string escape_quoted(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace reelforge::plan
