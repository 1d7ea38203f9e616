/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "plan/s3-output.h"

namespace reelforge::plan {

std::string s3_output_uri(const std::string &prefix, const std::string &file_name) {
  return prefix.ends_with("/") ? prefix + file_name : prefix + "/" + file_name;
}

}  // namespace reelforge::plan
