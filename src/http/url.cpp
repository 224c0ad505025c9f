// src/http/url.cpp — see url.hpp.
#include "http/url.hpp"

#include <vector>

#include "goro/http.hpp"

namespace goro::http::detail {

namespace {

int unhex(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = unhex(s[i + 1]), lo = unhex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool should_escape_in_path(unsigned char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return false;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '~':
    case '$':
    case '&':
    case '+':
    case ',':
    case '/':
    case ':':
    case ';':
    case '=':
    case '@': return false;
    default: return true;
  }
}

}  // namespace

std::optional<std::string> path_unescape(std::string_view s) { return unescape(s, false); }
std::optional<std::string> query_unescape(std::string_view s) { return unescape(s, true); }

std::string path_escape(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (should_escape_in_path(c)) {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool parse_request_target(std::string_view method, std::string_view target, url& u, std::string* host) {
  u.path.clear();
  u.raw_path.clear();
  u.raw_query.clear();
  if (target == "*") {
    u.path.assign(1, '*');
    return true;
  }
  std::string_view rest = target;
  if (target[0] != '/') {
    if (method == "CONNECT" && target.find("://") == std::string_view::npos) {
      if (host != nullptr) *host = std::string(target);  // authority-form
      return true;
    }
    std::size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    rest = target.substr(scheme_end + 3);
    std::size_t slash = rest.find_first_of("/?");
    if (host != nullptr) *host = std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  std::size_t q = rest.find('?');
  std::string_view raw_path = rest.substr(0, q);
  if (q != std::string_view::npos) u.raw_query = std::string(rest.substr(q + 1));
  std::size_t hash = raw_path.find('#');  // a fragment never reaches a server; Go drops it
  if (hash != std::string_view::npos) raw_path = raw_path.substr(0, hash);
  bool plain = true;  // nothing to decode, nothing that would be escaped: path is raw_path
  for (unsigned char c : raw_path)
    if (c == '%' || should_escape_in_path(c)) {
      plain = false;
      break;
    }
  if (plain) {
    u.path.assign(raw_path);
    return true;
  }
  auto p = path_unescape(raw_path);
  if (!p) return false;
  u.path = std::move(*p);
  if (path_escape(u.path) != raw_path) u.raw_path = std::string(raw_path);
  return true;
}

bool is_clean_path(std::string_view p) noexcept {
  if (p.empty() || p[0] != '/') return false;
  std::size_t i = 1;
  while (i <= p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view seg = p.substr(i, j - i);
    if (seg == "." || seg == "..") return false;
    if (seg.empty() && j != p.size()) return false;  // "//"
    i = j + 1;
  }
  return true;
}

std::string clean_path(std::string_view p) {
  if (p.empty()) return "/";
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i <= p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view seg = p.substr(i, j - i);
    if (seg.empty() || seg == ".") {
    } else if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (auto seg : parts) {
    out.push_back('/');
    out.append(seg);
  }
  if (out.empty()) out.assign(1, '/');
  // Keep a trailing slash (Go's cleanPath), but never make "//".
  if (p.back() == '/' && out != "/") out.push_back('/');
  return out;
}

}  // namespace goro::http::detail
