#include "brigade/server/router.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "char_class.hpp"
#include "request_target.hpp"

namespace brigade::server {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// Splits a path that starts with '/' into its segments ("/" is one empty segment, "/a/" two)
// and returns how many; `max + 1` when there are more than `max`.
std::size_t split_path(std::string_view path, std::string_view* out, std::size_t max) noexcept {
  std::size_t count = 0;
  std::size_t start = 1;
  for (;;) {
    if (count == max) return max + 1;
    const std::size_t slash = path.find('/', start);
    out[count++] = path.substr(start, slash == kNpos ? kNpos : slash - start);
    if (slash == kNpos) return count;
    start = slash + 1;
  }
}

bool literal_matches(std::string_view segment, std::string_view literal) noexcept {
  if (segment == literal) return true;
  // Only an escaped segment may differ from its literal and still equal it once decoded.
  return segment.size() > literal.size() && segment.find('%') != kNpos &&
         detail::percent_decoded_equals(segment, literal);
}

bool is_param_name(std::string_view name) noexcept {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// FNV-1a: paths are short, and std::hash's setup alone costs more than this loop for "/".
std::uint64_t hash_path(std::string_view path) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325;
  for (const char c : path) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  return hash;
}

[[noreturn]] void refuse(std::string_view pattern, std::string_view why) {
  throw std::invalid_argument("Router::add(\"" + std::string(pattern) + "\"): " + std::string(why));
}

}  // namespace

const Router::Endpoint* Router::Route::find(std::string_view method) const noexcept {
  for (const Endpoint& endpoint : endpoints) {
    if (endpoint.method == method) return &endpoint;
  }
  if (method == "HEAD") return find("GET");
  return nullptr;
}

void Router::add(std::string method, std::string pattern, Handler handler) {
  if (!detail::is_token(method)) refuse(pattern, "invalid method '" + method + "'");
  if (!handler) refuse(pattern, "empty handler");
  if (pattern.empty() || pattern.front() != '/') refuse(pattern, "a pattern starts with '/'");

  Route route;
  std::array<std::string_view, kMaxSegments> parts;
  const std::size_t count = split_path(pattern, parts.data(), kMaxSegments);
  if (count > kMaxSegments) refuse(pattern, "too many segments");
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view part = parts[i];
    Segment segment;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      segment.text = part.substr(1, part.size() - 2);
      segment.is_param = true;
      if (!is_param_name(segment.text)) refuse(pattern, "a parameter name is [A-Za-z0-9_]+");
      for (const Segment& earlier : route.segments) {
        if (earlier.is_param && earlier.text == segment.text) refuse(pattern, "repeated parameter");
      }
      ++route.param_count;
    } else {
      if (part.find_first_of("{}") != kNpos) refuse(pattern, "a parameter takes a whole segment");
      segment.text = part;
    }
    route.segments.push_back(std::move(segment));
  }

  for (Route& existing : routes_) {
    if (existing.pattern == pattern) {
      if (std::any_of(existing.endpoints.begin(), existing.endpoints.end(),
                      [&](const Endpoint& e) { return e.method == method; })) {
        refuse(pattern, "method " + method + " already added");
      }
      existing.endpoints.push_back(Endpoint{std::move(method), std::move(handler)});
      return;
    }
    const bool same_shape =
        existing.segments.size() == route.segments.size() &&
        std::equal(existing.segments.begin(), existing.segments.end(), route.segments.begin(),
                   [](const Segment& a, const Segment& b) {
                     return a.is_param == b.is_param && (a.is_param || a.text == b.text);
                   });
    if (same_shape) refuse(pattern, "matches the same paths as \"" + existing.pattern + "\"");
  }

  route.pattern = std::move(pattern);
  route.endpoints.push_back(Endpoint{std::move(method), std::move(handler)});
  routes_.push_back(std::move(route));
  index_routes();
}

void Router::index_routes() {
  // By segment count; then, at the leftmost segment where two patterns differ in kind, the
  // literal first. Patterns of the same kinds everywhere have different literals: they never
  // match the same path, so their order does not matter.
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    if (a.segments.size() != b.segments.size()) return a.segments.size() < b.segments.size();
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      if (a.segments[i].is_param != b.segments[i].is_param) return !a.segments[i].is_param;
    }
    return false;
  });
  by_count_.assign(kMaxSegments + 1, {0, 0});
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    auto& range = by_count_[routes_[i].segments.size()];
    if (range.first == range.second) range.first = i;
    range.second = i + 1;
  }
  std::size_t slots = 2;
  while (slots < 2 * routes_.size()) slots *= 2;
  literal_slots_.assign(slots, LiteralSlot{});
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const std::string& pattern = routes_[i].pattern;
    if (routes_[i].param_count != 0 || pattern.find('%') != kNpos) continue;
    const std::uint64_t hash = hash_path(pattern);
    std::size_t at = hash & (slots - 1);
    while (literal_slots_[at].route != kNoRoute) at = (at + 1) & (slots - 1);
    literal_slots_[at] = {hash, i};
  }
}

// A path equal to a pattern without parameters is matched by that route before any other: the
// routes it precedes in the scan are those with a parameter where it has a literal, and no other
// literal pattern matches the same path, for without a '%' in the path (it equals a pattern
// without one) a literal segment matches only itself.
const Router::Route* Router::find_literal(std::string_view path) const noexcept {
  if (literal_slots_.empty()) return nullptr;
  const std::uint64_t hash = hash_path(path);
  const std::size_t mask = literal_slots_.size() - 1;
  for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
    const LiteralSlot& slot = literal_slots_[at];
    if (slot.route == kNoRoute) return nullptr;
    if (slot.hash == hash && routes_[slot.route].pattern == path) return &routes_[slot.route];
  }
}

RouteMatch Router::found(std::size_t index, const Endpoint& endpoint,
                         const std::string_view* segments) const {
  const Route& route = routes_[index];
  RouteMatch result;
  result.status = RouteMatch::Status::found;
  result.handler = &endpoint.handler;
  result.route = route.pattern;
  result.route_index = index;
  if (route.param_count > 0) {
    result.params.reserve(route.param_count);
    for (std::size_t s = 0; s < route.segments.size(); ++s) {
      if (!route.segments[s].is_param) continue;
      result.params.emplace_back(route.segments[s].text,
                                 detail::percent_decode(segments[s], false));
    }
  }
  return result;
}

bool Router::matches(const Route& route, const std::string_view* segments) noexcept {
  for (std::size_t i = 0; i < route.segments.size(); ++i) {
    const Segment& segment = route.segments[i];
    if (segment.is_param ? segments[i].empty() : !literal_matches(segments[i], segment.text)) {
      return false;
    }
  }
  return true;
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  if (const Route* route = find_literal(path)) {
    // Without the method, a pattern with parameters may still have it: the scan decides.
    if (const Endpoint* endpoint = route->find(method)) {
      return found(static_cast<std::size_t>(route - routes_.data()), *endpoint, nullptr);
    }
  }
  RouteMatch result;
  if (path.empty() || path.front() != '/' || by_count_.empty()) return result;
  std::array<std::string_view, kMaxSegments> segments;
  const std::size_t count = split_path(path, segments.data(), kMaxSegments);
  if (count > kMaxSegments) return result;

  const auto [begin, end] = by_count_[count];
  bool path_matched = false;
  for (std::size_t i = begin; i < end; ++i) {
    const Route& route = routes_[i];
    if (!matches(route, segments.data())) continue;
    const Endpoint* endpoint = route.find(method);
    if (endpoint == nullptr) {
      path_matched = true;  // a less specific pattern may still have the method
      continue;
    }
    return found(i, *endpoint, segments.data());
  }
  if (path_matched) {
    result.status = RouteMatch::Status::method_not_allowed;
    result.allow = allow_for(segments.data(), count);
  }
  return result;
}

std::string Router::allow_for(const std::string_view* segments, std::size_t count) const {
  // The union of the methods of every pattern that matches the path, in the order added.
  std::vector<std::string_view> methods;
  auto add_method = [&methods](std::string_view m) {
    if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
  };
  const auto [begin, end] = by_count_[count];
  for (std::size_t i = begin; i < end; ++i) {
    if (!matches(routes_[i], segments)) continue;
    for (const Endpoint& endpoint : routes_[i].endpoints) {
      add_method(endpoint.method);
      if (endpoint.method == "GET") add_method("HEAD");
    }
  }
  std::string allow;
  for (std::string_view m : methods) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  return allow;
}

RouteMatch Router::route(Request& request) const {
  RouteMatch result = match(request.method, detail::target_path(request.target));
  if (result.status == RouteMatch::Status::found) {
    request.path_params = std::move(result.params);
    result.params.clear();
    request.route = result.route;
    request.route_index = result.route_index;
  }
  return result;
}

std::vector<std::string_view> Router::patterns() const {
  std::vector<std::string_view> result;
  result.reserve(routes_.size());
  for (const Route& route : routes_) result.emplace_back(route.pattern);
  return result;
}

}  // namespace brigade::server
