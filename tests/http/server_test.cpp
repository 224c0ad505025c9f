// server_test.cpp — http::server over real sockets, driven by the tests' own
// raw client (http_test_util.hpp): keep-alive, pipelining, bodies (length,
// chunked, 100-continue), HEAD, response framing, every rejection the
// contract names and the connection closed after it, request smuggling,
// the timeouts (slowloris), a handler's exception, shutdown (in flight,
// deadline, many idle connections) and close.
#include <sys/resource.h>

#include <atomic>
#include <set>

#include "watchdog.hpp"
#include "http_test_util.hpp"

namespace {

using namespace http_test;
using goro_test::scaled;

http::handler echo_handler() {
  return [](http::response_writer& w, http::request& r) {
    std::string body = r.body.read_all();
    w.header().set("X-Method", r.method);
    w.header().set("X-Path", r.url.path);
    w.write(body);
  };
}

http::server_config config(http::handler h) { return http::server_config{.addr = {}, .handler = std::move(h)}; }

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    client c(addr);
    for (int i = 0; i < 5; ++i) {
      c.send(get_request("/n/" + std::to_string(i)));
      auto r = c.next();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->get("X-Path"), "/n/" + std::to_string(i));
      EXPECT_EQ(r->get("Content-Length"), "0");
      EXPECT_FALSE(r->get("Date").empty());
      EXPECT_FALSE(r->has("Connection"));
    }
  });
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  // The first handler is the slowest: the answers still come in order.
  http::handler h = [](http::response_writer& w, http::request& r) {
    int n = r.url.path[1] - '0';
    goro::sleep(std::chrono::milliseconds(3 * (5 - n)));
    w.write("answer " + std::to_string(n));
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    std::string all;
    for (int i = 0; i < 5; ++i) all += get_request("/" + std::to_string(i));
    c.send(all);
    for (int i = 0; i < 5; ++i) {
      auto r = c.next();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "answer " + std::to_string(i));
    }
  });
}

TEST(Server, RequestFieldsAsGoFillsThem) {
  http::handler h = [](http::response_writer& w, http::request& r) {
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/a%20b/c?x=1&y=hello+world&z=%41");
    EXPECT_EQ(r.url.path, "/a b/c");
    EXPECT_EQ(r.url.raw_query, "x=1&y=hello+world&z=%41");
    EXPECT_EQ(r.query("y"), "hello world");
    EXPECT_EQ(r.query("z"), "A");
    EXPECT_EQ(r.query("missing"), "");
    EXPECT_EQ(r.proto, "HTTP/1.1");
    EXPECT_EQ(r.host, "example.com:8080");
    EXPECT_FALSE(r.header.has("Host"));
    EXPECT_EQ(r.header.get("x-custom-thing"), "v1");
    EXPECT_EQ(r.header.values("X-Multi").size(), 2u);
    EXPECT_EQ(r.content_length, 0);
    EXPECT_NE(r.remote_addr.find("127.0.0.1:"), std::string::npos);
    bool canonical = false;
    for (const auto& [k, v] : r.header)
      if (k == "X-Custom-Thing") canonical = true;
    EXPECT_TRUE(canonical);
    w.write("ok");
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    auto r = roundtrip(addr,
                       "GET /a%20b/c?x=1&y=hello+world&z=%41 HTTP/1.1\r\nHost: example.com:8080\r\n"
                       "x-custom-thing: v1\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "ok");
  });
}

TEST(Server, ContentLengthBodyIsRead) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    client c(addr);
    std::string body(100000, 'b');
    c.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + body);
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, body);
    // The connection is still usable.
    c.send(get_request("/after"));
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get("X-Path"), "/after");
  });
}

TEST(Server, ChunkedRequestBodyArrivesDechunked) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.send("5\r\nhello\r\n");
    goro::sleep(2ms);
    c.send("1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer-A: x\r\n\r\n");
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello world!");
    c.send(get_request("/next"));
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get("X-Path"), "/next");
  });
}

TEST(Server, UnreadBodyIsDiscardedAndTheConnectionKept) {
  http::handler h = [](http::response_writer& w, http::request&) { w.write("ignored the body"); };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789" + get_request("/y"));
    auto r1 = c.next();
    auto r2 = c.next();
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(r1->body, "ignored the body");
    EXPECT_EQ(r2->body, "ignored the body");
  });
}

TEST(Server, ExpectContinueSends100WhenTheHandlerReads) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    auto interim = c.next();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
    c.send("data");
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "data");
  });
}

TEST(Server, ExpectContinueNotReadClosesWithoutContinue) {
  http::handler h = [](http::response_writer& w, http::request&) { http::error(w, "no thanks", 403); };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_EQ(r->get("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
  });
}

TEST(Server, OtherExpectationsGet417) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("GET / HTTP/1.1\r\nHost: t\r\nExpect: something-else\r\n\r\n");
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 417);
    EXPECT_TRUE(c.closed_by_server());
  });
}

TEST(Server, HeadGetsHeadersWithoutABody) {
  http::handler h = [](http::response_writer& w, http::request&) { w.write("twelve bytes"); };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    auto r = c.next(true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get("Content-Length"), "12");
    // No body bytes came: the next response parses cleanly.
    c.send(get_request("/"));
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "twelve bytes");
  });
}

TEST(Server, LargeBodiesAreChunkedAndSmallOnesGetContentLength) {
  http::handler h = [](http::response_writer& w, http::request& r) {
    if (r.url.path == "/small") {
      w.write("small");
      return;
    }
    if (r.url.path == "/flushed") {
      w.write("part one, ");
      w.flush();
      w.write("part two");
      return;
    }
    if (r.url.path == "/declared") {
      w.header().set("Content-Length", "20000");
      for (int i = 0; i < 4; ++i) w.write(std::string(5000, 'd'));
      return;
    }
    for (int i = 0; i < 50; ++i) w.write(std::string(1000, static_cast<char>('a' + i % 26)));
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send(get_request("/small"));
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->chunked);
    EXPECT_EQ(r->get("Content-Length"), "5");
    EXPECT_EQ(r->get("Content-Type"), "text/plain; charset=utf-8");
    c.send(get_request("/large"));
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->chunked);
    ASSERT_EQ(r->body.size(), 50000u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(r->body[i * 1000], static_cast<char>('a' + i % 26));
    c.send(get_request("/flushed"));
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->chunked);
    EXPECT_EQ(r->body, "part one, part two");
    c.send(get_request("/declared"));
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->chunked);
    EXPECT_EQ(r->body, std::string(20000, 'd'));
  });
}

TEST(Server, NoBodyStatusesCarryNoBody) {
  http::handler h = [](http::response_writer& w, http::request& r) {
    w.write_header(r.url.path == "/204" ? 204 : 304);
    std::error_code ec;
    EXPECT_EQ(w.write(std::string_view("not allowed"), ec), 0u);
    EXPECT_TRUE(ec);
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    for (const char* p : {"/204", "/304"}) {
      c.send(get_request(p));
      auto r = c.next();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, p[1] == '2' ? 204 : 304);
      EXPECT_FALSE(r->has("Content-Length"));
      EXPECT_FALSE(r->has("Transfer-Encoding"));
    }
    c.send(get_request("/204"));
    EXPECT_TRUE(c.next());  // nothing stray came between the responses
  });
}

TEST(Server, Http10ClosesUnlessKeepAliveAsked) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    {
      client c(addr);
      c.send("GET /a HTTP/1.0\r\n\r\n");
      auto r = c.next();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
      EXPECT_TRUE(c.closed_by_server());
    }
    client c(addr);
    c.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get("Connection"), "keep-alive");
    c.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get("X-Path"), "/b");
  });
}

TEST(Server, ConnectionCloseIsHonoured) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send(get_request("/", "Connection: close\r\n"));
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
  });
}

// What a client gets wrong: the status, then the connection closed, and the
// handler never runs.
struct bad_case {
  const char* name;
  std::string raw;
  int status;
};

TEST(Server, MalformedRequestsGetGosAnswerAndTheConnectionCloses) {
  const std::vector<bad_case> cases = {
      {"no version", "GET /\r\nHost: t\r\n\r\n", 400},
      {"two spaces", "GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"space in target", "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"bad version", "GET / HTTP/1.x\r\nHost: t\r\n\r\n", 400},
      {"lower-case proto", "GET / http/1.1\r\nHost: t\r\n\r\n", 400},
      {"bad method", "G(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505},
      {"HTTP/0.9", "GET / HTTP/0.9\r\nHost: t\r\n\r\n", 505},
      {"HTTP/3.1", "GET / HTTP/3.1\r\nHost: t\r\n\r\n", 505},
      {"missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"no colon", "GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost: t\r\nX-A : b\r\n\r\n", 400},
      {"empty name", "GET / HTTP/1.1\r\nHost: t\r\n: b\r\n\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: b\r\n  c\r\n\r\n", 400},
      {"bare CR in value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: b\rc\r\n\r\n", 400},
      {"bare CR in request line", "GET /\r HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: t\r\nX-A: b\0c\r\n\r\n", 37), 400},
      {"control byte in value", "GET / HTTP/1.1\r\nHost: t\r\nX-A: b\x01\r\n\r\n", 400},
      {"CL and TE", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"TE and CL", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
       400},
      {"differing CLs", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"CL list", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
      {"CL sign", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc", 400},
      {"CL negative", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400},
      {"CL hex", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x10\r\n\r\n", 400},
      {"CL overflow", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"TE gzip", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"TE chunked, gzip", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501},
      {"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"TE twice", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       501},
      {"TE identity", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n", 501},
      {"bad target", "GET foo HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"bad escape", "GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400},
  };
  std::atomic<int> handled{0};
  http::handler h = [&handled](http::response_writer& w, http::request&) {
    ++handled;
    w.write("handled");
  };
  with_server(config(h), [&](http::server&, const std::string& addr) {
    for (const auto& bc : cases) {
      // (No SCOPED_TRACE: its stack is per thread, and a goroutine moves.)
      client c(addr);
      c.send(bc.raw);
      auto r = c.next();
      ASSERT_TRUE(r) << bc.name << ": no answer";
      EXPECT_EQ(r->status, bc.status) << bc.name;
      EXPECT_EQ(r->get("Connection"), "close") << bc.name;
      EXPECT_EQ(r->body.substr(0, 3), std::to_string(bc.status)) << bc.name;
      EXPECT_TRUE(c.closed_by_server()) << bc.name;
    }
  });
  EXPECT_EQ(handled.load(), 0);
}

TEST(Server, SameContentLengthTwiceIsAccepted) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    auto r = roundtrip(addr, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "abc");
  });
}

TEST(Server, SmuggledRequestNeverReachesTheHandler) {
  std::atomic<int> smuggled{0};
  http::handler h = [&smuggled](http::response_writer& w, http::request& r) {
    if (r.url.path == "/smuggled") ++smuggled;
    (void)r.body.read_all();
    w.write("x");
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    const std::string attacks[] = {
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\x0b"
        "chunked\r\n\r\n0\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
        "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (const auto& a : attacks) {
      client c(addr);
      c.send(a);
      auto r = c.next();
      ASSERT_TRUE(r);
      EXPECT_TRUE(r->status == 400 || r->status == 501) << r->status;
      EXPECT_TRUE(c.closed_by_server());
    }
  });
  EXPECT_EQ(smuggled.load(), 0);
}

TEST(Server, MalformedChunkedBodyFailsTheReadAndClosesTheConnection) {
  std::atomic<int> failures{0};
  http::handler h = [&failures](http::response_writer& w, http::request& r) {
    std::error_code ec;
    (void)r.body.read_all(ec);
    if (ec) {
      ++failures;
      http::error(w, "bad body", 400);
      return;
    }
    w.write("ok");
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    const char* bodies[] = {
        "zz\r\nhello\r\n0\r\n\r\n",         // not hex
        "5\r\nhelloXX0\r\n\r\n",            // no CRLF after data
        "10000000000000000\r\n",            // 17 hex digits
        "8000000000000000\r\n",             // 2^63
        "\r\n",                             // empty size
        "5\rhello\r\n0\r\n\r\n",            // bare CR
        "5;a\x01=b\r\nhello\r\n0\r\n\r\n",  // control byte in an extension
    };
    for (const char* b : bodies) {
      client c(addr);
      c.send(std::string("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n") + b);
      auto r = c.next();
      ASSERT_TRUE(r) << b;
      EXPECT_EQ(r->status, 400) << b;
      EXPECT_TRUE(c.closed_by_server()) << b;
    }
  });
  EXPECT_EQ(failures.load(), 7);
}

TEST(Server, OversizedHeadGets431) {
  auto cfg = config(echo_handler());
  cfg.max_header_bytes = 1024;
  with_server(std::move(cfg), [](http::server&, const std::string& addr) {
    client c(addr);
    // Go allows max_header_bytes + 4096 before answering 431.
    c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_TRUE(c.closed_by_server());
    // A head within the limit is served.
    auto ok = roundtrip(addr, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(900, 'a') + "\r\n\r\n");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
  });
}

TEST(Server, DefaultHeaderLimitIsOneMebibyte) {
  with_server(config(echo_handler()), [](http::server&, const std::string& addr) {
    auto big =
        roundtrip(addr, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string((1 << 20) + 8192, 'a') + "\r\n\r\n");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 431);
    auto ok = roundtrip(addr, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(500000, 'a') + "\r\n\r\n");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
  });
}

TEST(Server, AHandlersExceptionClosesOnlyItsConnection) {
  http::handler h = [](http::response_writer& w, http::request& r) {
    if (r.url.path == "/boom") throw std::runtime_error("handler exploded");
    w.write("fine");
  };
  testing::internal::CaptureStderr();
  with_server(config(h), [](http::server&, const std::string& addr) {
    client other(addr);
    other.send(get_request("/"));
    ASSERT_TRUE(other.next());
    client c(addr);
    c.send(get_request("/boom"));
    EXPECT_FALSE(c.next());  // closed without an answer
    other.send(get_request("/"));
    auto r = other.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "fine");
  });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("GET /boom HTTP/1.1"), std::string::npos) << err;
  EXPECT_NE(err.find("handler exploded"), std::string::npos) << err;
}

TEST(Server, TheRequestContextEndsWhenTheHandlerReturns) {
  goro::context seen;
  http::handler h = [&seen](http::response_writer& w, http::request& r) {
    EXPECT_FALSE(r.context().err());
    seen = r.context();
    w.write("x");
  };
  with_server(config(h), [&seen](http::server&, const std::string& addr) {
    ASSERT_TRUE(roundtrip(addr, get_request("/")));
    EXPECT_EQ(seen.err(), goro::errc::canceled);
  });
}

TEST(Server, TheRequestContextEndsWhenTheClientGoesAway) {
  auto outcome = goro::make_chan<std::error_code>(4);
  http::handler h = [&outcome](http::response_writer& w, http::request& r) {
    (void)r.body.read_all();
    goro::timer bail(30s);
    bool ended = goro::select(goro::case_recv(r.context().done()), goro::case_recv(bail.c())) == 0;
    outcome.send(ended ? r.context().err() : std::error_code(goro::errc::deadline_exceeded));
    w.write("nobody reads this");
  };
  with_server(config(h), [&outcome](http::server&, const std::string& addr) {
    {
      client c(addr);
      c.send(get_request("/gone"));
    }  // closed while the handler waits
    EXPECT_EQ(*outcome.recv(), goro::errc::canceled);
    {
      client c(addr);
      c.send("POST /gone HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    }
    EXPECT_EQ(*outcome.recv(), goro::errc::canceled);
  });
}

TEST(Server, APipelinedRequestIsNotMistakenForTheClientGoingAway) {
  // The handler watches its context; the next request's bytes arrive while
  // it runs and must reach the next request intact.
  http::handler h = [](http::response_writer& w, http::request& r) {
    const goro::context& ctx = r.context();
    goro::sleep(5ms);
    EXPECT_FALSE(ctx.err());
    w.write("answer " + r.url.path);
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send(get_request("/1"));
    goro::sleep(2ms);
    c.send(get_request("/2") + get_request("/3"));
    for (const char* p : {"/1", "/2", "/3"}) {
      auto r = c.next();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, std::string("answer ") + p);
    }
  });
}

TEST(Server, IdleTimeoutClosesIdleKeepAliveConnections) {
  auto cfg = config(echo_handler());
  cfg.idle_timeout = 50ms;
  with_server(std::move(cfg), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send(get_request("/"));
    ASSERT_TRUE(c.next());
    EXPECT_TRUE(c.closed_by_server());  // would block for ever without the timeout
  });
}

TEST(Server, ReadHeaderTimeoutDropsSlowlorisAndServesOthers) {
  // Tricklers send a head one field at a time and never finish it.
  const int n = scaled(500, 50);
  ASSERT_GE(raise_fd_limit(static_cast<rlim_t>(2 * n + 200)), static_cast<rlim_t>(2 * n + 200))
      << "raise the descriptor limit (ulimit -n)";
  auto cfg = config(echo_handler());
  cfg.read_header_timeout = 1s;
  with_server(std::move(cfg), [n](http::server&, const std::string& addr) {
    auto dropped = goro::make_chan<bool>(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      goro::go([&addr, dropped] {
        client c(addr);
        std::error_code ec;
        c.conn().write(std::string_view("GET / HTTP/1.1\r\nHost: t\r\n"), ec);
        for (int k = 0; !ec && k < 1000; ++k) {
          c.conn().write(std::string_view("X-Trickle: a\r\n"), ec);
          goro::sleep(100ms);
        }
        // Dropped at the timeout: writes fail (reset) or the read sees the end.
        bool answered = c.next().has_value();
        dropped.send(!answered);
      });
    }
    // A normal client is answered while the tricklers hang on.
    for (int i = 0; i < 3; ++i) {
      auto r = roundtrip(addr, get_request("/normal"));
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
    }
    int ok = 0;
    for (int i = 0; i < n; ++i) ok += *dropped.recv() ? 1 : 0;
    EXPECT_EQ(ok, n);
  });
}

TEST(Server, ReadTimeoutBoundsASlowBody) {
  auto cfg = config(echo_handler());
  cfg.read_timeout = 200ms;
  std::atomic<int> body_errors{0};
  cfg.handler = [&body_errors](http::response_writer& w, http::request& r) {
    std::error_code ec;
    (void)r.body.read_all(ec);
    if (ec) ++body_errors;
    w.write("done");
  };
  with_server(std::move(cfg), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part");
    auto r = c.next();  // the body never completes; the read deadline ends it
    if (r) {
      EXPECT_EQ(r->get("Connection"), "close");
    }
    EXPECT_TRUE(c.closed_by_server());
  });
  EXPECT_EQ(body_errors.load(), 1);
}

TEST(Server, ShutdownLetsRequestsInFlightFinish) {
  auto entered = goro::make_chan<int>(16);
  auto release = goro::make_chan<std::monostate>();
  http::handler h = [&](http::response_writer& w, http::request& r) {
    if (r.url.path == "/slow") {
      entered.send(1);
      release.recv();
    }
    w.write(std::string(20000, 'z'));  // long enough to be chunked
  };
  with_server(
      config(h),
      [&](http::server& srv, const std::string& addr) {
        const int n = 4;
        std::vector<client> clients;
        for (int i = 0; i < n; ++i) {
          clients.emplace_back(addr);
          clients.back().send(get_request("/slow"));
        }
        client idle(addr);
        idle.send(get_request("/fast"));
        for (int i = 0; i < n; ++i) entered.recv();
        auto r = idle.next();
        ASSERT_TRUE(r);
        // Now: n requests in flight, one idle keep-alive connection.
        auto result = goro::make_chan<std::error_code>(1);
        goro::go([&srv, result] {
          auto [ctx, cancel] = goro::with_timeout(goro::background(), 30s);
          result.send(srv.shutdown(ctx));
        });
        EXPECT_TRUE(idle.closed_by_server());  // idle: closed at once
        EXPECT_FALSE(result.try_recv());       // in flight: shutdown waits
        std::error_code dial_ec;
        EXPECT_FALSE(net::dial("tcp", addr, dial_ec));  // not accepting
        for (int i = 0; i < n; ++i) release.send({});
        for (auto& c : clients) {
          auto full = c.next();
          ASSERT_TRUE(full);
          EXPECT_EQ(full->body, std::string(20000, 'z'));
          EXPECT_EQ(full->get("Connection"), "close");
          EXPECT_TRUE(c.closed_by_server());
        }
        EXPECT_EQ(*result.recv(), std::error_code());
      },
      false);
}

TEST(Server, ShutdownReturnsTheContextsErrorWhenAHandlerOutlastsIt) {
  auto entered = goro::make_chan<int>(1);
  http::handler h = [&](http::response_writer& w, http::request& r) {
    entered.send(1);
    r.context().done().recv();  // until close() cancels it
    w.write("late");
  };
  with_server(
      config(h),
      [&](http::server& srv, const std::string& addr) {
        client c(addr);
        c.send(get_request("/"));
        entered.recv();
        auto [ctx, cancel] = goro::with_timeout(goro::background(), 100ms);
        EXPECT_EQ(srv.shutdown(ctx), goro::errc::deadline_exceeded);
        cancel();
        srv.close();
        EXPECT_FALSE(c.next());
      },
      false);
}

TEST(Server, CloseClosesListenersAndConnectionsNow) {
  with_server(
      config(echo_handler()),
      [](http::server& srv, const std::string& addr) {
        client c(addr);
        c.send(get_request("/"));
        ASSERT_TRUE(c.next());
        client fresh(addr);
        srv.close();
        EXPECT_TRUE(c.closed_by_server());
        EXPECT_TRUE(fresh.closed_by_server());
      },
      false);
}

TEST(Server, ServeAfterShutdownReturnsServerClosed) {
  goro::run([] {
    http::server srv(config(echo_handler()));
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    EXPECT_EQ(srv.shutdown(ctx), std::error_code());
    EXPECT_EQ(srv.serve(net::listen("tcp", "127.0.0.1:0")), http::errc::server_closed);
    EXPECT_EQ(srv.listen_and_serve(), http::errc::server_closed);
    EXPECT_EQ(std::error_code(http::errc::server_closed).message(), "http: Server closed");
    cancel();
  });
}

TEST(Server, ListenFailureIsReturned) {
  goro::run([] {
    auto l = net::listen("tcp", "127.0.0.1:0");
    http::server srv(http::server_config{.addr = l.addr(), .handler = echo_handler()});
    EXPECT_EQ(srv.listen_and_serve(), std::errc::address_in_use);
  });
}

TEST(Server, RegisterOnShutdownFunctionsRun) {
  auto ran = goro::make_chan<int>(2);
  with_server(config(echo_handler()), [&](http::server& srv, const std::string&) {
    srv.register_on_shutdown([ran] { ran.send(1); });
    srv.register_on_shutdown([ran] { ran.send(2); });
  });
  std::set<int> got;
  goro::run([&] {
    got.insert(*ran.recv());
    got.insert(*ran.recv());
  });
  EXPECT_EQ(got, (std::set<int>{1, 2}));
}

TEST(Server, ManyIdleKeepAliveConnectionsShutDownGracefully) {
  // Half the descriptors are the clients' (same process).
  const int n = scaled(4000, 400);
  ASSERT_GE(raise_fd_limit(static_cast<rlim_t>(2 * n + 200)), static_cast<rlim_t>(2 * n + 200))
      << "raise the descriptor limit (ulimit -n)";
  with_server(
      config(echo_handler()),
      [n](http::server& srv, const std::string& addr) {
        std::vector<client> clients;
        clients.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
          clients.emplace_back(addr);
          clients.back().send(get_request("/"));
        }
        for (auto& c : clients) ASSERT_TRUE(c.next());
        auto [ctx, cancel] = goro::with_timeout(goro::background(), 30s);
        EXPECT_EQ(srv.shutdown(ctx), std::error_code());
        cancel();
        for (auto& c : clients) EXPECT_TRUE(c.closed_by_server());
      },
      false);
}

TEST(Server, TimeoutHandlerPassesQuickAnswersAndCutsSlowOnes) {
  std::atomic<int> late_write_failed{0};
  auto answered = goro::make_chan<std::monostate>(1);  // the client has the 503
  http::handler inner = [&](http::response_writer& w, http::request& r) {
    if (r.url.path == "/quick") {
      w.header().set("X-Quick", "yes");
      w.write_header(201);
      w.write("quick");
      return;
    }
    r.context().done().recv();  // the deadline cancels it
    answered.recv();            // (so that the write surely comes after the timeout)
    std::error_code ec;
    w.write(std::string_view("too late"), ec);
    if (ec == http::errc::handler_timeout) ++late_write_failed;
  };
  with_server(config(http::timeout_handler(inner, 50ms, "took too long")), [&](http::server&, const std::string& addr) {
    auto q = roundtrip(addr, get_request("/quick"));
    ASSERT_TRUE(q);
    EXPECT_EQ(q->status, 201);
    EXPECT_EQ(q->get("X-Quick"), "yes");
    EXPECT_EQ(q->body, "quick");
    client c(addr);
    c.send(get_request("/slow"));
    auto s = c.next();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->status, 503);
    EXPECT_EQ(s->body, "took too long");
    answered.send({});
    c.send(get_request("/quick"));  // the connection is reused once the slow handler is gone
    auto again = c.next();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, "quick");
  });
  EXPECT_EQ(late_write_failed.load(), 1);
}

TEST(Server, MaxBytesHandlerAnswers413) {
  std::atomic<int> too_large{0};
  http::handler inner = [&](http::response_writer& w, http::request& r) {
    std::error_code ec;
    std::string body = r.body.read_all(ec);
    if (ec == http::errc::body_too_large) {
      ++too_large;
      return;
    }
    w.write("got " + std::to_string(body.size()));
  };
  with_server(config(http::max_bytes_handler(inner, 10)), [](http::server&, const std::string& addr) {
    auto ok = roundtrip(addr, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->body, "got 10");
    client c(addr);
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n0123456789A");
    auto big = c.next();
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 413);
    EXPECT_TRUE(c.closed_by_server());
  });
  EXPECT_EQ(too_large.load(), 1);
}

// Go's serverHandler: "OPTIONS *" asks about the server, so the server
// answers it (200, an empty body) without the handler, unless
// disable_general_options_handler. A body of up to 4 KiB is read and the
// connection kept; a longer one is answered, then the connection closes.
TEST(Server, OptionsStarIsAnsweredByTheServer) {
  std::atomic<int> handled{0};
  http::handler h = [&handled](http::response_writer& w, http::request&) {
    ++handled;
    w.write("handler");
  };
  with_server(config(h), [](http::server&, const std::string& addr) {
    client c(addr);
    c.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get("Content-Length"), "0");
    EXPECT_EQ(r->body, "");
    EXPECT_FALSE(r->has("Connection"));
    c.send("OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->has("Connection"));
    c.send("OPTIONS /x HTTP/1.1\r\nHost: x\r\n\r\n");  // a resource's options: the handler's
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "handler");
    c.send("OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 8192\r\n\r\n" + std::string(8192, 'b'));
    r = c.next();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
  });
  EXPECT_EQ(handled.load(), 1);
  http::server_config cfg = config(h);
  cfg.disable_general_options_handler = true;
  with_server(std::move(cfg), [](http::server&, const std::string& addr) {
    auto r = roundtrip(addr, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "handler");
  });
  EXPECT_EQ(handled.load(), 2);
}

TEST(Server, DefaultHandlerlessServerAnswers404) {
  with_server(http::server_config{}, [](http::server&, const std::string& addr) {
    auto r = roundtrip(addr, get_request("/"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->body, "404 page not found\n");
  });
}

}  // namespace
