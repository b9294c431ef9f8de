// Tests for the Router: literal and parameter segments, precedence, 404 and 405 with Allow, HEAD
// falling back to GET, percent-encoding in paths, and the patterns add() refuses.
#include "brigade/server/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brigade::server {
namespace {

using Status = RouteMatch::Status;

// A handler that answers with its own name, so a test can tell which one was matched.
Handler named(std::string name) {
  return [name](Request&) -> runtime::Task<Response> {
    // Copied before the first suspension point: the lambda may be gone when the task resumes.
    std::string body = name;
    co_return Response::text(200, std::move(body));
  };
}

// Runs the matched handler to completion on this thread: these handlers never suspend.
std::string run(const RouteMatch& m) {
  if (m.handler == nullptr) return "<none>";
  Request request;
  auto handle = (*m.handler)(request).release();
  handle.resume();
  std::string body = handle.promise().take().body;
  handle.destroy();
  return body;
}

Router sample_router() {
  Router router;
  router.add("GET", "/", named("root"));
  router.add("GET", "/json", named("json"));
  router.add("POST", "/echo", named("echo"));
  router.add("GET", "/files/{name}/sha256", named("file sha"));
  router.add("GET", "/files/latest/sha256", named("latest sha"));
  router.add("DELETE", "/files/{name}/sha256", named("delete"));
  router.add("GET", "/users/{user}/posts/{post}", named("post"));
  router.add("PUT", "/users/{user}/posts/{post}", named("put post"));
  return router;
}

TEST(Router, LiteralRoutes) {
  const Router router = sample_router();
  RouteMatch m = router.match("GET", "/");
  EXPECT_EQ(m.status, Status::found);
  EXPECT_EQ(m.route, "/");
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(run(m), "root");

  m = router.match("GET", "/json");
  EXPECT_EQ(m.status, Status::found);
  EXPECT_EQ(m.route, "/json");
  m = router.match("POST", "/echo");
  EXPECT_EQ(m.status, Status::found);
  EXPECT_EQ(run(m), "echo");
}

TEST(Router, ParametersAreDecodedAndNamed) {
  const Router router = sample_router();
  RouteMatch m = router.match("GET", "/files/report%20v2.txt/sha256");
  ASSERT_EQ(m.status, Status::found);
  EXPECT_EQ(m.route, "/files/{name}/sha256");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "name");
  EXPECT_EQ(m.params[0].second, "report v2.txt");

  m = router.match("PUT", "/users/ada/posts/42");
  ASSERT_EQ(m.status, Status::found);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"user", "ada"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"post", "42"}));
}

TEST(Router, EscapedSlashStaysInItsSegment) {
  const Router router = sample_router();
  // Routing is on the raw path: %2F is data, so the handler sees the decoded '/' and must refuse
  // a path escape itself.
  const RouteMatch m = router.match("GET", "/files/..%2F..%2Fetc%2Fpasswd/sha256");
  ASSERT_EQ(m.status, Status::found);
  EXPECT_EQ(m.params.at(0).second, "../../etc/passwd");
  EXPECT_EQ(router.match("GET", "/files/a%00b/sha256").params.at(0).second, std::string("a\0b", 3));
}

TEST(Router, LiteralSegmentsCompareDecoded) {
  const Router router = sample_router();
  EXPECT_EQ(router.match("GET", "/%6Aso%6e").status, Status::found);
  EXPECT_EQ(router.match("GET", "/files/%6Catest/sha256").route, "/files/latest/sha256");
  EXPECT_EQ(router.match("GET", "/JSON").status, Status::not_found);  // case-sensitive
}

TEST(Router, LiteralBeatsParameter) {
  const Router router = sample_router();
  EXPECT_EQ(run(router.match("GET", "/files/latest/sha256")), "latest sha");
  EXPECT_EQ(run(router.match("GET", "/files/other/sha256")), "file sha");
  // The literal pattern has no DELETE; the parameter one does.
  const RouteMatch m = router.match("DELETE", "/files/latest/sha256");
  ASSERT_EQ(m.status, Status::found);
  EXPECT_EQ(run(m), "delete");
  EXPECT_EQ(m.params.at(0).second, "latest");
}

TEST(Router, PrecedenceDoesNotDependOnTheOrderOfAdd) {
  Router router;
  router.add("GET", "/a/{x}/{y}", named("xy"));
  router.add("GET", "/a/{x}/c", named("xc"));
  router.add("GET", "/a/b/{y}", named("by"));
  EXPECT_EQ(router.match("GET", "/a/b/c").route, "/a/b/{y}");  // leftmost literal wins
  EXPECT_EQ(router.match("GET", "/a/z/c").route, "/a/{x}/c");
  EXPECT_EQ(router.match("GET", "/a/z/z").route, "/a/{x}/{y}");
}

TEST(Router, NotFound) {
  const Router router = sample_router();
  for (const char* path : {"/nope", "/json/", "/files/x", "/files//sha256", "/files/x/sha256/more",
                           "", "json", "*", "/users/a/posts/"}) {
    const RouteMatch m = router.match("GET", path);
    EXPECT_EQ(m.status, Status::not_found) << path;
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_TRUE(m.allow.empty());
  }
  const std::string deep = "/" + std::string(100, 'a').replace(1, 98, std::string(98, '/'));
  EXPECT_EQ(router.match("GET", deep).status, Status::not_found);
  EXPECT_EQ(Router{}.match("GET", "/").status, Status::not_found);
}

TEST(Router, MethodNotAllowedListsTheMethodsOfTheMatchingPatterns) {
  const Router router = sample_router();
  RouteMatch m = router.match("POST", "/json");
  EXPECT_EQ(m.status, Status::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD");
  EXPECT_EQ(m.handler, nullptr);

  m = router.match("GET", "/echo");
  EXPECT_EQ(m.status, Status::method_not_allowed);
  EXPECT_EQ(m.allow, "POST");

  // Both /files/latest/sha256 and /files/{name}/sha256 match: the union.
  m = router.match("PUT", "/files/latest/sha256");
  EXPECT_EQ(m.status, Status::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD, DELETE");

  m = router.match("DELETE", "/users/a/posts/1");
  EXPECT_EQ(m.allow, "GET, HEAD, PUT");
}

TEST(Router, HeadFallsBackToGet) {
  Router router = sample_router();
  RouteMatch m = router.match("HEAD", "/json");
  ASSERT_EQ(m.status, Status::found);
  EXPECT_EQ(m.route, "/json");
  EXPECT_EQ(router.match("HEAD", "/echo").status, Status::method_not_allowed);

  EXPECT_EQ(run(m), "json");

  // An explicit HEAD route wins over GET's.
  router.add("HEAD", "/json", named("head"));
  EXPECT_EQ(run(router.match("HEAD", "/json")), "head");
  EXPECT_EQ(run(router.match("GET", "/json")), "json");
  EXPECT_EQ(router.match("POST", "/json").allow, "GET, HEAD");
}

TEST(Router, RouteFillsTheRequest) {
  const Router router = sample_router();
  Request request;
  request.method = "GET";
  request.target = "/files/a%20b/sha256?x=1";
  RouteMatch m = router.route(request);
  ASSERT_EQ(m.status, Status::found);
  EXPECT_EQ(request.route, "/files/{name}/sha256");
  EXPECT_EQ(request.path_param("name"), "a b");
  EXPECT_EQ(router.patterns().at(request.route_index), "/files/{name}/sha256");

  // Absolute-form: routed on its path.
  Request absolute;
  absolute.method = "GET";
  absolute.target = "http://example.com/json?q";
  EXPECT_EQ(router.route(absolute).route, "/json");

  Request missing;
  missing.method = "GET";
  missing.target = "/missing";
  EXPECT_EQ(router.route(missing).status, Status::not_found);
  EXPECT_TRUE(missing.route.empty());
}

TEST(Router, PatternsListEachRouteOnceAtItsIndex) {
  const Router router = sample_router();
  const std::vector<std::string_view> patterns = router.patterns();
  EXPECT_EQ(patterns.size(), 6u);  // DELETE and PUT share the patterns of GET routes
  for (const auto& [method, path] : {std::pair{"GET", "/"},
                                     {"GET", "/json"},
                                     {"POST", "/echo"},
                                     {"GET", "/files/x/sha256"},
                                     {"HEAD", "/files/latest/sha256"},
                                     {"PUT", "/users/1/posts/2"}}) {
    const RouteMatch m = router.match(method, path);
    ASSERT_EQ(m.status, Status::found) << method << ' ' << path;
    ASSERT_LT(m.route_index, patterns.size());
    EXPECT_EQ(patterns[m.route_index], m.route) << method << ' ' << path;
  }
}

// A path equal to a pattern without parameters is found by a hash lookup, not the scan: with many
// such patterns (the table wraps and probes), each path still finds its own route at its index,
// a path one byte off finds none, and the copy of a router finds the same.
TEST(Router, EveryLiteralPatternFindsItsOwnRoute) {
  Router router;
  // Built with append: GCC 12 warns (-Wrestrict, a false positive) on "literal" + std::string.
  auto numbered = [](std::string prefix, int i) { return prefix.append(std::to_string(i)); };
  for (int i = 0; i < 100; ++i) {
    router.add("GET", numbered("/r", i), named(numbered("r", i)));
    router.add("GET", numbered("/r", i).append("/{id}"), named(numbered("id", i)));
  }
  const Router copy = router;
  const std::vector<std::string_view> patterns = copy.patterns();
  for (int i = 0; i < 100; ++i) {
    const std::string path = numbered("/r", i);
    const RouteMatch m = copy.match("GET", path);
    ASSERT_EQ(m.status, Status::found) << path;
    EXPECT_EQ(m.route, path);
    EXPECT_EQ(patterns.at(m.route_index), path);
    EXPECT_EQ(run(m), numbered("r", i));
    EXPECT_EQ(copy.match("GET", std::string(path).append("x")).status, Status::not_found) << path;
    EXPECT_EQ(copy.match("POST", path).status, Status::method_not_allowed) << path;
  }
}

// A pattern with a '%' is left to the scan, which compares decoded segments: "/a%41" is "/aA"
// decoded, so of the two the one added first answers for both paths, whichever is sent.
TEST(Router, APatternWithAnEscapeMatchesAsTheScanDecides) {
  Router router;
  router.add("GET", "/aA", named("plain"));
  router.add("GET", "/a%41", named("escaped"));
  EXPECT_EQ(run(router.match("GET", "/aA")), "plain");
  EXPECT_EQ(run(router.match("GET", "/a%41")), "plain");
}

TEST(Router, RefusesBadPatterns) {
  Router router;
  router.add("GET", "/files/{name}", named("ok"));
  EXPECT_THROW(router.add("GET", "files", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a{b}", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/{}", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/{a-b}", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/{a}/{a}", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("G T", "/x", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/x", Handler{}), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/files/{name}", named("again")), std::invalid_argument);
  EXPECT_THROW(router.add("POST", "/files/{other}", named("x")), std::invalid_argument);
  EXPECT_THROW(router.add("GET", std::string(100, '/'), named("x")), std::invalid_argument);
  router.add("POST", "/files/{name}", named("another method"));
  EXPECT_EQ(router.match("POST", "/files/x").route, "/files/{name}");
}

}  // namespace
}  // namespace brigade::server
