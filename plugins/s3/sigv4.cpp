/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sigv4.h"

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <stdexcept>

namespace reelforge::s3 {

namespace {

constexpr const char *kAlgorithm = "AWS4-HMAC-SHA256";

struct HmacDeleter {
  void operator()(GHmac *h) const noexcept { g_hmac_unref(h); }
};
struct ChecksumDeleter {
  void operator()(GChecksum *c) const noexcept { g_checksum_free(c); }
};

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::unique_ptr<GHmac, HmacDeleter> hmac(
      g_hmac_new(G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(key.data()), key.size()));
  g_hmac_update(hmac.get(), reinterpret_cast<const guchar *>(data.data()),
                static_cast<gssize>(data.size()));
  guint8 digest[32];
  gsize length = sizeof digest;
  g_hmac_get_digest(hmac.get(), digest, &length);
  return std::string(reinterpret_cast<const char *>(digest), length);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char &c : out) c = static_cast<char>(g_ascii_tolower(c));
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trimmed, with every run of white space (folded lines included) one space. */
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

/* RFC 3986 dot-segment removal plus empty segments dropped, as the
 * non-S3 services expect; a trailing slash is kept. */
std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (auto s : segments) {
    out += '/';
    out += s;
  }
  const bool trailing = path.ends_with("/") || path.ends_with("/.") || path.ends_with("/..");
  if (out.empty() || trailing) out += '/';
  return out;
}

struct CanonicalHeaders {
  std::string text; /* "name:value\n" lines */
  std::string signed_names;
};

CanonicalHeaders canonical_headers(const NameValues &headers) {
  std::map<std::string, std::string> merged; /* sorted by lower-case name */
  for (const auto &[name, value] : headers) {
    std::string key = lower(name);
    std::string v = canonical_header_value(value);
    auto it = merged.find(key);
    if (it == merged.end())
      merged.emplace(std::move(key), std::move(v));
    else
      it->second += "," + v;
  }
  CanonicalHeaders out;
  for (const auto &[name, value] : merged) {
    out.text += name + ":" + value + "\n";
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += name;
  }
  return out;
}

std::string canonical_query(const NameValues &query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto &[name, value] : query)
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto &[name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string scope_of(const SigningOptions &o) {
  if (o.timestamp.size() != 16)
    throw std::invalid_argument("SigV4 timestamp must be YYYYMMDDTHHMMSSZ");
  return o.timestamp.substr(0, 8) + "/" + o.region + "/" + o.service + "/aws4_request";
}

void finish(Signature &sig, const SigningRequest &request, const SigningOptions &o,
            const std::string &query, const CanonicalHeaders &headers) {
  const std::string path = o.normalize_path ? normalize_path(request.path) : request.path;
  sig.canonical_request = request.method + "\n" + uri_encode(path, true) + "\n" + query + "\n" +
                          headers.text + "\n" + headers.signed_names + "\n" + request.payload_hash;
  sig.string_to_sign = std::string(kAlgorithm) + "\n" + o.timestamp + "\n" + scope_of(o) + "\n" +
                       sha256_hex(sig.canonical_request);
  std::string key = hmac_sha256("AWS4" + o.credentials.secret_access_key, o.timestamp.substr(0, 8));
  key = hmac_sha256(key, o.region);
  key = hmac_sha256(key, o.service);
  key = hmac_sha256(key, "aws4_request");
  sig.signature = to_hex(hmac_sha256(key, sig.string_to_sign));
  sig.signed_headers = headers.signed_names;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (g_ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string uri_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && g_ascii_isxdigit(text[i + 1]) &&
        g_ascii_isxdigit(text[i + 2])) {
      out += static_cast<char>(g_ascii_xdigit_value(text[i + 1]) * 16 +
                               g_ascii_xdigit_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string encode_query(const NameValues &query) {
  std::string out;
  for (const auto &[name, value] : query) {
    if (!out.empty()) out += '&';
    out += uri_encode(name, false) + "=" + uri_encode(value, false);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::unique_ptr<GChecksum, ChecksumDeleter> sum(g_checksum_new(G_CHECKSUM_SHA256));
  g_checksum_update(sum.get(), reinterpret_cast<const guchar *>(data.data()),
                    static_cast<gssize>(data.size()));
  return g_checksum_get_string(sum.get());
}

std::string amz_timestamp_now() {
  GDateTime *now = g_date_time_new_now_utc();
  gchar *text = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
  std::string out(text);
  g_free(text);
  g_date_time_unref(now);
  return out;
}

Signature sign_headers(const SigningRequest &request, const SigningOptions &o) {
  Signature sig;
  const bool token = !o.credentials.session_token.empty();
  if (token) sig.added_headers.emplace_back("X-Amz-Security-Token", o.credentials.session_token);
  sig.added_headers.emplace_back("X-Amz-Date", o.timestamp);
  if (o.add_content_sha256)
    sig.added_headers.emplace_back("x-amz-content-sha256", request.payload_hash);

  NameValues to_sign = request.headers;
  for (const auto &h : sig.added_headers) {
    if (h.first == "X-Amz-Security-Token" && !o.sign_session_token) continue;
    to_sign.push_back(h);
  }
  const CanonicalHeaders headers = canonical_headers(to_sign);
  finish(sig, request, o, canonical_query(request.query), headers);
  sig.added_headers.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + o.credentials.access_key_id +
                           "/" + scope_of(o) + ", SignedHeaders=" + sig.signed_headers +
                           ", Signature=" + sig.signature);
  return sig;
}

Signature sign_query(const SigningRequest &request, const SigningOptions &o) {
  Signature sig;
  const CanonicalHeaders headers = canonical_headers(request.headers);
  NameValues auth = {
      {"X-Amz-Algorithm", kAlgorithm},
      {"X-Amz-Credential", o.credentials.access_key_id + "/" + scope_of(o)},
      {"X-Amz-Date", o.timestamp},
      {"X-Amz-SignedHeaders", headers.signed_names},
      {"X-Amz-Expires", std::to_string(o.expires_seconds)},
  };
  NameValues signed_query = request.query;
  signed_query.insert(signed_query.end(), auth.begin(), auth.end());
  const bool token = !o.credentials.session_token.empty();
  if (token) {
    auth.emplace_back("X-Amz-Security-Token", o.credentials.session_token);
    if (o.sign_session_token) signed_query.push_back(auth.back());
  }
  finish(sig, request, o, canonical_query(signed_query), headers);
  auth.emplace_back("X-Amz-Signature", sig.signature);
  sig.added_query = std::move(auth);
  return sig;
}

}  // namespace reelforge::s3
