#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brigade/server/http.hpp"

namespace brigade::server {

// What Router::match() found for a method and a path.
struct RouteMatch {
  enum class Status : std::uint8_t {
    found,
    not_found,           // 404: no pattern matches the path
    method_not_allowed,  // 405: patterns match the path, none with this method
  };

  Status status = Status::not_found;
  // found: the handler (for HEAD without a HEAD route, the GET one: the writer drops the body).
  const Handler* handler = nullptr;
  // found: the pattern, e.g. "/files/{name}/sha256" (a view into the router).
  std::string_view route;
  // found: the pattern's position in Router::patterns().
  std::size_t route_index = 0;
  // found: each {parameter} of the pattern with its percent-decoded value.
  std::vector<std::pair<std::string, std::string>> params;
  // method_not_allowed: the Allow value, e.g. "GET, HEAD, POST".
  std::string allow;
};

// Maps a method and a path to a handler. A pattern is made of '/'-separated segments, each a
// literal or a whole-segment {parameter}: "/", "/json", "/files/{name}/sha256". A path matches
// segment by segment, trailing '/' included; a parameter takes one non-empty segment. Where
// several patterns match, the one with a literal where the other has a parameter (leftmost
// difference) wins: "/files/latest" before "/files/{name}". HEAD is allowed wherever GET is.
//
// Patterns are compiled at add(); match() compares segments without regex, and allocates nothing
// unless it finds a route with parameters (or answers 405, to spell Allow). A path that is a
// pattern without parameters, as sent, is found by one hash lookup.
//
// Add every route before serving: add() must not run concurrently with match(), and invalidates
// the handler pointers and views of earlier matches. The router must outlive its matches.
class Router {
 public:
  // Throws std::invalid_argument on a malformed pattern or method, a method already added for
  // the pattern, or a pattern that matches the same paths as another with different parameter
  // names.
  void add(std::string method, std::string pattern, Handler handler);

  // `path` is the raw path of the request-target: still percent-encoded, without the query.
  // So a "%2F" stays inside its segment; a literal segment matches the decoded path segment;
  // parameter values are decoded (a decoded '/' or NUL reaches the handler, which must check).
  RouteMatch match(std::string_view method, std::string_view path) const;

  // match() for a parsed request, on the raw path of its target; when found, also moves the
  // parameters into request.path_params (the result's `params` are then empty) and sets
  // request.route.
  RouteMatch route(Request& request) const;

  // Every pattern, each once, in an order fixed once the last route is added: a match's
  // route_index is a position in this list.
  std::vector<std::string_view> patterns() const;

 private:
  static constexpr std::size_t kMaxSegments = 32;

  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool is_param = false;
  };
  struct Endpoint {
    std::string method;
    Handler handler;
  };
  struct Route {
    std::string pattern;
    std::vector<Segment> segments;
    std::vector<Endpoint> endpoints;
    std::size_t param_count = 0;

    const Endpoint* find(std::string_view method) const noexcept;
  };

  static bool matches(const Route& route, const std::string_view* segments) noexcept;
  std::string allow_for(const std::string_view* segments, std::size_t count) const;
  void index_routes();

  const Route* find_literal(std::string_view path) const noexcept;
  RouteMatch found(std::size_t index, const Endpoint& endpoint,
                   const std::string_view* segments) const;

  // Sorted by segment count, then most specific first; by_count_[n] is the range of the routes
  // with n segments.
  std::vector<Route> routes_;
  std::vector<std::pair<std::size_t, std::size_t>> by_count_;
  // The patterns without parameters or '%', hashed (open addressing, a power of two of slots,
  // at most half full): a path equal to one is matched by that route first (see find_literal).
  struct LiteralSlot {
    std::uint64_t hash = 0;
    std::size_t route = kNoRoute;
  };
  static constexpr std::size_t kNoRoute = static_cast<std::size_t>(-1);
  std::vector<LiteralSlot> literal_slots_;
};

}  // namespace brigade::server
