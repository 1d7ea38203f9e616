/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Provider::cancel() against stand-ins of each provider's cancel request
 * (/shared/reference/providers.md): the method, path and auth headers sent,
 * the answers for a job that already ended, and errors. The provider layer
 * is called directly, as the orchestrator's daemon calls it.
 */
#include "genvideo-provider.h"
#include "stand-in-server.h"
#include "test-environment.h"

#include <memory>
#include <string>

using reelforge::gen::ErrorClass;
using reelforge::gen::GenError;
using reelforge::gen::GenRequest;
using reelforge::test::RecordedRequest;
using reelforge::test::Reply;
using reelforge::test::StandInServer;

namespace {

constexpr const char *kKey = "sk-test-SECRET-cancel-0123456789";

/* One provider under test, talking to a stand-in. */
struct Harness {
  explicit Harness(const std::string &name, const std::string &model = "") {
    reelforge::gen::ProviderConfig config;
    config.endpoint = server.url() + (name == "veo" ? "/v1beta" : "");
    config.api_key = kKey;
    config.model = model;
    config.retry.initial_backoff = std::chrono::milliseconds(10);
    config.cancel_retry.initial_backoff = std::chrono::milliseconds(10);
    provider = reelforge::gen::make_provider(name, config, client);
  }
  /* The one request the server received. */
  RecordedRequest only_request() const {
    auto all = server.requests();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? RecordedRequest{} : all.front();
  }

  StandInServer server;
  reelforge::http::HttpClient client;
  std::unique_ptr<reelforge::gen::Provider> provider;
};

}  // namespace

/* --- the requests ----------------------------------------------------------------------- */

TEST(ProviderCancel, ReplicatePostsToThePredictionsCancelUrlWithTheBearerToken) {
  Harness h("replicate", "google/veo-3-fast");
  h.server.route("POST", "/v1/predictions/", [](const RecordedRequest &) {
    return Reply::json(200, R"({"id":"p1","status":"canceled","output":null,"error":null})");
  });
  EXPECT_TRUE(h.provider->can_cancel());
  EXPECT_TRUE(h.provider->cancel("p1"));
  const auto r = h.only_request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/predictions/p1/cancel");
  EXPECT_EQ(r.header("Authorization").value_or(""), std::string("Bearer ") + kKey);
}

TEST(ProviderCancel, RunwayDeletesTheTaskWithBearerAndVersionHeaders) {
  Harness h("runway", "gen4_turbo");
  h.server.route("DELETE", "/v1/tasks/",
                 [](const RecordedRequest &) { return Reply::text(204, ""); });
  EXPECT_TRUE(h.provider->cancel("t-42"));
  const auto r = h.only_request();
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.path, "/v1/tasks/t-42");
  EXPECT_EQ(r.header("Authorization").value_or(""), std::string("Bearer ") + kKey);
  EXPECT_EQ(r.header("X-Runway-Version").value_or(""), "2024-11-06");
}

TEST(ProviderCancel, FalPutsTheCancelUrlOfTheSubmitReplyOrTheDocumentedOne) {
  const std::string model = "fal-ai/kling-video/v2/master/text-to-video";
  Harness h("fal", model);
  /* The queue names its URLs under the app, not the endpoint path; this
   * stand-in puts them somewhere a guessed URL would not reach. */
  h.server.route("POST", "/fal-ai/", [&h](const RecordedRequest &) {
    const std::string base = h.server.url() + "/queue-urls/requests/r1";
    return Reply::json(200, R"({"request_id":"r1","status":"IN_QUEUE","status_url":")" + base +
                                R"(/status","response_url":")" + base + R"(","cancel_url":")" +
                                base + R"(/cancel"})");
  });
  auto accepted = [](const RecordedRequest &) {
    return Reply::json(202, R"({"status":"CANCELLATION_REQUESTED"})");
  };
  h.server.route("PUT", "/queue-urls/", accepted);
  h.server.route("PUT", "/fal-ai/", accepted);
  GenRequest request;
  request.provider = "fal";
  request.model = model;
  request.prompt = "A lighthouse at dawn";
  ASSERT_EQ(h.provider->submit(request).job_id, "r1");
  EXPECT_TRUE(h.provider->cancel("r1"));
  /* A job this object did not submit (a daemon after a restart). */
  EXPECT_TRUE(h.provider->cancel("r9"));
  auto all = h.server.requests();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].method, "PUT");
  EXPECT_EQ(all[1].path, "/queue-urls/requests/r1/cancel");
  EXPECT_EQ(all[1].header("Authorization").value_or(""), std::string("Key ") + kKey);
  EXPECT_EQ(all[2].method, "PUT");
  EXPECT_EQ(all[2].path, "/fal-ai/kling-video/requests/r9/cancel");
  EXPECT_EQ(all[2].header("Authorization").value_or(""), std::string("Key ") + kKey);
}

TEST(ProviderCancel, VeoAndLumaHaveNoDocumentedCancelAndSendNothing) {
  for (const char *name : {"veo", "luma"}) {
    Harness h(name, "m");
    EXPECT_FALSE(h.provider->can_cancel()) << name;
    EXPECT_FALSE(h.provider->cancel("job-1")) << name;
    EXPECT_EQ(h.server.total(), 0u) << name;
  }
}

/* --- a job that already ended ---------------------------------------------------------------- */

TEST(ProviderCancel, AJobThatAlreadyEndedIsNotAnErrorAndNotAccepted) {
  {
    /* Replicate answers with the prediction as it is: still succeeded. */
    Harness h("replicate", "google/veo-3-fast");
    h.server.route("POST", "/v1/predictions/", [](const RecordedRequest &) {
      return Reply::json(200, R"({"id":"p1","status":"succeeded","output":"https://x/o.mp4"})");
    });
    EXPECT_FALSE(h.provider->cancel("p1"));
  }
  {
    Harness h("fal", "fal-ai/kling-video");
    h.server.route("PUT", "/fal-ai/", [](const RecordedRequest &) {
      return Reply::json(400, R"({"status":"ALREADY_COMPLETED"})");
    });
    EXPECT_FALSE(h.provider->cancel("r1"));
  }
  {
    Harness h("runway", "gen4_turbo");
    h.server.route("DELETE", "/v1/tasks/", [](const RecordedRequest &) {
      return Reply::json(404, R"({"error":"Task not found"})");
    });
    EXPECT_FALSE(h.provider->cancel("t1"));
  }
  {
    Harness h("replicate", "google/veo-3-fast");
    h.server.route("POST", "/v1/predictions/", [](const RecordedRequest &) {
      return Reply::json(409, R"({"title":"Conflict","detail":"Prediction already completed"})");
    });
    EXPECT_FALSE(h.provider->cancel("p2"));
  }
}

/* --- errors ------------------------------------------------------------------------------------
 */

TEST(ProviderCancel, ARefusedKeyIsAFatalErrorNamingTheVariableNotTheKey) {
  Harness h("replicate", "google/veo-3-fast");
  h.server.route("POST", "/v1/predictions/", [](const RecordedRequest &) {
    return Reply::json(401,
                       R"({"title":"Unauthenticated","detail":"Invalid token.","status":401})");
  });
  try {
    h.provider->cancel("p1");
    FAIL() << "no error";
  } catch (const GenError &e) {
    EXPECT_EQ(e.error_class(), ErrorClass::kFatal);
    const std::string message = e.what();
    EXPECT_NE(message.find("REPLICATE_API_TOKEN"), std::string::npos) << message;
    EXPECT_NE(message.find("cancel"), std::string::npos) << message;
    EXPECT_EQ(message.find(kKey), std::string::npos) << message;
  }
}

TEST(ProviderCancel, ServerErrorsAreRetriedBrieflyThenTransient) {
  Harness h("runway", "gen4_turbo");
  h.server.route("DELETE", "/v1/tasks/", [](const RecordedRequest &) {
    return Reply::json(503, R"({"error":"Service unavailable"})");
  });
  try {
    h.provider->cancel("t1");
    FAIL() << "no error";
  } catch (const GenError &e) {
    EXPECT_EQ(e.error_class(), ErrorClass::kTransient);
    EXPECT_NE(std::string(e.what()).find("runway"), std::string::npos) << e.what();
  }
  /* ProviderConfig::cancel_retry: two attempts, not poll()'s five. */
  EXPECT_EQ(h.server.count("DELETE", "/v1/tasks/t1"), 2u);
}

TEST(ProviderCancel, AnotherClientErrorIsFatalWithTheProvidersReason) {
  Harness h("fal", "fal-ai/kling-video");
  h.server.route("PUT", "/fal-ai/", [](const RecordedRequest &) {
    return Reply::json(422, R"({"detail":"request_id is malformed"})");
  });
  try {
    h.provider->cancel("bad-id");
    FAIL() << "no error";
  } catch (const GenError &e) {
    EXPECT_EQ(e.error_class(), ErrorClass::kFatal);
    EXPECT_NE(std::string(e.what()).find("request_id is malformed"), std::string::npos) << e.what();
  }
}
