/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SigV4 against the 38 aws-c-auth vectors (every intermediate value, header
 * and query signing) and against Debian's python3-botocore on randomised
 * S3 requests.
 */
#include "sigv4.h"
#include "test-environment.h"

#include <json-glib/json-glib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;
using namespace reelforge::s3;

namespace {

std::string read_text(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path vectors_dir() {
  /* A copy of shared/testdata/sigv4 (see its SOURCE.md). */
  return reelforge::test::source_dir() / "tests" / "plugins" / "s3" / "sigv4-vectors";
}

/* request.txt: request line, headers (a line starting with white space
 * continues the previous one), blank line, body. */
struct RawRequest {
  std::string method, target, path, raw_query;
  std::vector<std::string> header_lines;
  NameValues headers;
  std::string body;
};

RawRequest parse_request(const std::string &text) {
  RawRequest r;
  std::string head = text, body;
  if (auto blank = text.find("\n\n"); blank != std::string::npos) {
    head = text.substr(0, blank);
    body = text.substr(blank + 2);
  }
  r.body = body;
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.raw_query = r.target.substr(q + 1);
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    r.header_lines.push_back(line);
    if (line[0] == ' ' || line[0] == '\t') {
      r.headers.back().second += "\n" + line;
      continue;
    }
    const auto colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

NameValues parse_query(const std::string &raw) {
  NameValues query;
  if (raw.empty()) return query;
  std::istringstream parts(raw);
  std::string part;
  while (std::getline(parts, part, '&')) {
    const auto eq = part.find('=');
    query.emplace_back(uri_decode(part.substr(0, eq)),
                       eq == std::string::npos ? "" : uri_decode(part.substr(eq + 1)));
  }
  return query;
}

struct Case {
  SigningRequest request;
  SigningOptions options;
  RawRequest raw;
  bool sign_body = false;
};

Case load_case(const fs::path &dir) {
  Case c;
  reelforge::GObjectPtr<JsonParser> parser(json_parser_new());
  GError *error = nullptr;
  EXPECT_TRUE(json_parser_load_from_file(parser.get(), (dir / "context.json").c_str(), &error));
  if (error) g_error_free(error);
  JsonObject *ctx = json_node_get_object(json_parser_get_root(parser.get()));
  JsonObject *creds = json_object_get_object_member(ctx, "credentials");
  c.options.credentials.access_key_id = json_object_get_string_member(creds, "access_key_id");
  c.options.credentials.secret_access_key =
      json_object_get_string_member(creds, "secret_access_key");
  if (json_object_has_member(creds, "token"))
    c.options.credentials.session_token = json_object_get_string_member(creds, "token");
  c.options.region = json_object_get_string_member(ctx, "region");
  c.options.service = json_object_get_string_member(ctx, "service");
  c.options.normalize_path = json_object_get_boolean_member(ctx, "normalize");
  c.options.expires_seconds = json_object_get_int_member(ctx, "expiration_in_seconds");
  c.sign_body = json_object_get_boolean_member(ctx, "sign_body");
  c.options.add_content_sha256 = c.sign_body;
  if (json_object_has_member(ctx, "omit_session_token"))
    c.options.sign_session_token = !json_object_get_boolean_member(ctx, "omit_session_token");
  /* 2015-08-30T12:36:00Z -> 20150830T123600Z */
  std::string ts = json_object_get_string_member(ctx, "timestamp");
  std::string basic;
  for (char ch : ts)
    if (ch != '-' && ch != ':') basic += ch;
  c.options.timestamp = basic;

  c.raw = parse_request(read_text(dir / "request.txt"));
  c.request.method = c.raw.method;
  c.request.path = c.raw.path;
  c.request.query = parse_query(c.raw.raw_query);
  c.request.headers = c.raw.headers;
  c.request.payload_hash = sha256_hex(c.raw.body);
  return c;
}

std::string strip_trailing_newlines(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::vector<fs::path> case_dirs() {
  std::vector<fs::path> dirs;
  for (const auto &entry : fs::directory_iterator(vectors_dir()))
    if (entry.is_directory()) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace

TEST(SigV4Vectors, AllCasesFound) {
  EXPECT_EQ(case_dirs().size(), 38u) << vectors_dir();
}

TEST(SigV4Vectors, HeaderSigningReproducesEveryIntermediateValue) {
  for (const auto &dir : case_dirs()) {
    SCOPED_TRACE(dir.filename().string());
    Case c = load_case(dir);
    Signature sig = sign_headers(c.request, c.options);
    EXPECT_EQ(sig.canonical_request, read_text(dir / "header-canonical-request.txt"));
    EXPECT_EQ(sig.string_to_sign, read_text(dir / "header-string-to-sign.txt"));
    EXPECT_EQ(sig.signature, read_text(dir / "header-signature.txt"));

    std::string signed_request = c.raw.method + " " + c.raw.target + " HTTP/1.1\n";
    for (const auto &line : c.raw.header_lines) signed_request += line + "\n";
    for (const auto &[name, value] : sig.added_headers) signed_request += name + ":" + value + "\n";
    signed_request += "\n" + c.raw.body;
    EXPECT_EQ(strip_trailing_newlines(signed_request),
              strip_trailing_newlines(read_text(dir / "header-signed-request.txt")));
  }
}

TEST(SigV4Vectors, QuerySigningReproducesEveryIntermediateValue) {
  for (const auto &dir : case_dirs()) {
    SCOPED_TRACE(dir.filename().string());
    Case c = load_case(dir);
    Signature sig = sign_query(c.request, c.options);
    EXPECT_EQ(sig.canonical_request, read_text(dir / "query-canonical-request.txt"));
    EXPECT_EQ(sig.string_to_sign, read_text(dir / "query-string-to-sign.txt"));
    EXPECT_EQ(sig.signature, read_text(dir / "query-signature.txt"));

    std::string target = c.raw.target + (c.raw.raw_query.empty() ? "?" : "&");
    target += encode_query(sig.added_query);
    std::string signed_request = c.raw.method + " " + target + " HTTP/1.1\n";
    for (const auto &line : c.raw.header_lines) signed_request += line + "\n";
    signed_request += "\n" + c.raw.body;
    EXPECT_EQ(strip_trailing_newlines(signed_request),
              strip_trailing_newlines(read_text(dir / "query-signed-request.txt")));
  }
}

TEST(SigV4Vectors, AwsDocumentationExample) {
  /* GET /test.txt, Range bytes=0-9 (AWS S3 API reference, sig-v4-header-based-auth). */
  SigningRequest request;
  request.method = "GET";
  request.path = "/test.txt";
  request.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  SigningOptions options;
  options.credentials = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  options.region = "us-east-1";
  options.timestamp = "20130524T000000Z";
  Signature sig = sign_headers(request, options);
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(sig.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
}

/* botocore's S3SigV4Auth signs the same random requests; a small Python
 * program reads them as JSON lines and prints one signature per line. */
TEST(SigV4Botocore, AgreesOnRandomisedS3Requests) {
  std::mt19937 rng(20261122);
  const std::vector<std::string> pieces = {"a", "B", " ", "+", "=", "&", "/", "%",
                                           "é", "ሴ", "😀", "~", ".", "-", "_", "!",
                                           "'", "(", "*", ":", "@", ",", ";", "$"};
  auto random_text = [&](int min_len, int max_len) {
    std::string s;
    const int n = std::uniform_int_distribution<int>(min_len, max_len)(rng);
    for (int i = 0; i < n; ++i)
      s += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    return s;
  };

  reelforge::test::TempDir tmp;
  std::ofstream input(tmp.file("requests.jsonl"));
  std::vector<std::string> expected;
  constexpr int kRequests = 60;
  for (int i = 0; i < kRequests; ++i) {
    SigningRequest request;
    request.method = std::vector<std::string>{"GET", "PUT", "POST", "DELETE", "HEAD"}[i % 5];
    std::string key = "clips/" + random_text(1, 12) + ".mp4";
    request.path = "/bucket-" + std::to_string(i) + "/" + key;
    const int nq = i % 4;
    for (int q = 0; q < nq; ++q) request.query.emplace_back(random_text(1, 5), random_text(0, 6));
    if (i % 7 == 0) request.query.emplace_back("uploads", "");
    request.headers = {{"host", "127.0.0.1:4568"}};
    if (i % 3 == 0) request.headers.emplace_back("Content-Type", "video/mp4");
    if (i % 4 == 1) request.headers.emplace_back("x-amz-meta-title", " a  " + random_text(1, 4));
    const bool unsigned_payload = i % 2 == 0;
    std::string body = unsigned_payload ? "" : random_text(0, 40);
    request.payload_hash = unsigned_payload ? kUnsignedPayload : sha256_hex(body);
    SigningOptions options;
    options.credentials = {"AKID" + std::to_string(i), "secret/" + random_text(4, 10),
                           i % 5 == 0 ? "token+" + std::to_string(i) : ""};
    options.region = i % 2 ? "eu-west-3" : "us-east-1";
    options.timestamp =
        "202611" + std::to_string(10 + i % 18) + "T0102" + std::to_string(10 + i % 50) + "Z";
    Signature sig = sign_headers(request, options);
    std::string authorization;
    for (const auto &[name, value] : sig.added_headers)
      if (name == "Authorization") authorization = value;
    expected.push_back(authorization);

    /* The URL as it goes on the wire. */
    std::string url = "http://127.0.0.1:4568" + uri_encode(request.path, true);
    if (!request.query.empty()) url += "?" + encode_query(request.query);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    auto put = [&](const char *k, const std::string &v) {
      json_builder_set_member_name(b, k);
      json_builder_add_string_value(b, v.c_str());
    };
    put("method", request.method);
    put("url", url);
    put("body", body);
    put("payload_hash", request.payload_hash);
    put("access_key", options.credentials.access_key_id);
    put("secret_key", options.credentials.secret_access_key);
    put("token", options.credentials.session_token);
    put("region", options.region);
    put("timestamp", options.timestamp);
    json_builder_set_member_name(b, "headers");
    json_builder_begin_array(b);
    for (const auto &[name, value] : request.headers) {
      if (g_ascii_strcasecmp(name.c_str(), "host") == 0) continue;
      json_builder_begin_array(b);
      json_builder_add_string_value(b, name.c_str());
      json_builder_add_string_value(b, value.c_str());
      json_builder_end_array(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    gchar *line = json_to_string(root, FALSE);
    input << line << "\n";
    g_free(line);
    json_node_unref(root);
    g_object_unref(b);
  }
  input.close();

  const std::string script = R"PY(
import json, sys, datetime, types
from unittest import mock
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    req = AWSRequest(method=r["method"], url=r["url"], data=r["body"].encode("utf-8"))
    for name, value in r["headers"]:
        req.headers[name] = value
    if r["payload_hash"] == "UNSIGNED-PAYLOAD":
        req.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": False})
    creds = Credentials(r["access_key"], r["secret_key"], r["token"] or None)
    auth = S3SigV4Auth(creds, "s3", r["region"])
    when = datetime.datetime.strptime(r["timestamp"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = when
        auth.add_auth(req)
    print(req.headers["Authorization"])
)PY";
  std::ofstream(tmp.file("sign.py")) << script;
  std::string output;
  const int status = reelforge::test::run_command(
      "/usr/bin/python3 " + reelforge::test::shell_quote(tmp.file("sign.py")) + " " +
          reelforge::test::shell_quote(tmp.file("requests.jsonl")),
      &output, true);
  ASSERT_EQ(status, 0) << output;
  std::istringstream lines(output);
  std::string line;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(std::getline(lines, line)) << "botocore printed " << i << " lines";
    EXPECT_EQ(expected[i], line) << "request " << i;
  }
}
