// src/http/server.cpp — http::server: listeners, the accept loop, the set
// of connections, shutdown and close.
//
// Shutdown follows Go's Server.Shutdown: it marks the server as shutting
// down (no connection is kept alive after its current response; responses
// written from then on say "Connection: close"), closes the listeners (each
// serve() returns server_closed), starts the on-shutdown functions, then
// repeatedly closes the connections that are idle until none is left or the
// context ends. It wakes when a connection goes idle or ends (state::changed)
// and, for fresh connections that have sent nothing, every 500 ms at most
// (they are closed once 5 s old, as in Go: a client that just connected is
// probably about to send its request).
#include <cerrno>
#include <cstdio>

#include "goro/goro.hpp"
#include "http/server_impl.hpp"

namespace goro::http {

using detail::conn_state;
using detail::phase;

server::state::state(server_config c)
    : cfg(std::move(c)),
      max_header_bytes(cfg.max_header_bytes ? cfg.max_header_bytes : std::size_t{1} << 20),
      changed(make_chan<std::monostate>(1)) {}

void server::state::notify_change() noexcept {
  if (!in_shutdown()) return;
  try {
    std::monostate m;
    (void)changed.try_send(m);
  } catch (...) {
  }
}

bool server::state::close_idle() {
  std::lock_guard lk(mu);
  const auto now = std::chrono::steady_clock::now();
  for (conn_state* c : conns) {
    phase p = c->ph.load(std::memory_order_acquire);
    if (p == phase::fresh && now - c->born < std::chrono::seconds(5)) continue;
    if ((p == phase::idle || p == phase::fresh) && c->ph.compare_exchange_strong(p, phase::closed))
      c->c.close();  // its goroutine wakes with an error and removes itself
  }
  // A connection leaves the set only when its goroutine is done with it.
  return conns.empty() && serving == 0;
}

void server::state::close_listeners() {
  std::lock_guard lk(mu);
  for (net::listener* l : listeners) l->close();
}

server::server(server_config cfg) : st_(std::make_shared<state>(std::move(cfg))) {}

server::~server() { close(); }

std::string server::addr() const {
  std::lock_guard lk(st_->mu);
  return st_->addr;
}

std::error_code server::listen_and_serve() {
  if (st_->in_shutdown()) return errc::server_closed;
  std::string a = st_->cfg.addr.empty() ? std::string(":http") : st_->cfg.addr;
  if (a.size() >= 5 && a.compare(a.size() - 5, 5, ":http") == 0) a.replace(a.size() - 4, 4, "80");
  net::listener l;
  try {
    l = net::listen("tcp", a);
  } catch (const std::system_error& e) {
    return e.code();
  }
  return serve(std::move(l));
}

std::error_code server::serve(net::listener l) {
  const std::shared_ptr<state> keep = st_;  // serve may outlive the server object (it must not, but then safely)
  state& st = *keep;
  {
    std::lock_guard lk(st.mu);
    if (st.in_shutdown()) {
      l.close();
      return errc::server_closed;
    }
    st.listeners.push_back(&l);
    ++st.serving;
    try {
      st.addr = l.addr();
    } catch (...) {
    }
  }
  std::error_code result;
  std::chrono::milliseconds backoff{0};
  for (;;) {
    std::error_code ec;
    net::conn c = l.accept(ec);
    if (ec) {
      if (st.in_shutdown()) {
        result = errc::server_closed;
        break;
      }
      const int e = ec.category() == std::system_category() ? ec.value() : 0;
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM || e == ECONNABORTED || e == EINTR || e == EAGAIN ||
          e == EPROTO || e == EPERM) {
        // Go's "temporary" accept errors: back off 5 ms, doubling to 1 s.
        backoff = backoff.count() == 0 ? std::chrono::milliseconds(5) : backoff * 2;
        if (backoff > std::chrono::seconds(1)) backoff = std::chrono::seconds(1);
        std::fprintf(stderr, "http: Accept error: %s; retrying in %lldms\n", ec.message().c_str(),
                     static_cast<long long>(backoff.count()));
        goro::sleep(backoff);
        continue;
      }
      result = ec;
      break;
    }
    backoff = std::chrono::milliseconds(0);
    auto cs = std::make_unique<conn_state>(keep, std::move(c));
    {
      std::lock_guard lk(st.mu);
      if (st.in_shutdown()) {
        cs->c.close();
        continue;  // the next accept fails: the listener is closed
      }
      st.conns.insert(cs.get());
    }
    goro::go(spawn_options{.name = "http conn"}, [cs = std::move(cs)]() mutable { detail::serve_conn(std::move(cs)); });
  }
  {
    std::lock_guard lk(st.mu);
    std::erase(st.listeners, &l);
    --st.serving;
  }
  l.close();
  st.notify_change();
  return result;
}

std::error_code server::shutdown(const goro::context& ctx) {
  const std::shared_ptr<state> keep = st_;
  state& st = *keep;
  st.shutting_down.store(true, std::memory_order_release);
  st.close_listeners();
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lk(st.mu);
    hooks = st.on_shutdown;
  }
  for (auto& f : hooks) goro::go(f);

  std::chrono::milliseconds interval{1};
  for (;;) {
    if (st.close_idle()) return {};
    bool ctx_done = false;
    goro::select(goro::case_recv(ctx.done(), [&] { ctx_done = true; }), goro::case_recv(st.changed),
                 goro::case_recv(goro::after(interval)));
    if (ctx_done) return ctx.err();
    interval = std::min(interval * 2, std::chrono::milliseconds(500));
  }
}

void server::close() noexcept {
  if (!st_) return;
  state& st = *st_;
  st.shutting_down.store(true, std::memory_order_release);
  st.closed.store(true, std::memory_order_release);
  try {
    std::lock_guard lk(st.mu);
    for (net::listener* l : st.listeners) l->close();
    for (conn_state* c : st.conns) {
      c->ph.store(phase::closed, std::memory_order_release);
      c->c.close();
      c->cancel();
    }
  } catch (...) {
  }
}

void server::register_on_shutdown(std::function<void()> f) {
  std::lock_guard lk(st_->mu);
  st_->on_shutdown.push_back(std::move(f));
}

std::error_code listen_and_serve(std::string_view addr, handler h) {
  server s(server_config{.addr = std::string(addr), .handler = std::move(h)});
  return s.listen_and_serve();
}

std::error_code serve(net::listener l, handler h) {
  server s(server_config{.addr = {}, .handler = std::move(h)});
  return s.serve(std::move(l));
}

}  // namespace goro::http
