// src/http/conn.cpp — a connection's goroutine: read a request's head,
// run the handler, finish the response, repeat while the connection is kept
// alive. The timeouts and the phases it goes through are described in
// server_impl.hpp and docs/DESIGN.md ("goro::http").
#include <cstdio>
#include <cstring>
#include <exception>

#include "goro/goro.hpp"
#include "http/server_impl.hpp"
#include "http/url.hpp"

namespace goro::http::detail {

namespace {

constexpr std::size_t kInitialBuffer = 4096;
// Go's maxPostHandlerReadBytes: what the server reads of a body the
// handler left unread, to keep the connection; more than this closes it.
constexpr std::size_t kMaxPostHandlerRead = 256 << 10;

bool ascii_iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
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
  }
  r.close = h.close;
  r.remote_addr = c.remote;
  r.body = request_body(&c.body);
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

std::size_t conn_state::fill(std::size_t limit, std::error_code& ec) noexcept {
  if (r == w) r = w = 0;
  if (!buf) {
    cap = kInitialBuffer;
    buf.reset(new char[cap]);
  }
  if (w == cap) {
    if (r > 0) {
      std::memmove(buf.get(), buf.get() + r, w - r);
      w -= r;
      r = 0;
    } else if (cap < limit) {
      std::size_t ncap = cap * 2 < limit ? cap * 2 : limit;
      std::unique_ptr<char[]> nb(new char[ncap]);
      std::memcpy(nb.get(), buf.get(), w);
      buf = std::move(nb);
      cap = ncap;
    } else {
      ec = std::make_error_code(std::errc::no_buffer_space);
      return 0;
    }
  }
  std::size_t n = c.read(std::span<std::byte>(reinterpret_cast<std::byte*>(buf.get() + w), cap - w), ec);
  w += n;
  return n;
}

// ---------------------------------------------------------------------------
// conn_body

void conn_body::reset(const request_head& h, bool expect_continue) noexcept {
  kind_ = h.body;
  remaining_ = h.body == body_kind::length ? h.content_length : 0;
  chunked_ = chunked_decoder(c_.srv->max_header_bytes);
  done_ = h.body == body_kind::none;
  broken_ = false;
  expect_continue_ = expect_continue && !done_;
}

std::size_t conn_body::read(std::span<std::byte> out, std::error_code& ec) noexcept {
  ec.clear();
  if (done_ || out.empty()) return 0;
  if (broken_) {
    ec = make_error_code(errc::malformed_body);
    return 0;
  }
  if (expect_continue_) {
    expect_continue_ = false;
    if (!c_.writer.head_sent()) {
      std::error_code wec;
      c_.c.write(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"), wec);
    }
  }
  if (kind_ == body_kind::length) {
    std::size_t want = out.size();
    if (static_cast<std::uint64_t>(want) > static_cast<std::uint64_t>(remaining_))
      want = static_cast<std::size_t>(remaining_);
    std::size_t n;
    if (c_.r < c_.w) {
      n = std::min(want, c_.w - c_.r);
      std::memcpy(out.data(), c_.buf.get() + c_.r, n);
      c_.r += n;
    } else {
      n = c_.c.read(out.first(want), ec);
      if (n == 0) {
        broken_ = true;
        if (!ec) ec = std::make_error_code(std::errc::connection_aborted);  // io.ErrUnexpectedEOF
        return 0;
      }
    }
    remaining_ -= static_cast<std::int64_t>(n);
    if (remaining_ == 0) done_ = true;
    return n;
  }
  // chunked
  for (;;) {
    std::size_t used = 0;
    std::string_view data;
    auto st = chunked_.decode(c_.buffered(), out.size(), &used, &data);
    c_.r += used;
    switch (st) {
      case chunked_decoder::status::data:
        std::memcpy(out.data(), data.data(), data.size());
        if (!data.empty()) return data.size();
        break;
      case chunked_decoder::status::done:
        done_ = true;
        return 0;
      case chunked_decoder::status::error:
        broken_ = true;
        ec = make_error_code(errc::malformed_body);
        return 0;
      case chunked_decoder::status::need_more:
        if (c_.fill(c_.cap == 0 ? 4096 : c_.cap, ec) == 0) {
          broken_ = true;
          if (!ec) ec = std::make_error_code(std::errc::connection_aborted);
          return 0;
        }
        break;
    }
  }
}

bool conn_body::discard(std::size_t limit) noexcept {
  std::byte sink[4096];
  std::size_t total = 0;
  std::error_code ec;
  while (!done_ && !broken_ && total <= limit) {
    std::size_t n = read(sink, ec);
    if (n == 0) break;
    total += n;
  }
  return done_;
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

void serve_conn(std::unique_ptr<conn_state> owned) {
  conn_state& c = *owned;
  server::state& st = *c.srv;
  const server_config& cfg = st.cfg;
  const std::size_t head_limit = st.max_header_bytes + 4096;  // Go's initialReadLimitSize
  const auto header_timeout = pick(cfg.read_header_timeout, cfg.read_timeout);
  const auto idle_timeout = pick(cfg.idle_timeout, cfg.read_timeout);
  bool read_deadline_set = false;
  bool first = true;
  std::error_code ec;

  auto skip_blank_lines = [&c] {
    // RFC 9112 §2.2: empty lines before a request-line are ignored.
    while (c.r < c.w && (c.buf[c.r] == '\r' || c.buf[c.r] == '\n')) {
      if (c.buf[c.r] == '\r' && (c.r + 1 >= c.w || c.buf[c.r + 1] != '\n')) break;
      c.r += c.buf[c.r] == '\r' ? 2 : 1;
    }
  };

  try {
    for (;;) {
      // 1. Wait for the first byte of the next request.
      if (!first) {
        c.ph.store(phase::idle, std::memory_order_release);
        if (st.in_shutdown()) {
          st.notify_change();
          break;
        }
        if (idle_timeout.count() > 0) {
          c.c.set_read_deadline(std::chrono::steady_clock::now() + idle_timeout);
          read_deadline_set = true;
        } else if (read_deadline_set) {
          c.c.set_read_deadline(no_deadline);
          read_deadline_set = false;
        }
      } else if (header_timeout.count() > 0) {
        c.c.set_read_deadline(c.born + header_timeout);
        read_deadline_set = true;
      }
      skip_blank_lines();
      while (c.r == c.w) {
        if (c.fill(head_limit, ec) == 0) goto done;
        skip_blank_lines();
      }

      // 2. Active: from here the request is served to its end.
      phase expected = first ? phase::fresh : phase::idle;
      if (!c.ph.compare_exchange_strong(expected, phase::active, std::memory_order_acq_rel)) goto done;
      const auto t0 = std::chrono::steady_clock::now();
      if (!first) {
        if (header_timeout.count() > 0) {
          c.c.set_read_deadline(t0 + header_timeout);
          read_deadline_set = true;
        } else if (read_deadline_set) {
          c.c.set_read_deadline(no_deadline);
          read_deadline_set = false;
        }
      }

      // 3. The head.
      std::size_t scanned = 0, head_len;
      while ((head_len = find_head_end(c.buffered(), scanned)) == 0) {
        if (c.w - c.r >= head_limit) {
          reply_error_and_close(c, 431, "");
          goto done;
        }
        if (c.fill(head_limit, ec) == 0) {
          if (ec == std::errc::no_buffer_space) reply_error_and_close(c, 431, "");
          goto done;  // EOF, error, or the header timeout: close without an answer (Go)
        }
      }
      if (head_len > head_limit) {
        reply_error_and_close(c, 431, "");
        goto done;
      }
      parse_error perr;
      if (!parse_request_head(std::string_view(c.buf.get() + c.r, head_len), c.head, perr)) {
        reply_error_and_close(c, perr.status, perr.reason);
        goto done;
      }
      request req;
      if (!build_request(c, req)) {
        reply_error_and_close(c, 400, "malformed request URI");
        goto done;
      }
      c.r += head_len;
      if (c.head.expect_other) {
        reply_error_and_close(c, 417, "");
        goto done;
      }

      // 4. The body's and the response's deadlines.
      if (cfg.read_timeout.count() > 0) {
        c.c.set_read_deadline(t0 + cfg.read_timeout);
        read_deadline_set = true;
      } else if (read_deadline_set) {
        c.c.set_read_deadline(no_deadline);
        read_deadline_set = false;
      }
      if (cfg.write_timeout.count() > 0)
        c.c.set_write_deadline(std::chrono::steady_clock::now() + cfg.write_timeout);

      c.body.reset(c.head, c.head.expect_continue);
      c.writer.reset(req, !c.head.close && !st.in_shutdown());
      auto [rctx, rcancel] = with_cancel(c.ctx);
      req.set_context(std::move(rctx));

      // 5. The handler.
      bool threw = false;
      try {
        if (cfg.handler) cfg.handler(c.writer, req);
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
      rcancel();
      if (threw) goto done;

      // 6. What the handler left of the body, then the response's end.
      bool body_left = false;
      if (!c.body.done()) {
        if (c.body.continue_pending() || c.body.broken() || !c.body.discard(kMaxPostHandlerRead)) {
          c.writer.set_close();
          body_left = true;
        }
      }
      if (!c.writer.finish()) goto done;
      if (!c.writer.keep_alive()) {
        if (body_left) close_write_and_wait(c);
        goto done;
      }
      first = false;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http: connection %s: %s\n", c.remote.c_str(), e.what());
  }
done:
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
