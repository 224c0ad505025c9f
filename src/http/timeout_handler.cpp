// src/http/timeout_handler.cpp — http.TimeoutHandler.
//
// h runs in a goroutine of its own and writes into a buffering writer;
// the serving goroutine waits for h or for the deadline. On time, the
// buffered header, status and body are copied to the real writer. On the
// deadline, the real writer gets a complete 503 (with its Content-Length,
// flushed), the buffering writer is marked timed out, and the serving
// goroutine then waits for h to return: unlike Go, whose collector keeps the
// request alive for a straggling h, goro must not let the connection reuse
// the request (its body reads from the connection) while h still runs.
#include <exception>
#include <memory>
#include <optional>

#include "goro/goro.hpp"
#include "goro/http.hpp"

namespace goro::http {

namespace {

struct timeout_writer final : response_writer {
  goro::mutex mu;
  http::header h;
  std::string body;
  int code = 0;
  bool timed_out = false;  // guarded by mu
  bool wrote_header = false;

  http::header& header() override { return h; }
  void write_header(int c) override {
    std::lock_guard lk(mu);
    if (timed_out || wrote_header) return;
    if (c < 100 || c > 999) throw panic_error("invalid WriteHeader code " + std::to_string(c));
    wrote_header = true;
    code = c;
  }
  using response_writer::write;
  std::size_t write(std::span<const std::byte> b, std::error_code& ec) override {
    std::lock_guard lk(mu);
    ec.clear();
    if (timed_out) {
      ec = make_error_code(errc::handler_timeout);
      return 0;
    }
    if (!wrote_header) {
      wrote_header = true;
      code = 200;
    }
    body.append(reinterpret_cast<const char*>(b.data()), b.size());
    return b.size();
  }
  void flush() override {}  // Go's timeoutWriter has no Flush either
};

}  // namespace

handler timeout_handler(handler h, std::chrono::nanoseconds d, std::string msg) {
  if (msg.empty()) msg = "<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>";
  return [h = std::move(h), d, msg = std::move(msg)](response_writer& w, request& r) {
    const goro::context outer = r.context();
    auto [ctx, cancel] = goro::with_timeout(outer, d);
    r.set_context(ctx);
    auto tw = std::make_shared<timeout_writer>();
    auto done = goro::make_chan<std::exception_ptr>(1);
    goro::go([&h, &r, tw, done] {
      std::exception_ptr ep;
      try {
        h(*tw, r);
      } catch (...) {
        ep = std::current_exception();
      }
      done.send(ep);
    });
    std::optional<std::exception_ptr> result;
    goro::select(goro::case_recv(done, result), goro::case_recv(ctx.done()));
    if (result) {
      cancel();
      r.set_context(outer);
      if (*result) std::rethrow_exception(*result);
      std::lock_guard lk(tw->mu);
      for (const auto& kv : tw->h) w.header().del(kv.first);  // h's values replace, as Go's dst[k] = vv
      for (const auto& [k, v] : tw->h) w.header().add_canonical(k, v);
      if (!tw->wrote_header) tw->code = 200;
      if (tw->h.get("Content-Length").empty()) w.header().set("Content-Length", std::to_string(tw->body.size()));
      w.write_header(tw->code);
      w.write(tw->body);
      return;
    }
    {
      std::lock_guard lk(tw->mu);
      tw->timed_out = true;
    }
    const bool deadline = ctx.err() == goro::errc::deadline_exceeded;
    w.header().set("Content-Length", std::to_string(deadline ? msg.size() : 0));
    w.write_header(503);
    if (deadline) w.write(msg);
    w.flush();
    cancel();
    std::exception_ptr ep = *done.recv();  // h must be done with r before the connection reuses it
    r.set_context(outer);
    (void)ep;  // Go drops a panic that comes after the timeout answer
  };
}

}  // namespace goro::http
