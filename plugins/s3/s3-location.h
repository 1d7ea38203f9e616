/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where an S3 object lives and who may touch it: s3:// URIs, endpoints
 * (AWS, MinIO, R2, s3rver; path-style or virtual-host), and credentials in
 * the usual AWS order (explicit values, then the environment, then the
 * ~/.aws/credentials and config profile).
 */
#pragma once

#include "sigv4.h"

#include <optional>
#include <string>

namespace reelforge::s3 {

/* s3://bucket/key */
struct S3Uri {
  std::string bucket;
  std::string key; /* may be empty (a prefix or bucket) */
};

/* Parses uri; on failure returns nullopt and says why in *error. */
std::optional<S3Uri> parse_s3_uri(const std::string &uri, std::string *error);
std::string format_s3_uri(const std::string &bucket, const std::string &key);

enum class UrlStyle { Auto, Path, VirtualHost };

/* What the user set; empty strings are filled in by resolve(). */
struct S3Target {
  std::string bucket;
  std::string key;
  std::string region;
  std::string endpoint; /* http(s)://host[:port]; empty: AWS for the region */
  UrlStyle url_style = UrlStyle::Auto;
  Credentials credentials;
};

/* Fills region, endpoint and credentials that are not set from the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
 * AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL) and then the profile
 * (AWS_PROFILE or "default") in AWS_SHARED_CREDENTIALS_FILE /
 * ~/.aws/credentials and AWS_CONFIG_FILE / ~/.aws/config. Throws
 * std::runtime_error naming what is missing or malformed; never includes a
 * secret in the message. */
S3Target resolve(S3Target target);

/* One request's address. */
struct S3Address {
  std::string base; /* scheme://host[:port] */
  std::string host; /* Host header */
  std::string path; /* decoded, starting with '/' */
  bool https = true;
};

/* The address of key in target's bucket (the bucket itself when key is empty). */
S3Address address_of(const S3Target &target, const std::string &key);

}  // namespace reelforge::s3
