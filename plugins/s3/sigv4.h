/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * AWS Signature Version 4 over GLib's SHA-256 and HMAC: header signing
 * (Authorization) and query signing (presigned URLs). Paths are never
 * normalised unless asked, as S3 requires; every intermediate value is
 * returned so tests can compare them with the published vectors.
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reelforge::s3 {

using NameValues = std::vector<std::pair<std::string, std::string>>;

inline constexpr const char *kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr const char *kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token; /* empty when none */
};

/* A request as it will be sent. */
struct SigningRequest {
  std::string method;
  std::string path;   /* decoded bytes, starting with '/'; encoded by the signer */
  NameValues query;   /* decoded names and values, in sending order */
  NameValues headers; /* sent headers to sign (Host included), any case */
  std::string payload_hash = kEmptyPayloadHash; /* hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
};

struct SigningOptions {
  Credentials credentials;
  std::string region;
  std::string service = "s3";
  std::string timestamp;               /* ISO basic, UTC: 20150830T123600Z */
  bool normalize_path = false;         /* S3: false */
  bool sign_session_token = true;      /* false: the token is sent but not signed (STS "after") */
  bool add_content_sha256 = true;      /* header signing: send x-amz-content-sha256 (S3 wants it) */
  std::int64_t expires_seconds = 3600; /* query signing */
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      /* hex */
  std::string signed_headers; /* "host;x-amz-date" */
  NameValues added_headers;   /* header signing: to send after the request's, in order */
  NameValues added_query;     /* query signing: decoded, to append to the query, in order */
};

/* Header signing: X-Amz-Date (and token, content hash) plus Authorization. */
Signature sign_headers(const SigningRequest &request, const SigningOptions &options);

/* Query signing: X-Amz-Algorithm ... X-Amz-Signature for a presigned URL. */
Signature sign_query(const SigningRequest &request, const SigningOptions &options);

/* RFC 3986 percent-encoding of everything but unreserved characters (and
 * '/' when keep_slash), upper-case hex, as SigV4 defines it. */
std::string uri_encode(std::string_view text, bool keep_slash);

/* Percent-decoding ("%2F" -> "/"); '+' stays '+'. */
std::string uri_decode(std::string_view text);

/* name=value&... with both URI-encoded, in the given order. */
std::string encode_query(const NameValues &query);

/* Lower-case hex SHA-256 of data. */
std::string sha256_hex(std::string_view data);

/* The current time as SigV4 wants it: 20150830T123600Z. */
std::string amz_timestamp_now();

}  // namespace reelforge::s3
