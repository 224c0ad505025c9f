// A program that uses goro the way a downstream project would; CI builds it
// against an installed goro (find_package), against a source tree
// (add_subdirectory) and for aarch64 (run under qemu). It links both
// targets, goro::goro and goro::http. Exits 0 on success.
#include <goro/goro.hpp>
#include <goro/http.hpp>

#include <atomic>
#include <cstdio>
#include <string>

namespace {

// Serves one request to itself over loopback; the body it got back.
std::string http_round_trip() {
  goro::http::serve_mux mux;
  mux.handle("GET /hi/{name}", [](goro::http::response_writer& w, goro::http::request& r) {
    w.write("hi, " + std::string(r.path_value("name")));
  });
  goro::http::server srv(goro::http::server_config{.addr = {}, .handler = std::ref(mux)});
  auto l = goro::net::listen("tcp", "127.0.0.1:0");
  const std::string addr = l.addr();
  auto served = goro::make_chan<std::error_code>(1);
  goro::go([&, l = std::move(l)]() mutable { served.send(srv.serve(std::move(l))); });
  auto c = goro::net::dial("tcp", addr);
  c.write(std::string_view("GET /hi/goro HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string resp;
  char buf[1024];
  std::error_code ec;
  while (std::size_t n = c.read(std::as_writable_bytes(std::span<char>(buf)), ec)) resp.append(buf, n);
  auto [ctx, cancel] = goro::with_timeout(goro::background(), std::chrono::seconds(10));
  if (srv.shutdown(ctx) || *served.recv() != goro::http::errc::server_closed) return "shutdown failed";
  cancel();
  auto body = resp.find("\r\n\r\n");
  return body == std::string::npos ? resp : resp.substr(body + 4);
}

}  // namespace

int main() {
  std::atomic<int> ran{0};
  int rc = goro::run([&] {
    goro::wait_group wg;
    wg.add(2);
    for (int i = 0; i < 2; ++i) {
      goro::go([&] {
        ran.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    return goro::this_goroutine::id() == 1 ? 0 : 1;
  });
  std::printf("consumer: %d goroutines ran, run returned %d\n", ran.load(), rc);
  std::string body;
  goro::run([&] { body = http_round_trip(); });
  std::printf("consumer: goro::http answered \"%s\"\n", body.c_str());
  return rc == 0 && ran.load() == 2 && body == "hi, goro" ? 0 : 1;
}
