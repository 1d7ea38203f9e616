/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge presign s3://bucket/key [--expires SECONDS]
 */
#include "commands/commands.h"

#include "s3-location.h"
#include "sigv4.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace reelforge {

namespace {

constexpr const char *kPresignUsage =
    "Usage: reelforge presign s3://BUCKET/KEY [--expires SECONDS] [--method GET|PUT]\n"
    "                         [--endpoint URL] [--region REGION]\n"
    "\n"
    "Prints a presigned URL (AWS Signature Version 4, query signing) that\n"
    "lets anyone holding it GET (or PUT) the object until it expires.\n"
    "\n"
    "  --expires SECONDS  validity, 1 to 604800 (7 days); default 3600\n"
    "  --method           GET (default) or PUT\n"
    "  --endpoint URL     an S3-compatible service (MinIO, R2, s3rver);\n"
    "                     default AWS_ENDPOINT_URL, the profile's, or AWS\n"
    "  --region REGION    default AWS_REGION, the profile's, or us-east-1\n"
    "\n"
    "Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /\n"
    "AWS_SESSION_TOKEN, else the AWS_PROFILE (default) profile in\n"
    "~/.aws/credentials. Nothing is sent over the network.\n"
    "\n"
    "Exit status: 0 printed, 2 bad input.\n";

int usage_error(const std::string &message) {
  std::fprintf(stderr, "reelforge presign: %s\n\n%s", message.c_str(), kPresignUsage);
  return kExitBadInput;
}

}  // namespace

int presign_command(const std::vector<std::string> &args) {
  std::string uri, method = "GET", endpoint, region;
  long expires = 3600;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kPresignUsage, stdout);
      return kExitOk;
    }
    auto value = [&](const char *name) -> const std::string * {
      if (i + 1 >= args.size()) return nullptr;
      (void)name;
      return &args[++i];
    };
    if (arg == "--expires" || arg == "--method" || arg == "--endpoint" || arg == "--region") {
      const std::string *v = value(arg.c_str());
      if (!v) return usage_error(arg + " needs a value");
      if (arg == "--expires") {
        char *end = nullptr;
        expires = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end != '\0' || expires < 1 || expires > 604800)
          return usage_error("--expires \"" + *v +
                             "\" must be a number of seconds from 1 to 604800 (7 days)");
      } else if (arg == "--method") {
        method = *v;
        if (method != "GET" && method != "PUT")
          return usage_error("--method \"" + method + "\" must be GET or PUT");
      } else if (arg == "--endpoint") {
        endpoint = *v;
      } else {
        region = *v;
      }
      continue;
    }
    if (arg.starts_with("--")) return usage_error("unknown option " + arg);
    if (!uri.empty()) return usage_error("one s3:// URI at a time");
    uri = arg;
  }
  if (uri.empty()) return usage_error("which object? Give s3://bucket/key");

  std::string error;
  const auto location = s3::parse_s3_uri(uri, &error);
  if (!location) return usage_error(error);
  if (location->key.empty())
    return usage_error("\"" + uri + "\" names no key; write s3://bucket/key");

  s3::S3Target target;
  target.bucket = location->bucket;
  target.key = location->key;
  target.endpoint = endpoint;
  target.region = region;
  try {
    target = s3::resolve(target);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reelforge presign: %s: %s\n", uri.c_str(), e.what());
    return kExitBadInput;
  }
  const s3::S3Address address = s3::address_of(target, target.key);
  s3::SigningRequest request;
  request.method = method;
  request.path = address.path;
  request.headers = {{"host", address.host}};
  request.payload_hash = s3::kUnsignedPayload;
  s3::SigningOptions options;
  options.credentials = target.credentials;
  options.region = target.region;
  options.timestamp = s3::amz_timestamp_now();
  options.expires_seconds = expires;
  const s3::Signature signature = s3::sign_query(request, options);
  std::printf("%s%s?%s\n", address.base.c_str(), s3::uri_encode(address.path, true).c_str(),
              s3::encode_query(signature.added_query).c_str());
  return kExitOk;
}

}  // namespace reelforge
