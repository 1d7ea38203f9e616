/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The graphs reelforge runs are text in pipelines/ (gst-launch syntax with
 * ${placeholders}), shipped inside the program as resources. A template is
 * filled with values into the exact description that runs, and that
 * description also runs unchanged under gst-launch-1.0.
 */
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace reelforge::plan {

class PipelineTemplate {
 public:
  /* Loads pipelines/<name>.pipeline. Throws std::runtime_error. */
  static PipelineTemplate load(const std::string &name);
  static PipelineTemplate from_text(std::string text, std::string name);

  /* Replaces every ${key}; values are escaped for use inside double quotes,
   * which the template writes around them. A placeholder without a value
   * is an error naming it. Comment lines (#) are dropped and lines joined. */
  std::string fill(const std::map<std::string, std::string> &values) const;

  const std::string &name() const { return name_; }

 private:
  PipelineTemplate(std::string text, std::string name)
      : text_(std::move(text)), name_(std::move(name)) {}
  std::string text_;
  std::string name_;
};

/* Escapes backslashes and double quotes for a gst-launch quoted value. */
std::string escape_quoted(std::string_view value);

}  // namespace reelforge::plan
