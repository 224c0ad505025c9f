// clients_test.cpp — the server driven by real clients: curl (keep-alive
// reuse, chunked upload, 100-continue, HEAD, HTTP/1.0), Python's
// http.client (keep-alive, chunked bodies), a Python client holding 10,000
// idle keep-alive connections through a graceful shutdown, and wrk running
// while the server shuts down. The server runs on goroutines of this
// process; each client is a child process waited for inside
// goro::blocking.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "watchdog.hpp"
#include "http_test_util.hpp"

namespace {

using namespace http_test;
using goro_test::scaled;

struct proc_result {
  int status = -1;
  std::string out;
};

// Runs a shell command (stdout captured, stderr merged) off the processors.
proc_result run_cmd(const std::string& cmd) {
  return goro::blocking([&] {
    proc_result r;
    FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
    if (f == nullptr) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
    r.status = ::pclose(f);
    return r;
  });
}

std::string url(const std::string& addr, std::string_view path) { return "http://" + addr + std::string(path); }

http::handler app() {
  return [](http::response_writer& w, http::request& r) {
    if (r.url.path == "/echo") {
      std::string body = r.body.read_all();
      w.header().set("X-Length", std::to_string(body.size()));
      w.write(body);
      return;
    }
    if (r.url.path == "/big") {
      for (int i = 0; i < 100; ++i) w.write(std::string(1000, 'b'));
      return;
    }
    w.header().set("Content-Type", "text/plain");
    w.write("hello from goro " + r.url.path + "\n");
  };
}

std::string temp_file(std::size_t n, char c) {
  char path[] = "/tmp/goro-http-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  std::ofstream(path) << std::string(n, c);
  return path;
}

TEST(Curl, GetsAndReusesTheConnection) {
  with_server(http::server_config{.addr = {}, .handler = app()}, [](http::server&, const std::string& addr) {
    auto r = run_cmd("curl -sv " + url(addr, "/one") + " " + url(addr, "/two"));
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("hello from goro /one"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("hello from goro /two"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Re-using existing connection"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("< Content-Length: 21"), std::string::npos) << r.out;
  });
}

TEST(Curl, ChunkedUploadAndLargeChunkedDownload) {
  const std::string file = temp_file(200000, 'u');
  with_server(http::server_config{.addr = {}, .handler = app()}, [&](http::server&, const std::string& addr) {
    auto up = run_cmd("curl -s -D - -H 'Transfer-Encoding: chunked' --data-binary @" + file + " " + url(addr, "/echo") +
                      " -o /dev/null");
    EXPECT_EQ(up.status, 0) << up.out;
    EXPECT_NE(up.out.find("X-Length: 200000"), std::string::npos) << up.out;
    auto down = run_cmd("curl -s " + url(addr, "/big") + " | wc -c");
    EXPECT_EQ(down.out.substr(0, down.out.find_first_not_of("0123456789")), "100000") << down.out;
  });
  ::unlink(file.c_str());
}

TEST(Curl, ExpectContinueHeadAndHttp10) {
  const std::string file = temp_file(5000, 'e');
  with_server(http::server_config{.addr = {}, .handler = app()}, [&](http::server&, const std::string& addr) {
    auto cont = run_cmd("curl -sv -H 'Expect: 100-continue' --data-binary @" + file + " " + url(addr, "/echo") +
                        " -o /dev/null");
    EXPECT_EQ(cont.status, 0) << cont.out;
    EXPECT_NE(cont.out.find("< HTTP/1.1 100 Continue"), std::string::npos) << cont.out;
    EXPECT_NE(cont.out.find("< X-Length: 5000"), std::string::npos) << cont.out;
    auto head = run_cmd("curl -sI " + url(addr, "/h"));
    EXPECT_EQ(head.status, 0);
    EXPECT_NE(head.out.find("HTTP/1.1 200 OK"), std::string::npos) << head.out;
    EXPECT_NE(head.out.find("Content-Length: 19"), std::string::npos) << head.out;
    auto old = run_cmd("curl -s --http1.0 " + url(addr, "/old"));
    EXPECT_EQ(old.out, "hello from goro /old\n");
  });
  ::unlink(file.c_str());
}

TEST(PythonHttpClient, KeepAliveAndChunkedBodies) {
  with_server(http::server_config{.addr = {}, .handler = app()}, [](http::server&, const std::string& addr) {
    const std::string port = addr.substr(addr.rfind(':') + 1);
    const std::string script = R"PY(
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=20)
socks = set()
for i in range(5):
    c.request('GET', '/p%d' % i)
    r = c.getresponse()
    assert r.status == 200, r.status
    assert r.read() == b'hello from goro /p%d\n' % i
    socks.add(id(c.sock))
assert len(socks) == 1, 'the connection was not reused'
def gen():
    for k in range(10):
        yield b'x' * 1000
c.request('POST', '/echo', body=gen(), encode_chunked=True, headers={'Transfer-Encoding': 'chunked'})
r = c.getresponse()
assert r.status == 200 and r.getheader('X-Length') == '10000', (r.status, r.getheader('X-Length'))
assert r.read() == b'x' * 10000
c.request('GET', '/big')
r = c.getresponse()
assert r.getheader('Transfer-Encoding') == 'chunked'
assert len(r.read()) == 100000
c.request('HEAD', '/h')
r = c.getresponse()
assert r.status == 200 and r.read() == b''
print('python ok')
)PY";
    auto r = run_cmd("python3 -c \"$(cat <<'EOF'\n" + script + "\nEOF\n)\" " + port);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("python ok"), std::string::npos) << r.out;
  });
}

TEST(PythonHttpClient, TenThousandIdleKeepAliveConnectionsShutDownGracefully) {
  const int n = scaled(10000, 1000);
  // The server's n descriptors are here; the client's are in its own process
  // (which raises its own limit to this one's).
  ASSERT_GE(raise_fd_limit(static_cast<rlim_t>(n + 200)), static_cast<rlim_t>(n + 200))
      << "raise the descriptor limit (ulimit -n)";
  with_server(
      http::server_config{.addr = {}, .handler = app()},
      [n](http::server& srv, const std::string& addr) {
        const std::string port = addr.substr(addr.rfind(':') + 1);
        // The client opens n connections, makes one request on each, says
        // READY, then counts the connections the server closes.
        const std::string script = R"PY(
import socket, sys, selectors, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(b'GET /idle HTTP/1.1\r\nHost: t\r\n\r\n')
    socks.append(s)
for s in socks:
    data = b''
    while b'hello from goro /idle\n' not in data:
        chunk = s.recv(4096)
        assert chunk, 'closed before the response'
        data += chunk
print('READY', flush=True)
sel = selectors.DefaultSelector()
for s in socks:
    sel.register(s, selectors.EVENT_READ)
closed = 0
while closed < n:
    for key, _ in sel.select(timeout=60):
        if key.fileobj.recv(4096) == b'':
            closed += 1
            sel.unregister(key.fileobj)
print('CLOSED', closed, flush=True)
)PY";
        const std::string cmd =
            "python3 -c \"$(cat <<'EOF'\n" + script + "\nEOF\n)\" " + port + " " + std::to_string(n) + " 2>&1";
        FILE* f = goro::blocking([&] { return ::popen(cmd.c_str(), "r"); });
        ASSERT_NE(f, nullptr);
        auto line = [f] {
          return goro::blocking([f] {
            char buf[256] = {};
            return std::string(std::fgets(buf, sizeof buf, f) ? buf : "");
          });
        };
        std::string ready = line();
        EXPECT_EQ(ready, "READY\n");
        auto [ctx, cancel] = goro::with_timeout(goro::background(), 60s);
        EXPECT_EQ(srv.shutdown(ctx), std::error_code());
        cancel();
        std::string closed = line();
        EXPECT_EQ(closed, "CLOSED " + std::to_string(n) + "\n");
        goro::blocking([f] { return ::pclose(f); });
      },
      false);
}

TEST(Pprof, GoToolPprofReadsALiveServersGoroutines) {
  http::serve_mux mux;
  mux.handle("/debug/pprof/", http::pprof_handler());
  mux.handle("/", app());
  auto park = goro::make_chan<int>();
  with_server(http::server_config{.addr = {}, .handler = std::ref(mux)}, [&](http::server&, const std::string& addr) {
    for (int i = 0; i < 3; ++i) goro::go(goro::spawn_options{.name = "parked-for-pprof"}, [park] { park.recv(); });
    auto dump = run_cmd("curl -s '" + url(addr, "/debug/pprof/goroutine?debug=2") + "'");
    EXPECT_NE(dump.out.find("goroutine 1 ["), std::string::npos) << dump.out;
    EXPECT_NE(dump.out.find("[chan receive]"), std::string::npos) << dump.out;
    auto index = run_cmd("curl -s " + url(addr, "/debug/pprof/"));
    EXPECT_NE(index.out.find("goroutine"), std::string::npos) << index.out;
    auto pprof = run_cmd("HOME=/tmp PPROF_TMPDIR=/tmp go tool pprof -raw " + url(addr, "/debug/pprof/goroutine"));
    EXPECT_EQ(pprof.status, 0) << pprof.out;
    EXPECT_NE(pprof.out.find("PeriodType: goroutine count"), std::string::npos) << pprof.out;
    EXPECT_NE(pprof.out.find("Samples:"), std::string::npos) << pprof.out;
    auto trace = run_cmd("curl -s '" + url(addr, "/debug/pprof/trace?seconds=1") +
                         "' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"traceEvents\"]) > 0)'");
    EXPECT_EQ(trace.out, "True\n");
    // A CPU profile of a goroutine that computes, read by go tool pprof.
    auto stop = std::make_shared<std::atomic<bool>>(false);
    auto stopped = goro::make_chan<std::monostate>();
    goro::go(goro::spawn_options{.name = "busy-for-pprof"}, [stop, stopped] {
      std::uint64_t x = 1;
      while (!stop->load()) {
        for (int i = 0; i < 1'000'000; ++i) x = x * 6364136223846793005ULL + 1;
        void* volatile p = std::malloc(16);  // tsan delivers signals at intercepted calls only
        std::free(p);
        goro::yield();
      }
      stopped.close();
      (void)x;
    });
    auto cpu =
        run_cmd("HOME=/tmp PPROF_TMPDIR=/tmp go tool pprof -raw -seconds 2 " + url(addr, "/debug/pprof/profile"));
    stop->store(true);
    stopped.recv();
    EXPECT_EQ(cpu.status, 0) << cpu.out;
    EXPECT_NE(cpu.out.find("PeriodType: cpu nanoseconds"), std::string::npos) << cpu.out;
    EXPECT_NE(cpu.out.find("name:[busy-for-pprof]"), std::string::npos) << cpu.out;
    park.close();
  });
}

TEST(Prometheus, TheClientLibrarysParserReadsMetricsHandler) {
  // Python's prometheus_client (Debian python3-prometheus-client), run by
  // the system's interpreter, parses what metrics_handler serves.
  const std::string script = R"PY(
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
def one(name, kind):
    f = fams[name]
    assert f.type == kind, (name, f.type)
    return f.samples
assert one("goro_goroutines", "gauge")[0].value >= 3
assert one("goro_goroutines_created", "counter")[0].value >= 3
procs = int(one("goro_processors", "gauge")[0].value)
assert procs >= 1
assert one("goro_threads", "gauge")[0].value >= 1
one("goro_runnable_goroutines", "gauge")
queues = {s.labels["queue"] for s in one("goro_run_queue_length", "gauge")}
assert queues == {"global"} | {"p%d" % i for i in range(procs)}, queues
states = {s.labels["state"] for s in one("goro_stack_bytes", "gauge")}
assert states == {"in_use", "pooled", "released"}, states
assert one("goro_poller_waiters", "gauge")[0].value >= 1
one("goro_timers_pending", "gauge")
one("goro_blocking_calls", "gauge")
lat = one("goro_sched_latency_seconds", "histogram")
buckets = [s for s in lat if s.name.endswith("_bucket")]
assert len(buckets) >= 2 and buckets[-1].labels["le"] == "+Inf", buckets
les = [float(s.labels["le"]) for s in buckets]
assert les == sorted(les), les
counts = [s.value for s in buckets]
assert counts == sorted(counts), counts
count = [s.value for s in lat if s.name.endswith("_count")][0]
assert counts[-1] == count, (counts, count)
print("parsed", len(fams))
)PY";
  http::serve_mux mux;
  mux.handle("/metrics", http::metrics_handler());
  with_server(http::server_config{.addr = {}, .handler = std::ref(mux)}, [&](http::server&, const std::string& addr) {
    // A goroutine parked on the poller for the whole fetch (the server's
    // accept loop may be between accept and its next wait just when the
    // handler reads the metrics): one blocked in accept on a listener of
    // its own, seen counted (beside the server's accept loop, parked again
    // since it accepted nothing) before the fetch starts.
    auto idle = goro::net::listen("tcp", "127.0.0.1:0");
    auto accepted = goro::make_chan<int>(1);
    goro::go([&idle, accepted] {
      std::error_code ec;
      idle.accept(ec);
      accepted.send(1);
    });
    goro_test::bailout limit;
    while (goro::read_metrics().poller_waiters < 2 && !limit.expired()) goro::sleep(std::chrono::milliseconds(1));
    auto r = run_cmd("curl -s " + url(addr, "/metrics") + " | /usr/bin/python3 -c '" + script + "'");
    idle.close();
    accepted.recv();
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out.rfind("parsed ", 0), 0u) << r.out;
    auto head = run_cmd("curl -s -D - -o /dev/null " + url(addr, "/metrics"));
    EXPECT_NE(head.out.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"), std::string::npos) << head.out;
  });
}

TEST(Wrk, ShutdownUnderLoadAnswersEveryRequestInFlight) {
  // wrk loads the server while our own checking clients keep requests in
  // flight; shutdown comes in the middle. Every checking request either
  // gets its full response or finds its connection closed before any byte
  // of an answer: never a partial response.
  http::handler h = [](http::response_writer& w, http::request& r) {
    goro::sleep(1ms);  // a request in flight takes a while
    if (r.url.path == "/check") {
      for (int i = 0; i < 10; ++i) w.write(std::string(1000, static_cast<char>('0' + i)));
      return;
    }
    w.write("Hello, World!");
  };
  std::string expected;
  for (int i = 0; i < 10; ++i) expected += std::string(1000, static_cast<char>('0' + i));
  with_server(
      http::server_config{.addr = {}, .handler = h},
      [&](http::server& srv, const std::string& addr) {
        auto wrk_done = goro::make_chan<proc_result>(1);
        goro::go([&addr, wrk_done] { wrk_done.send(run_cmd("wrk -t1 -c32 -d2s " + url(addr, "/"))); });
        const int checkers = 16;
        std::atomic<int> full{0}, partial{0};
        std::atomic<bool> stop{false};
        goro::wait_group wg;
        wg.add(checkers);
        for (int i = 0; i < checkers; ++i) {
          goro::go([&] {
            while (!stop.load()) {
              std::error_code ec;
              auto conn = net::dial("tcp", addr, ec);
              if (ec) break;  // the listener is closed
              client c(std::move(conn));
              for (;;) {
                std::error_code wec;
                c.conn().write(get_request("/check"), wec);
                if (wec) break;
                auto r = c.next();
                if (!r) {
                  if (!c.leftover().empty()) ++partial;
                  break;
                }
                if (r->body == expected) ++full;
                else ++partial;
              }
            }
            wg.done();
          });
        }
        goro::sleep(500ms);  // under load
        auto [ctx, cancel] = goro::with_timeout(goro::background(), 20s);
        EXPECT_EQ(srv.shutdown(ctx), std::error_code());
        cancel();
        stop = true;
        wg.wait();
        EXPECT_GT(full.load(), 0);
        EXPECT_EQ(partial.load(), 0);
        auto w = *wrk_done.recv();
        EXPECT_NE(w.out.find("requests in"), std::string::npos) << w.out;
      },
      false);
}

}  // namespace
