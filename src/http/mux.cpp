// src/http/mux.cpp — serve_mux with Go 1.22's patterns.
//
// A pattern is [METHOD ][HOST]/seg/seg..., each segment a literal, a
// wildcard {name} (one non-empty segment), a multi wildcard {name...} or a
// trailing slash (the rest of the path, possibly empty), or {$} (exactly a
// trailing slash). Two patterns are compared as Go's pattern.go does: per
// method (none is more general than any; GET more general than HEAD) and
// per path segment (a literal is more specific than a wildcard, a wildcard
// than a multi), and the relations combine into equivalent, more general,
// more specific, overlapping or disjoint. Registration rejects a pattern
// that is equivalent to or overlaps one with the same host: then, among the
// patterns a request matches, one is more specific than every other, and it
// wins (a pattern with a host beats every pattern without). Matching walks
// every pattern; a server with hundreds of patterns would want Go's tree.
#include <algorithm>
#include <set>
#include <stdexcept>

#include "goro/http.hpp"
#include "http/parse.hpp"
#include "http/url.hpp"

namespace goro::http {

namespace {

enum class rel { equivalent, more_general, more_specific, overlaps, disjoint };

rel inverse(rel r) {
  switch (r) {
    case rel::more_general: return rel::more_specific;
    case rel::more_specific: return rel::more_general;
    default: return r;
  }
}

rel combine(rel r1, rel r2) {
  switch (r1) {
    case rel::equivalent: return r2;
    case rel::disjoint: return rel::disjoint;
    case rel::overlaps: return r2 == rel::disjoint ? rel::disjoint : rel::overlaps;
    case rel::more_general:
    case rel::more_specific:
      if (r2 == rel::equivalent) return r1;
      if (r2 == inverse(r1)) return rel::overlaps;
      return r2;
  }
  return rel::disjoint;
}

struct segment {
  enum kind_t { literal, wild, multi, end } kind;
  std::string s;  // the literal (decoded), or the wildcard's name ("" for a trailing slash)
};

struct pattern {
  std::string text;
  std::string method;
  std::string host;
  std::vector<segment> segs;
  handler h;

  bool ends_multi() const { return !segs.empty() && segs.back().kind == segment::multi; }
};

bool valid_wildcard_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') ||
              static_cast<unsigned char>(c) >= 0x80;
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void bad_pattern(std::string_view p, std::string_view why) {
  throw std::invalid_argument("parsing \"" + std::string(p) + "\": " + std::string(why));
}

pattern parse_pattern(std::string_view text) {
  pattern p;
  p.text = std::string(text);
  if (text.empty()) bad_pattern(text, "empty pattern");
  std::string_view rest = text;
  if (std::size_t ws = rest.find_first_of(" \t"); ws != std::string_view::npos) {
    p.method = std::string(rest.substr(0, ws));
    rest = rest.substr(ws);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (!detail::is_token(p.method)) bad_pattern(text, "invalid method \"" + p.method + "\"");
  }
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) bad_pattern(text, "host/path missing /");
  p.host = std::string(rest.substr(0, slash));
  std::string_view path = rest.substr(slash + 1);
  std::set<std::string, std::less<>> names;
  for (;;) {
    if (path.empty()) {  // a trailing slash
      p.segs.push_back({segment::multi, ""});
      break;
    }
    std::size_t i = path.find('/');
    std::string_view seg = path.substr(0, i);
    bool last = i == std::string_view::npos;
    path = last ? std::string_view() : path.substr(i + 1);
    if (seg.find_first_of("{}") == std::string_view::npos) {
      auto lit = detail::path_unescape(seg);
      if (!lit) bad_pattern(text, "invalid escape in literal segment");
      p.segs.push_back({segment::literal, std::move(*lit)});
    } else {
      if (seg.size() < 2 || seg.front() != '{' || seg.back() != '}' ||
          seg.substr(1, seg.size() - 2).find_first_of("{}") != std::string_view::npos)
        bad_pattern(text, "bad wildcard segment (must be an entire path segment)");
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name == "$") {
        if (!last) bad_pattern(text, "{$} not at end");
        p.segs.push_back({segment::end, ""});
        break;
      }
      bool multi = name.size() > 3 && name.substr(name.size() - 3) == "...";
      if (multi) {
        name.remove_suffix(3);
        if (!last) bad_pattern(text, "{...} wildcard not at end");
      }
      if (!valid_wildcard_name(name)) bad_pattern(text, "bad wildcard name \"" + std::string(name) + "\"");
      if (!names.insert(std::string(name)).second)
        bad_pattern(text, "duplicate wildcard name \"" + std::string(name) + "\"");
      p.segs.push_back({multi ? segment::multi : segment::wild, std::string(name)});
    }
    if (last) break;
  }
  return p;
}

rel compare_methods(const pattern& a, const pattern& b) {
  if (a.method == b.method) return rel::equivalent;
  if (a.method.empty()) return rel::more_general;
  if (b.method.empty()) return rel::more_specific;
  if (a.method == "GET" && b.method == "HEAD") return rel::more_general;
  if (b.method == "GET" && a.method == "HEAD") return rel::more_specific;
  return rel::disjoint;
}

rel compare_segments(const segment& x, const segment& y) {
  if (x.kind == segment::multi && y.kind == segment::multi) return rel::equivalent;
  if (x.kind == segment::multi) return rel::more_general;
  if (y.kind == segment::multi) return rel::more_specific;
  if (x.kind == segment::wild && y.kind == segment::wild) return rel::equivalent;
  if (x.kind == segment::wild) return y.kind == segment::end ? rel::disjoint : rel::more_general;
  if (y.kind == segment::wild) return x.kind == segment::end ? rel::disjoint : rel::more_specific;
  if (x.kind == segment::end && y.kind == segment::end) return rel::equivalent;
  if (x.kind == segment::end || y.kind == segment::end) return rel::disjoint;
  return x.s == y.s ? rel::equivalent : rel::disjoint;
}

rel compare_paths(const pattern& a, const pattern& b) {
  if (a.segs.size() != b.segs.size() && !a.ends_multi() && !b.ends_multi()) return rel::disjoint;
  rel r = rel::equivalent;
  std::size_t i = 0;
  for (; i < a.segs.size() && i < b.segs.size(); ++i) {
    r = combine(r, compare_segments(a.segs[i], b.segs[i]));
    if (r == rel::disjoint) return r;
  }
  if (i == a.segs.size() && i == b.segs.size()) return r;
  // One has segments left: only a multi at the end of the other covers them.
  if (a.segs.size() < b.segs.size() && a.ends_multi()) return combine(r, rel::more_general);
  if (b.segs.size() < a.segs.size() && b.ends_multi()) return combine(r, rel::more_specific);
  return rel::disjoint;
}

rel compare(const pattern& a, const pattern& b) {
  rel m = compare_methods(a, b);
  if (m == rel::disjoint) return m;
  return combine(m, compare_paths(a, b));
}

// The request path as segments, each decoded; a trailing slash is a last
// empty segment ("/" is {""}).
std::vector<std::string> path_segments(std::string_view escaped) {
  std::vector<std::string> segs;
  std::string_view rest = escaped.empty() ? std::string_view() : escaped.substr(1);
  for (;;) {
    std::size_t i = rest.find('/');
    std::string_view s = rest.substr(0, i);
    auto d = detail::path_unescape(s);
    segs.push_back(d ? std::move(*d) : std::string(s));
    if (i == std::string_view::npos) break;
    rest = rest.substr(i + 1);
  }
  return segs;
}

struct match_result {
  const pattern* p = nullptr;
  bool exact = true;  // false when a multi wildcard took one or more segments
  std::vector<std::pair<std::string, std::string>> values;
};

bool match_path(const pattern& p, const std::vector<std::string>& segs, match_result& m) {
  m.values.clear();
  m.exact = true;
  std::size_t i = 0;
  for (const segment& s : p.segs) {
    switch (s.kind) {
      case segment::multi: {
        if (i >= segs.size()) return false;
        std::string rest;
        for (std::size_t j = i; j < segs.size(); ++j) {
          if (j > i) rest.push_back('/');
          rest += segs[j];
        }
        m.exact = rest.empty();
        if (!s.s.empty()) m.values.emplace_back(s.s, std::move(rest));
        return true;
      }
      case segment::end: return i + 1 == segs.size() && segs[i].empty();
      case segment::wild:
        if (i >= segs.size() || segs[i].empty()) return false;
        m.values.emplace_back(s.s, segs[i]);
        ++i;
        break;
      case segment::literal:
        if (i >= segs.size() || segs[i] != s.s) return false;
        ++i;
        break;
    }
  }
  return i == segs.size();
}

bool method_matches(const pattern& p, std::string_view method) {
  return p.method.empty() || p.method == method || (p.method == "GET" && method == "HEAD");
}

std::string_view strip_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(1, close - 1);
  }
  std::size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

// Whether a is preferred over b for a request both match.
bool preferred(const pattern& a, const pattern& b) {
  if (a.host.empty() != b.host.empty()) return !a.host.empty();
  return compare(a, b) == rel::more_specific;
}

}  // namespace

struct serve_mux::impl {
  std::vector<pattern> patterns;

  // The most specific pattern matching host, method and segs.
  const pattern* find(std::string_view host, std::string_view method, const std::vector<std::string>& segs,
                      match_result& best, bool any_method = false) const {
    match_result m;
    best.p = nullptr;
    for (const pattern& p : patterns) {
      if (!p.host.empty() && p.host != host) continue;
      if (!any_method && !method_matches(p, method)) continue;
      if (!match_path(p, segs, m)) continue;
      if (best.p == nullptr || preferred(p, *best.p)) {
        best = m;
        best.p = &p;
      }
    }
    return best.p;
  }
};

serve_mux::serve_mux() : impl_(std::make_unique<impl>()) {}
serve_mux::~serve_mux() = default;

void serve_mux::handle(std::string_view text, handler h) {
  if (!h) throw std::invalid_argument("http: nil handler");
  pattern p = parse_pattern(text);
  for (const pattern& q : impl_->patterns) {
    if (p.host != q.host) continue;
    rel r = compare(p, q);
    if (r == rel::equivalent || r == rel::overlaps) {
      throw std::invalid_argument("pattern \"" + p.text + "\" conflicts with pattern \"" + q.text + "\"" +
                                  (r == rel::equivalent ? ": they match the same requests"
                                                        : ": they match some of the same requests and neither is "
                                                          "more specific"));
    }
  }
  p.h = std::move(h);
  impl_->patterns.push_back(std::move(p));
}

void serve_mux::operator()(response_writer& w, request& r) const {
  if (r.target == "*") {
    if (r.proto_minor >= 1) w.header().set("Connection", "close");
    w.write_header(400);
    return;
  }
  const std::string_view host = strip_port(r.host);
  // Unclean paths are redirected to their clean form (not for CONNECT).
  if (r.method != "CONNECT" && !detail::is_clean_path(r.url.path)) {
    std::string clean = detail::clean_path(r.url.path);
    if (clean != r.url.path) {
      std::string loc = detail::path_escape(clean);
      if (!r.url.raw_query.empty()) loc += "?" + r.url.raw_query;
      redirect(w, r, loc, 301);
      return;
    }
  }
  std::vector<std::string> segs = path_segments(r.url.escaped_path());
  match_result m;
  const pattern* p = impl_->find(host, r.method, segs, m);
  // "/tree" when "/tree/" is registered: redirect, unless "/tree" matched exactly.
  if ((p == nullptr || !m.exact) && !r.url.path.empty() && r.url.path.back() != '/') {
    std::vector<std::string> with_slash = segs;
    with_slash.emplace_back();
    match_result m2;
    const pattern* p2 = impl_->find(host, r.method, with_slash, m2);
    if (p2 != nullptr && m2.exact && (p == nullptr || preferred(*p2, *p))) {
      std::string loc = detail::path_escape(r.url.path + "/");
      if (!r.url.raw_query.empty()) loc += "?" + r.url.raw_query;
      redirect(w, r, loc, 301);
      return;
    }
  }
  if (p == nullptr) {
    // 405 when the path matches under another method.
    std::set<std::string> allow;
    match_result tmp;
    for (const pattern& q : impl_->patterns) {
      if (!q.host.empty() && q.host != host) continue;
      if (!match_path(q, segs, tmp)) continue;
      if (q.method.empty()) continue;
      allow.insert(q.method);
      if (q.method == "GET") allow.insert("HEAD");
    }
    if (!allow.empty()) {
      std::string list;
      for (const auto& a : allow) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      w.header().set("Allow", list);
      error(w, status_text(405), 405);
      return;
    }
    not_found(w, r);
    return;
  }
  for (auto& [k, v] : m.values) r.set_path_value(k, v);
  p->h(w, r);
}

}  // namespace goro::http
