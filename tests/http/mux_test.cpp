// mux_test.cpp — serve_mux with Go 1.22's patterns: which pattern wins,
// wildcards and path_value, {$}, GET matching HEAD, hosts, conflicts and
// malformed patterns rejected, 404, 405 with Allow, the trailing-slash and
// clean-path redirects; and the helpers (error, redirect, strip_prefix,
// max_bytes_handler). Handlers are called directly with a recording
// response_writer, as Go's httptest.ResponseRecorder.
#include <goro/http.hpp>
#include <gtest/gtest.h>

#include <ctime>
#include <stdexcept>
#include <string>

#include "http/server_impl.hpp"
#include "http/url.hpp"

namespace {

namespace http = goro::http;

class recorder final : public http::response_writer {
 public:
  http::header& header() override { return h; }
  void write_header(int s) override {
    if (code == 0) code = s;
  }
  using response_writer::write;
  std::size_t write(std::span<const std::byte> b, std::error_code& ec) override {
    ec.clear();
    if (code == 0) code = 200;
    body.append(reinterpret_cast<const char*>(b.data()), b.size());
    return b.size();
  }
  void flush() override {}

  http::header h;
  int code = 0;
  std::string body;
};

// A request as the server would build it for method and target.
http::request make_request(std::string method, std::string target, std::string host = "example.com") {
  http::request r;
  r.method = std::move(method);
  r.target = target;
  std::string abs_host;
  EXPECT_TRUE(goro::http::detail::parse_request_target(r.method, target, r.url, &abs_host)) << target;
  r.host = std::move(host);
  r.proto = "HTTP/1.1";
  return r;
}

struct served {
  int code;
  std::string body;
  http::header h;
};

served serve(const http::serve_mux& mux, std::string method, std::string target, std::string host = "example.com") {
  recorder w;
  auto r = make_request(std::move(method), std::move(target), std::move(host));
  mux(w, r);
  return {w.code, w.body, w.h};
}

http::handler named(std::string name) {
  return [name](http::response_writer& w, http::request& r) {
    std::string out = name;
    for (const char* k : {"x", "y", "rest", "id"})
      if (!r.path_value(k).empty()) out += std::string(" ") + k + "=" + std::string(r.path_value(k));
    w.write(out);
  };
}

TEST(ServeMux, TheMostSpecificPatternWins) {
  http::serve_mux mux;
  mux.handle("/", named("root"));
  mux.handle("/a/", named("a-tree"));
  mux.handle("/a/b", named("a-b"));
  mux.handle("/a/{x}", named("a-x"));
  mux.handle("/a/{x}/c", named("a-x-c"));
  mux.handle("/a/b/{y}/end", named("a-b-y"));
  mux.handle("GET /items/{id}", named("get-item"));
  mux.handle("/items/{id}", named("any-item"));
  mux.handle("/files/{rest...}", named("files"));
  mux.handle("/exact/{$}", named("exact"));
  mux.handle("other.org/", named("other-root"));

  EXPECT_EQ(serve(mux, "GET", "/").body, "root");
  EXPECT_EQ(serve(mux, "GET", "/zzz").body, "root");
  EXPECT_EQ(serve(mux, "GET", "/a/").body, "a-tree");
  EXPECT_EQ(serve(mux, "GET", "/a/b").body, "a-b");
  EXPECT_EQ(serve(mux, "GET", "/a/q").body, "a-x x=q");
  EXPECT_EQ(serve(mux, "GET", "/a/q/c").body, "a-x-c x=q");
  EXPECT_EQ(serve(mux, "GET", "/a/b/z/end").body, "a-b-y y=z");
  EXPECT_EQ(serve(mux, "GET", "/a/b/c").body, "a-x-c x=b");
  EXPECT_EQ(serve(mux, "GET", "/a/q/r/s").body, "a-tree");
  EXPECT_EQ(serve(mux, "GET", "/items/7").body, "get-item id=7");
  EXPECT_EQ(serve(mux, "HEAD", "/items/7").body, "get-item id=7");
  EXPECT_EQ(serve(mux, "POST", "/items/7").body, "any-item id=7");
  EXPECT_EQ(serve(mux, "GET", "/files/a/b/c.txt").body, "files rest=a/b/c.txt");
  EXPECT_EQ(serve(mux, "GET", "/files/").body, "files");
  EXPECT_EQ(serve(mux, "GET", "/exact/").body, "exact");
  EXPECT_EQ(serve(mux, "GET", "/exact/more").body, "root");
  EXPECT_EQ(serve(mux, "GET", "/anything", "other.org").body, "other-root");
  EXPECT_EQ(serve(mux, "GET", "/a/b", "other.org:8080").body, "other-root");
}

TEST(ServeMux, WildcardValuesAreDecoded) {
  http::serve_mux mux;
  mux.handle("/u/{x}", named("u"));
  EXPECT_EQ(serve(mux, "GET", "/u/a%20b").body, "u x=a b");
  EXPECT_EQ(serve(mux, "GET", "/u/a%2Fb").body, "u x=a/b");
}

TEST(ServeMux, NoMatchIs404AndWrongMethodIs405WithAllow) {
  http::serve_mux mux;
  mux.handle("GET /r", named("get"));
  mux.handle("POST /r", named("post"));
  mux.handle("DELETE /r/{id}", named("del"));
  auto nf = serve(mux, "GET", "/nothing");
  EXPECT_EQ(nf.code, 404);
  EXPECT_EQ(nf.body, "404 page not found\n");
  auto na = serve(mux, "PUT", "/r");
  EXPECT_EQ(na.code, 405);
  EXPECT_EQ(na.h.get("Allow"), "GET, HEAD, POST");
  EXPECT_EQ(serve(mux, "GET", "/r/1").h.get("Allow"), "DELETE");
}

TEST(ServeMux, SubtreeRootWithoutSlashRedirects) {
  http::serve_mux mux;
  mux.handle("/", named("root"));
  mux.handle("/tree/", named("tree"));
  auto r = serve(mux, "GET", "/tree?q=1");
  EXPECT_EQ(r.code, 301);
  EXPECT_EQ(r.h.get("Location"), "/tree/?q=1");
  EXPECT_EQ(serve(mux, "GET", "/tree/").body, "tree");
  // An exact registration of /tree wins over the redirect.
  mux.handle("/tree", named("tree-exact"));
  EXPECT_EQ(serve(mux, "GET", "/tree").body, "tree-exact");
}

TEST(ServeMux, UncleanPathsRedirectToTheirCleanForm) {
  http::serve_mux mux;
  mux.handle("/", named("root"));
  auto r = serve(mux, "GET", "/a/../b//c/./d?x=1");
  EXPECT_EQ(r.code, 301);
  EXPECT_EQ(r.h.get("Location"), "/b/c/d?x=1");
  EXPECT_EQ(serve(mux, "GET", "/a//").h.get("Location"), "/a/");
}

TEST(ServeMux, CleanPathAgreesWithIsCleanPath) {
  for (const char* p : {"/", "/a", "/a/", "/a/b", "//", "/a//b", "/./", "/a/.", "/a/..", "/..", "/a/./b", "/a/../b",
                        "/.a", "/a..", "/a/b/", "/a/.b/", ""}) {
    EXPECT_EQ(goro::http::detail::is_clean_path(p), goro::http::detail::clean_path(p) == p) << p;
  }
}

TEST(ServeMux, ConflictingPatternsThrow) {
  http::serve_mux mux;
  mux.handle("/a/{x}", named("1"));
  EXPECT_THROW(mux.handle("/a/{y}", named("2")), std::invalid_argument);  // equivalent
  // "/a/{x}" and "/{x}/b" both match "/a/b" and neither is more specific.
  EXPECT_THROW(mux.handle("/{x}/b", named("3")), std::invalid_argument);
  http::serve_mux m2;
  m2.handle("/a/{x}", named("1"));
  EXPECT_THROW(m2.handle("/{y}/b", named("2")), std::invalid_argument);
  EXPECT_THROW(m2.handle("/a/{z}", named("2")), std::invalid_argument);
  m2.handle("GET /a/{x}", named("ok: more specific by method"));
  EXPECT_THROW(m2.handle("GET /a/{q}", named("x")), std::invalid_argument);
  m2.handle("HEAD /a/{x}", named("ok: HEAD narrower than GET"));
  m2.handle("example.com/a/{x}", named("ok: hosts are never in conflict"));
  http::serve_mux m3;
  m3.handle("GET /x/{a}", named("1"));
  EXPECT_THROW(m3.handle("/{b}/y", named("2")), std::invalid_argument);
}

TEST(ServeMux, MalformedPatternsThrow) {
  for (const char* bad :
       {"", "no-slash", "/a/{x", "/a/x}", "/a/b{x}", "/a/{x}/{x}", "/a/{x...}/b", "/{$}/a", "/{1x}", "B@D /x", "/{}"}) {
    http::serve_mux mux;
    EXPECT_THROW(mux.handle(bad, named("x")), std::invalid_argument) << bad;
  }
}

TEST(ServeMux, ServesAsAHandlerValue) {
  http::serve_mux inner;
  inner.handle("/in", named("inner"));
  http::handler h = std::ref(inner);
  recorder w;
  auto r = make_request("GET", "/in");
  h(w, r);
  EXPECT_EQ(w.body, "inner");
}

TEST(Helpers, ErrorNotFoundRedirect) {
  recorder w;
  w.h.set("Content-Length", "99");
  http::error(w, "teapot here", 418);
  EXPECT_EQ(w.code, 418);
  EXPECT_EQ(w.body, "teapot here\n");
  EXPECT_EQ(w.h.get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(w.h.get("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(w.h.has("Content-Length"));

  recorder rw;
  auto r = make_request("GET", "/dir/page");
  http::redirect(rw, r, "other", 302);
  EXPECT_EQ(rw.code, 302);
  EXPECT_EQ(rw.h.get("Location"), "/dir/other");
  EXPECT_NE(rw.body.find("Found"), std::string::npos);
  recorder abs;
  http::redirect(abs, r, "http://x.y/z", 307);
  EXPECT_EQ(abs.h.get("Location"), "http://x.y/z");
  recorder up;
  http::redirect(up, r, "../up/", 301);
  EXPECT_EQ(up.h.get("Location"), "/up/");
  EXPECT_EQ(http::status_text(404), "Not Found");
  EXPECT_EQ(http::status_text(999), "");
}

TEST(Helpers, StripPrefix) {
  auto h = http::strip_prefix("/api", named("stripped"));
  recorder w;
  auto r = make_request("GET", "/api/v1");
  std::string seen;
  auto h2 = http::strip_prefix("/api", [&seen](http::response_writer& w, http::request& r) {
    seen = r.url.path;
    w.write("ok");
  });
  h2(w, r);
  EXPECT_EQ(seen, "/v1");
  recorder nf;
  auto other = make_request("GET", "/other");
  h(nf, other);
  EXPECT_EQ(nf.code, 404);
}

TEST(Header, CanonicalKeysAndMultipleValues) {
  http::header h;
  h.add("content-type", "a");
  h.add("CONTENT-TYPE", "b");
  h.add("x-forwarded-for", "c");
  EXPECT_EQ(h.get("Content-Type"), "a");
  EXPECT_EQ(h.values("content-type").size(), 2u);
  EXPECT_TRUE(h.has("X-FORWARDED-FOR"));
  h.set("Content-Type", "z");
  EXPECT_EQ(h.values("Content-Type").size(), 1u);
  EXPECT_EQ(h.get("content-type"), "z");
  h.del("content-type");
  EXPECT_FALSE(h.has("Content-Type"));
  EXPECT_EQ(h.get("missing"), "");
  EXPECT_EQ(http::canonical_header_key("x-forwarded-for"), "X-Forwarded-For");
  EXPECT_EQ(http::canonical_header_key("WWW-AUTHENTICATE"), "Www-Authenticate");
  EXPECT_EQ(http::canonical_header_key("bad key"), "bad key");  // not a token: kept as given
  std::vector<std::string> keys;
  for (const auto& [k, v] : h) keys.push_back(k);
  EXPECT_EQ(keys, std::vector<std::string>{"X-Forwarded-For"});
}

TEST(Helpers, DateIsImfFixdateInGmt) {
  for (int tries = 0; tries < 5; ++tries) {
    std::time_t before = std::time(nullptr);
    std::string got;
    goro::http::detail::append_http_date(got);
    std::time_t after = std::time(nullptr);
    if (before != after) continue;  // a second boundary in between
    std::tm tm{};
    gmtime_r(&before, &tm);
    char want[64];
    std::strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    EXPECT_EQ(got, want);
    return;
  }
}

}  // namespace
