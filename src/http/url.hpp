// src/http/url.hpp — the parts of Go's net/url a server needs: splitting a
// request-target, percent-decoding paths and queries, cleaning paths.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace goro::http {
struct url;
}

namespace goro::http::detail {

// url.PathUnescape ("%41" -> "A"; '+' stays); nullopt on a malformed escape.
std::optional<std::string> path_unescape(std::string_view s);
// url.QueryUnescape ('+' -> ' '); nullopt on a malformed escape.
std::optional<std::string> query_unescape(std::string_view s);
// url.PathEscape-like: escapes what may not appear in a path.
std::string path_escape(std::string_view s);

// Fills u (and *host for an absolute-form target) from a request-target;
// false when it does not parse (Go: 400).
bool parse_request_target(std::string_view method, std::string_view target, url& u, std::string* host);

// path.Clean for a URL path, keeping a trailing slash (Go's cleanPath).
std::string clean_path(std::string_view p);
// Whether clean_path(p) == p, without building it.
bool is_clean_path(std::string_view p) noexcept;

}  // namespace goro::http::detail
