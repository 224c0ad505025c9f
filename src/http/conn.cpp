// src/http/conn.cpp — a connection's goroutine: read a request's head,
// run the handler, finish the response, repeat while the connection is kept
// alive. The timeouts and the phases it goes through are described in
// server_impl.hpp and docs/DESIGN.md ("goro::http").
#include <cstdio>
#include <cstring>
#include <exception>
#include <utility>

#include "goro/goro.hpp"
#include "http/server_impl.hpp"
#include "http/url.hpp"

namespace goro::http::detail {

namespace {

// Go's maxPostHandlerReadBytes: what the server reads of a body the
// handler left unread, to keep the connection; more than this closes it.
constexpr std::size_t kMaxPostHandlerRead = 256 << 10;

// Go's globalOptionsHandler. "OPTIONS *" asks about the server, not a
// resource: 200 with an empty body. A body sent with it is read, at most
// 4 KiB (reserved for future use, says the spec); a longer one is a waste
// of the server's time, and the connection closes after the answer.
void global_options(response_writer& w, request& r) {
  w.header().set("Content-Length", "0");
  if (r.content_length == 0) return;
  constexpr std::size_t kMaxOptionsBody = 4 << 10;
  std::byte buf[1024];
  std::size_t total = 0;
  std::error_code ec;
  while (total <= kMaxOptionsBody) {
    std::size_t n = r.body.read(buf, ec);
    if (ec || n == 0) return;
    total += n;
  }
  w.header().set("Connection", "close");
}

std::chrono::nanoseconds pick(std::chrono::nanoseconds a, std::chrono::nanoseconds b) noexcept {
  return a.count() > 0 ? a : b;
}

// Fills r from a parsed head; false if the target does not parse.
bool build_request(conn_state& c, request& r) {
  const request_head& h = c.head;
  r.method.assign(h.method);
  r.target.assign(h.target);
  r.request_uri.assign(h.target);
  std::string abs_host;
  if (!parse_request_target(h.method, h.target, r.url, &abs_host)) return false;
  r.proto.assign(h.version);
  r.proto_major = h.major;
  r.proto_minor = h.minor;
  for (const field& f : h.fields) {
    if (f.name.size() == 4 && ascii_iequal(f.name, "host")) continue;
    r.header.add_canonical(canonical_header_key(f.name), std::string(f.value));
  }
  r.host = abs_host.empty() ? std::string(h.host) : std::move(abs_host);
  switch (h.body) {
    case body_kind::none: r.content_length = 0; break;
    case body_kind::length: r.content_length = h.content_length; break;
    case body_kind::chunked:
      r.content_length = -1;
      r.transfer_encoding.assign(1, "chunked");
      break;
    case body_kind::until_close:  // never for a request
      r.content_length = -1;
      break;
  }
  r.close = h.close;
  r.remote_addr = c.remote;
  r.body = request_body(&c.body);
  request_access::attach(r, &c);
  return true;
}

// Go's closeWriteAndWait: half-close, then give the peer a moment to read
// the response before the close (which would reset the connection if its
// unread bytes were still arriving).
void close_write_and_wait(conn_state& c) noexcept {
  try {
    c.c.close_write();
    c.c.set_read_deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
    std::byte sink[1024];
    std::error_code ec;
    for (int i = 0; i < 64; ++i)
      if (c.c.read(sink, ec) == 0) break;
  } catch (...) {
  }
}

}  // namespace

conn_state::conn_state(std::shared_ptr<server::state> s, net::conn cn)
    : srv(std::move(s)), c(std::move(cn)), born(std::chrono::steady_clock::now()) {
  try {
    remote = c.remote_addr();
  } catch (...) {
  }
  auto [x, cancel_x] = with_cancel(background());
  ctx = std::move(x);
  cancel = std::move(cancel_x);
}

conn_state::~conn_state() { cancel(); }

// ---------------------------------------------------------------------------
// conn_body

void conn_body::reset(const request_head& h, bool expect_continue) noexcept {
  r_.reset(h.body, h.content_length, c_.srv->max_header_bytes);
  expect_continue_ = expect_continue && !r_.done();
}

std::size_t conn_body::read(std::span<std::byte> out, std::error_code& ec) noexcept {
  if (expect_continue_ && !out.empty()) {
    expect_continue_ = false;
    if (!c_.writer.head_sent()) {
      std::error_code wec;
      c_.c.write(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"), wec);
    }
  }
  std::size_t n = r_.read(c_.in, c_.c, out, ec);
  if (r_.done() && c_.watch.load(std::memory_order_acquire) == 1) start_watch(c_);
  return n;
}

bool conn_body::discard(std::size_t limit) noexcept { return r_.discard(c_.in, c_.c, limit); }

// ---------------------------------------------------------------------------
// The client going away
//
// As Go's connReader.backgroundRead: a handler that asks for its request's
// context gets it cancelled when the client closes the connection. Once the
// body has been read to its end (at once for a request without one), a
// watcher goroutine reads one byte from the connection into the buffer's
// free end. The end of the stream, or an error, cancels the request's
// context and marks the connection gone. A byte means the client sent more
// (a pipelined request): it is kept. When the handler returns, the
// connection's goroutine aborts the read by setting a read deadline in the
// past and waits for the watcher, so the two never read at once and the
// watcher is gone before the next request is parsed. The watcher runs only
// for requests whose context was asked for: handlers that never look cannot
// tell, and the others pay a goroutine per request, as in Go.

void watch_client(conn_state& c) noexcept {
  int off = 0;
  if (c.watch.compare_exchange_strong(off, 1, std::memory_order_acq_rel) && c.body.done()) start_watch(c);
}

void start_watch(conn_state& c) noexcept {
  int wanted = 1;
  if (!c.watch_allowed || !c.watch.compare_exchange_strong(wanted, 2, std::memory_order_acq_rel)) return;
  std::byte* dst = reinterpret_cast<std::byte*>(c.in.buf.get() + c.in.w);
  c.watch_abort.store(false, std::memory_order_relaxed);
  c.watch_got_byte = false;
  try {
    goro::go(spawn_options{.name = "http background read"}, [&c, dst] {
      std::error_code ec;
      std::size_t n = c.c.read(std::span<std::byte>(dst, 1), ec);
      if (n == 1) {
        c.watch_got_byte = true;
      } else if (!c.watch_abort.load(std::memory_order_acquire)) {
        c.client_gone = true;
        c.req_cancel();
      }
      c.watch_done.send({});
    });
  } catch (...) {
    c.watch.store(1, std::memory_order_release);  // no watcher: nothing to stop
  }
}

bool stop_watch(conn_state& c) noexcept {
  if (c.watch.exchange(0, std::memory_order_acq_rel) != 2) return false;
  c.watch_abort.store(true, std::memory_order_release);
  try {
    c.c.set_read_deadline(std::chrono::steady_clock::now() - std::chrono::hours(1));
    c.watch_done.recv();
  } catch (...) {
  }
  if (c.watch_got_byte) ++c.in.w;
  return true;
}

// ---------------------------------------------------------------------------
// The connection's loop

void reply_error_and_close(conn_state& c, int status, std::string_view reason) {
  // As Go's server.go: a plain-text answer, then the connection closes.
  std::string msg = "HTTP/1.1 " + std::to_string(status) + " ";
  msg.append(status_text(status));
  msg.append("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n");
  msg.append(std::to_string(status)).append(" ").append(status_text(status));
  if (!reason.empty() && status == 400) msg.append(": ").append(reason);
  std::error_code ec;
  c.c.set_write_deadline(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  c.c.write(msg, ec);
  if (!ec) close_write_and_wait(c);
}

namespace {

// RFC 9112 §2.2: empty lines before a request-line are ignored.
void skip_blank_lines(read_buffer& in) noexcept {
  while (in.r < in.w && (in.buf[in.r] == '\r' || in.buf[in.r] == '\n')) {
    if (in.buf[in.r] == '\r' && (in.r + 1 >= in.w || in.buf[in.r + 1] != '\n')) break;
    in.r += in.buf[in.r] == '\r' ? 2 : 1;
  }
}

// serve_conn's loop, one phase per method, in the order they run for each
// request. A phase that returns false ends the connection.
struct conn_loop {
  conn_state& c;
  server::state& st;
  const server_config& cfg;
  const std::size_t head_limit;  // Go's initialReadLimitSize
  const std::chrono::nanoseconds header_timeout, idle_timeout;
  bool read_deadline_set = false;
  bool first = true;
  std::error_code ec;

  explicit conn_loop(conn_state& conn)
      : c(conn),
        st(*conn.srv),
        cfg(st.cfg),
        head_limit(st.max_header_bytes + 4096),
        header_timeout(pick(cfg.read_header_timeout, cfg.read_timeout)),
        idle_timeout(pick(cfg.idle_timeout, cfg.read_timeout)) {}

  // The read deadline `timeout` after `from`, or none (cleared only if set).
  void read_deadline(std::chrono::nanoseconds timeout, std::chrono::steady_clock::time_point from) {
    if (timeout.count() > 0) {
      c.c.set_read_deadline(from + timeout);
      read_deadline_set = true;
    } else if (read_deadline_set) {
      c.c.set_read_deadline(no_deadline);
      read_deadline_set = false;
    }
  }

  // 1. Wait for the first byte of the next request (idle between requests,
  // where a shutdown closes the connection).
  bool await_request() {
    if (!first) {
      c.ph.store(phase::idle, std::memory_order_release);
      if (st.in_shutdown()) {
        st.notify_change();
        return false;
      }
      read_deadline(idle_timeout, std::chrono::steady_clock::now());
    } else if (header_timeout.count() > 0) {
      c.c.set_read_deadline(c.born + header_timeout);
      read_deadline_set = true;
    }
    skip_blank_lines(c.in);
    while (c.in.empty()) {
      if (c.fill(head_limit, ec) == 0) return false;
      skip_blank_lines(c.in);
    }
    return true;
  }

  // 2. Active: from here the request is served to its end.
  bool begin_active(std::chrono::steady_clock::time_point& t0) {
    phase expected = first ? phase::fresh : phase::idle;
    if (!c.ph.compare_exchange_strong(expected, phase::active, std::memory_order_acq_rel)) return false;
    t0 = std::chrono::steady_clock::now();
    if (!first) read_deadline(header_timeout, t0);
    return true;
  }

  // 3. The head, parsed into c.head and req; a malformed one is answered
  // as Go answers it and the connection closes.
  bool read_head(request& req) {
    std::size_t scanned = 0, head_len;
    while ((head_len = find_head_end(c.in.buffered(), scanned)) == 0) {
      if (c.in.w - c.in.r >= head_limit) {
        reply_error_and_close(c, 431, "");
        return false;
      }
      if (c.fill(head_limit, ec) == 0) {
        if (ec == std::errc::no_buffer_space) reply_error_and_close(c, 431, "");
        return false;  // EOF, error, or the header timeout: close without an answer (Go)
      }
    }
    if (head_len > head_limit) {
      reply_error_and_close(c, 431, "");
      return false;
    }
    parse_error perr;
    if (!parse_request_head(c.in.buffered().substr(0, head_len), c.head, perr)) {
      reply_error_and_close(c, perr.status, perr.reason);
      return false;
    }
    if (!build_request(c, req)) {
      reply_error_and_close(c, 400, "malformed request URI");
      return false;
    }
    c.in.r += head_len;
    if (c.head.expect_other) {
      reply_error_and_close(c, 417, "");
      return false;
    }
    return true;
  }

  // 4. The body's and the response's deadlines, the body reader, the
  // writer, and the request's context (its cancel in c.req_cancel).
  void prepare(request& req, std::chrono::steady_clock::time_point t0) {
    read_deadline(cfg.read_timeout, t0);
    if (cfg.write_timeout.count() > 0) c.c.set_write_deadline(std::chrono::steady_clock::now() + cfg.write_timeout);
    c.body.reset(c.head, c.head.expect_continue);
    c.writer.reset(req, !c.head.close && !st.in_shutdown());
    auto [rctx, rcancel] = with_cancel(c.ctx);
    req.set_context(std::move(rctx));
    c.req_cancel = std::move(rcancel);
    if (c.in.w == c.in.cap && c.in.r > 0) {  // room for the background read's byte
      std::memmove(c.in.buf.get(), c.in.buf.get() + c.in.r, c.in.w - c.in.r);
      c.in.w -= c.in.r;
      c.in.r = 0;
    }
    c.watch_allowed = c.in.w < c.in.cap;
    c.client_gone = false;
  }

  // 5. The handler. An exception it throws is logged (Go's "http: panic
  // serving") and closes the connection (false).
  bool run_handler(request& req) {
    bool threw = false;
    try {
      if (!cfg.disable_general_options_handler && req.method == "OPTIONS" && req.target == "*")
        global_options(c.writer, req);
      else if (cfg.handler) cfg.handler(c.writer, req);
      else not_found(c.writer, req);
    } catch (const std::exception& e) {
      threw = true;
      std::fprintf(stderr, "http: panic serving %s (%s %s %s): %s\n", c.remote.c_str(), req.method.c_str(),
                   req.target.c_str(), req.proto.c_str(), e.what());
    } catch (...) {
      threw = true;
      std::fprintf(stderr, "http: panic serving %s (%s %s %s): unknown exception\n", c.remote.c_str(),
                   req.method.c_str(), req.target.c_str(), req.proto.c_str());
    }
    if (stop_watch(c)) read_deadline_set = true;  // the abort left a deadline in the past
    std::exchange(c.req_cancel, {})();
    if (threw) return false;
    if (c.client_gone) c.writer.set_close();
    return true;
  }

  // 6. What the handler left of the body, then the response's end; true
  // if the connection is kept alive for another request.
  bool finish() {
    bool body_left = false;
    if (!c.body.done()) {
      if (c.body.continue_pending() || c.body.broken() || !c.body.discard(kMaxPostHandlerRead)) {
        c.writer.set_close();
        body_left = true;
      }
    }
    if (!c.writer.finish()) return false;
    if (!c.writer.keep_alive()) {
      if (body_left) close_write_and_wait(c);
      return false;
    }
    first = false;
    return true;
  }

  // One request, start to end: false when the connection is done.
  bool serve_one() {
    if (!await_request()) return false;
    std::chrono::steady_clock::time_point t0;
    if (!begin_active(t0)) return false;
    request req;
    if (!read_head(req)) return false;
    prepare(req, t0);
    return run_handler(req) && finish();
  }
};

}  // namespace

void serve_conn(std::unique_ptr<conn_state> owned) {
  conn_state& c = *owned;
  server::state& st = *c.srv;
  try {
    conn_loop loop(c);
    while (loop.serve_one()) {
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http: connection %s: %s\n", c.remote.c_str(), e.what());
  }
  {
    std::lock_guard lk(st.mu);
    st.conns.erase(&c);
  }
  c.ph.store(phase::closed, std::memory_order_release);
  c.c.close();
  c.cancel();
  st.notify_change();
}

}  // namespace goro::http::detail
