// echo_server (WORKLOADS.md #13, tcp_echo): a TCP echo server on
// 127.0.0.1:PORT (first argument, default 18081), goro's counterpart of
// shared/peers/go/cmd/echo_server. An accept loop spawns one goroutine per
// connection; each reads into a 4 KiB buffer and writes back what it read,
// until EOF (or an error: the connection is then dropped). It runs until
// killed and prints only `# listening ...`; the load (the Go generator
// echo_load) and the result come from bench/tcp_echo.sh.
//
// Accept errors: goro::net's accept already backs off 5 ms .. 1 s on EMFILE,
// ENFILE, ENOBUFS and ENOMEM, as Go's net/http Serve does; any other error is
// reported and the loop goes on (Go's echo_server also retries after a pause).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <system_error>

#include <goro/goro.hpp>

namespace {

void serve(goro::net::conn c) {
  std::array<std::byte, 4096> buf;
  for (;;) {
    std::error_code ec;
    std::size_t n = c.read(buf, ec);
    if (n > 0) {
      std::error_code wec;
      c.write(std::span<const std::byte>(buf.data(), n), wec);
      if (wec) break;  // reset by peer, broken pipe...
    }
    if (ec || n == 0) break;  // 0: the client closed (EOF)
  }
  c.close();
}

}  // namespace

int main(int argc, char** argv) {
  std::string port = argc > 1 ? argv[1] : "18081";
  return goro::run([&port]() -> int {
    goro::net::listener ln;
    try {
      ln = goro::net::listen("tcp", "127.0.0.1:" + port);
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "echo_server: listen 127.0.0.1:%s: %s\n", port.c_str(), e.what());
      return 1;
    }
    std::printf("# listening 127.0.0.1:%s gomaxprocs %d\n", port.c_str(), goro::gomaxprocs());
    std::fflush(stdout);
    for (;;) {
      std::error_code ec;
      goro::net::conn c = ln.accept(ec);
      if (ec) {
        std::fprintf(stderr, "echo_server: accept: %s; retrying in 5 ms\n", ec.message().c_str());
        goro::sleep(std::chrono::milliseconds(5));
        continue;
      }
      goro::go(serve, std::move(c));
    }
  });
}
