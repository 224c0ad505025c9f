// client_test.cpp — http::client against goro's server and against
// Python's http.server: GET, POST, HEAD, chunked bodies, connection reuse
// (seen from the server's side as the client's address), a stale pooled
// connection retried, redirects (and their limit), the client's timeout and
// a context's cancellation.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include "watchdog.hpp"
#include "http_test_util.hpp"

namespace {

using namespace http_test;

http::handler app(std::atomic<int>* entered = nullptr, goro::chan<std::monostate>* release = nullptr) {
  return [entered, release](http::response_writer& w, http::request& r) {
    const std::string& p = r.url.path;
    if (p == "/addr") {
      w.write(r.remote_addr);
    } else if (p == "/echo") {
      w.header().set("X-Method", r.method);
      w.header().set("X-Content-Type", r.header.get("Content-Type"));
      w.write(r.body.read_all());
    } else if (p == "/big") {
      for (int i = 0; i < 100; ++i) w.write(std::string(1000, static_cast<char>('a' + i % 26)));
    } else if (p.rfind("/hop/", 0) == 0) {
      int n = p[5] - '0';
      if (n == 0) {
        w.write("arrived by " + r.method + " with body '" + r.body.read_all() + "'");
        return;
      }
      std::string next = "/hop/" + std::to_string(n - 1);
      if (!r.url.raw_query.empty()) next += "?" + r.url.raw_query;
      http::redirect(w, r, next, r.query("code") == "307" ? 307 : 302);
    } else if (p == "/loop") {
      http::redirect(w, r, "/loop", 302);
    } else if (p == "/relative/a") {
      http::redirect(w, r, "b", 301);
    } else if (p == "/relative/b") {
      w.write("relative ok");
    } else if (p == "/stall") {
      if (entered) ++*entered;
      release->recv();
      w.write("finally");
    } else {
      w.write("hello " + p);
    }
  };
}

std::string url(const std::string& addr, std::string_view path) { return "http://" + addr + std::string(path); }

TEST(Client, GetPostHeadAndChunkedBodies) {
  with_server(http::server_config{.addr = {}, .handler = app()}, [](http::server&, const std::string& addr) {
    http::client c;
    auto r = c.get(url(addr, "/x"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.status_line, "200 OK");
    EXPECT_EQ(r.proto, "HTTP/1.1");
    EXPECT_EQ(r.content_length, 8);
    EXPECT_EQ(r.header.get("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.body.read_all(), "hello /x");
    auto p = c.post(url(addr, "/echo"), "application/json", "{\"a\":1}");
    EXPECT_EQ(p.header.get("X-Method"), "POST");
    EXPECT_EQ(p.header.get("X-Content-Type"), "application/json");
    EXPECT_EQ(p.body.read_all(), "{\"a\":1}");
    auto big = c.get(url(addr, "/big"));
    EXPECT_EQ(big.content_length, -1);
    std::string body = big.body.read_all();
    ASSERT_EQ(body.size(), 100000u);
    EXPECT_EQ(body[99999], static_cast<char>('a' + 99 % 26));
    auto h = c.send(goro::background(),
                    http::client_request{.method = "HEAD", .url = url(addr, "/x"), .header = {}, .body = {}});
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.header.get("Content-Length"), "8");
    EXPECT_EQ(h.body.read_all(), "");
    auto free_fn = http::get(url(addr, "/free"));
    EXPECT_EQ(free_fn.body.read_all(), "hello /free");
    auto free_post = http::post(url(addr, "/echo"), "text/plain", "posted");
    EXPECT_EQ(free_post.body.read_all(), "posted");
    http::default_client().close_idle_connections();
  });
}

TEST(Client, ConnectionsAreReusedOnceTheBodyIsReadOrTheResponseGone) {
  with_server(http::server_config{.addr = {}, .handler = app()}, [](http::server&, const std::string& addr) {
    http::client c;
    std::string first = c.get(url(addr, "/addr")).body.read_all();
    std::string second = c.get(url(addr, "/addr")).body.read_all();
    EXPECT_EQ(first, second) << "a body read to its end gives its connection back";
    {
      auto held = c.get(url(addr, "/big"));  // its connection is busy while held
      std::string third = c.get(url(addr, "/addr")).body.read_all();
      EXPECT_NE(third, first);
      std::byte some[10];
      (void)held.body.read(some);
    }  // destroyed half-read: the rest is drained and the connection pooled
    std::string fourth = c.get(url(addr, "/addr")).body.read_all();
    std::string fifth = c.get(url(addr, "/addr")).body.read_all();
    EXPECT_EQ(fourth, fifth);
    c.close_idle_connections();
  });
}

TEST(Client, AStalePooledConnectionIsRetriedOnANewOne) {
  // A server that answers one request per connection and then closes it,
  // without saying so: the client pools the connection, finds it closed on
  // the next request, and sends that one again on a new connection.
  goro::run([] {
    auto l = net::listen("tcp", "127.0.0.1:0");
    const std::string addr = l.addr();
    auto served = goro::make_chan<int>(2);
    goro::go([&l, served] {
      for (const char* body : {"A", "B"}) {
        auto c = l.accept();
        std::string head;
        char buf[1024];
        while (head.find("\r\n\r\n") == std::string::npos) {
          std::size_t n = c.read(std::as_writable_bytes(std::span<char>(buf)));
          if (n == 0) break;
          head.append(buf, n);
        }
        c.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + std::string(body));
        c.close();
        served.send(1);
      }
    });
    http::client c;
    EXPECT_EQ(c.get(url(addr, "/one")).body.read_all(), "A");
    served.recv();
    EXPECT_EQ(c.get(url(addr, "/two")).body.read_all(), "B");
    served.recv();
    l.close();
  });
}

TEST(Client, FollowsRedirectsAsGo) {
  with_server(http::server_config{.addr = {}, .handler = app()}, [](http::server&, const std::string& addr) {
    http::client c;
    auto r = c.get(url(addr, "/hop/3"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.url, url(addr, "/hop/0"));
    EXPECT_EQ(r.body.read_all(), "arrived by GET with body ''");
    // 302 turns a POST into a GET; 307 and 308 resend it.
    EXPECT_EQ(c.post(url(addr, "/hop/2"), "text/plain", "data").body.read_all(), "arrived by GET with body ''");
    EXPECT_EQ(c.post(url(addr, "/hop/2?code=307"), "text/plain", "data").body.read_all(),
              "arrived by POST with body 'data'");
    EXPECT_EQ(c.get(url(addr, "/relative/a")).body.read_all(), "relative ok");
    try {
      (void)c.get(url(addr, "/loop"));
      ADD_FAILURE() << "a redirect loop must fail";
    } catch (const std::system_error& e) {
      EXPECT_NE(std::string(e.what()).find("stopped after 10 redirects"), std::string::npos) << e.what();
    }
  });
}

TEST(Client, TimeoutAndCancellationFailWithTheContextsError) {
  std::atomic<int> entered{0};
  auto release = goro::make_chan<std::monostate>();
  with_server(http::server_config{.addr = {}, .handler = app(&entered, &release)}, [&](http::server&,
                                                                                       const std::string& addr) {
    http::client slow(http::client_config{.timeout = 50ms});
    try {
      (void)slow.get(url(addr, "/stall"));
      ADD_FAILURE() << "the timeout must fail the request";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), goro::errc::deadline_exceeded) << e.what();
    }
    http::client c;
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    goro::go([&entered, cancel = cancel] {
      while (entered.load() < 2) goro::sleep(1ms);
      cancel();
    });
    try {
      (void)c.send(ctx, http::client_request{.method = "GET", .url = url(addr, "/stall"), .header = {}, .body = {}});
      ADD_FAILURE() << "cancelling the context must fail the request";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), goro::errc::canceled) << e.what();
    }
    release.send({});
    release.send({});
    // Errors of other kinds are system_errors too.
    EXPECT_THROW((void)c.get("https://" + addr + "/"), std::system_error);
    EXPECT_THROW((void)c.get("http://127.0.0.1:1/"), std::system_error);
  });
}

TEST(Client, AgainstPythonsHttpServer) {
  char dir[] = "/tmp/goro-pyserv-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::ofstream(std::string(dir) + "/hello.txt") << "served by python\n";
  goro::run([&] {
    auto l = net::listen("tcp", "127.0.0.1:0");  // a free port for python
    std::string addr = l.addr();
    l.close();
    std::string port = addr.substr(addr.rfind(':') + 1);
    std::string cmd =
        "cd " + std::string(dir) + " && exec python3 -m http.server --bind 127.0.0.1 " + port + " >/dev/null 2>&1";
    pid_t pid = goro::blocking([&] {
      pid_t p = ::fork();
      if (p == 0) {
        ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
      }
      return p;
    });
    ASSERT_GT(pid, 0);
    goro_test::bailout bail;
    std::error_code ec;
    while (!net::dial("tcp", addr, ec) && !bail.expired()) goro::sleep(20ms);
    http::client c;
    auto r = c.get(url(addr, "/hello.txt"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.read_all(), "served by python\n");
    auto nf = c.get(url(addr, "/missing"));
    EXPECT_EQ(nf.status, 404);
    (void)nf.body.read_all();
    auto again = c.get(url(addr, "/hello.txt"));
    EXPECT_EQ(again.body.read_all(), "served by python\n");
    ::kill(pid, SIGTERM);
    goro::blocking([pid] { return ::waitpid(pid, nullptr, 0); });
  });
  std::remove((std::string(dir) + "/hello.txt").c_str());
  ::rmdir(dir);
}

}  // namespace
