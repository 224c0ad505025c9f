// http_hello (shared/peers/WORKLOADS.md #12): an HTTP/1.1 server on
// 127.0.0.1:PORT (argument, default 18080) answering every request with 200,
// Content-Type: text/plain and "Hello, World!". Runs until killed; the load
// (wrk) and the result lines come from shared/peers/run.sh. GOMAXPROCS as in
// Go: the number of cores unless the environment says otherwise.
#include <goro/goro.hpp>
#include <goro/http.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  const std::string port = argc > 1 ? argv[1] : "18080";
  return goro::run([&] {
    goro::http::serve_mux mux;
    mux.handle("/", [](goro::http::response_writer& w, goro::http::request&) {
      w.header().set("Content-Type", "text/plain");
      w.write("Hello, World!");
    });
    auto l = goro::net::listen("tcp", "127.0.0.1:" + port);
    std::printf("# listening %s gomaxprocs %d\n", l.addr().c_str(), goro::gomaxprocs());
    std::fflush(stdout);
    goro::http::server srv(goro::http::server_config{.addr = {}, .handler = std::ref(mux)});
    auto ec = srv.serve(std::move(l));
    std::fprintf(stderr, "http_hello: %s\n", ec.message().c_str());
    return 1;
  });
}
