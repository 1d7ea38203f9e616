/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "s3-output.h"

#include "gst-ptr.h"
#include "s3-client.h"

#include <glib.h>

namespace reelforge::plan {

std::string s3_output_uri(const std::string &prefix, const std::string &file_name) {
  return prefix.ends_with("/") ? prefix + file_name : prefix + "/" + file_name;
}

void upload_file(const std::string &path, const std::string &uri, const std::string &content_type) {
  std::string error;
  const auto location = s3::parse_s3_uri(uri, &error);
  if (!location) throw std::runtime_error(error);
  gchar *contents = nullptr;
  gsize size = 0;
  GError *raw = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &size, &raw)) {
    GErrorPtr owned(raw);
    throw std::runtime_error("cannot read " + path + " to upload it to " + uri + ": " +
                             owned->message);
  }
  GBytesPtr body(g_bytes_new_take(contents, size));
  s3::S3Target target;
  target.bucket = location->bucket;
  target.key = location->key;
  try {
    target = s3::resolve(target);
  } catch (const std::exception &e) {
    throw std::runtime_error(uri + ": " + e.what());
  }
  s3::S3Client client(target, s3::RetryPolicy{});
  s3::S3Request request;
  request.method = "PUT";
  request.key = target.key;
  request.headers = {{"Content-Type", content_type}};
  request.body = body.get();
  request.what = "PUT of " + path;
  const s3::S3Response response = client.send(request);
  if (!response.ok()) throw std::runtime_error(response.error);
}

}  // namespace reelforge::plan
