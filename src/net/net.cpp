// net.cpp — sockets on the poller: listen, accept, dial, read, write.
//
// A netfd owns a non-blocking descriptor and its PollDesc. Every operation
// holds a reference (refs) while it uses the descriptor; close() marks the
// PollDesc closing, wakes both blocked sides, and drops the open
// reference; the descriptor is closed and deregistered by whoever drops
// the last reference, so a concurrent read never sees a reused fd number.
// Operations loop: try the system call; on EAGAIN park on the PollDesc
// (poll_wait), which returns early on close and deadlines.
#include "goro/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "goro/runtime.hpp"
#include "goro/select.hpp"
#include "net/netpoll.hpp"
#include "runtime/sanitizer.hpp"

namespace goro::net {

namespace detail {

struct netfd {
  int fd = -1;
  rt::PollDesc* pd = nullptr;
  std::atomic<int> refs{1};  // the open reference + operations in flight
  std::atomic<bool> closed{false};
  std::atomic<bool> released{false};  // the descriptor was closed (once)
  // The last read was short: the socket's receive queue was empty then, so
  // the next read waits for an edge before its system call (conn::read).
  std::atomic<bool> drained{false};
  std::string bound;  // a listener's address, kept for addr() after close (as Go's Listener.Addr)
  ~netfd() { close(); }
  void close() noexcept {
    if (closed.exchange(true, std::memory_order_acq_rel)) return;
    rt::poll_evict(pd);
    unref();
  }
  bool ref() noexcept {
    refs.fetch_add(1, std::memory_order_acq_rel);
    if (closed.load(std::memory_order_acquire)) {
      unref();
      return false;
    }
    return true;
  }
  void unref() noexcept {
    rt::san::release(this);
    if (refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    rt::san::acquire(this);
    if (released.exchange(true, std::memory_order_acq_rel)) return;  // an op after close
    if (rt::netpoll_inited()) rt::netpoll_close(fd);
    ::close(fd);
    rt::PollDesc* p = pd;
    pd = nullptr;
    if (p) rt::poll_free(p);
  }
};

}  // namespace detail

namespace {

using detail::netfd;

struct Use {  // an operation's reference on a netfd
  netfd* f;
  bool ok;
  explicit Use(netfd* x) : f(x), ok(x && x->ref()) {}
  ~Use() {
    if (ok) f->unref();
  }
};

std::error_code sys(int e) { return {e, std::generic_category()}; }
std::error_code closed_ec() { return make_error_code(errc::closed); }

std::int64_t to_deadline(time_point tp) {
  if (tp == no_deadline) return 0;
  std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
  return ns > rt::nanotime() ? ns : -1;  // -1: already passed
}

// Waits until fd is ready for mode: the poller for goroutines, poll(2) on a
// plain thread. Returns an error code (closed / deadline) or 0.
std::error_code wait_ready(netfd* f, rt::PollMode mode) {
  int r = rt::poll_wait(f->pd, mode);
  if (r == 0) return {};
  if (r > 0) return make_error_code(static_cast<errc>(r));
  // A plain thread.
  std::int64_t d = (mode == rt::PollMode::read ? f->pd->rd : f->pd->wd).load();
  int timeout = -1;
  if (d != 0) {
    std::int64_t left = d - rt::nanotime();
    if (left <= 0) return make_error_code(errc::deadline_exceeded);
    timeout = static_cast<int>(std::min<std::int64_t>(left / 1'000'000 + 1, 1000));
  } else {
    timeout = 1000;  // re-check closing now and then
  }
  pollfd p{f->fd, static_cast<short>(mode == rt::PollMode::read ? POLLIN : POLLOUT), 0};
  ::poll(&p, 1, timeout);
  return {};
}

std::shared_ptr<netfd> wrap(int fd) {
  auto f = std::make_shared<netfd>();
  f->fd = fd;
  f->pd = rt::poll_alloc();
  f->pd->fd = fd;
  rt::netpoll_init();  // (a socket may come before the first run())
  rt::netpoll_open(fd, f->pd);
  return f;
}

// ---- addresses ----

struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

std::string format(const sockaddr* sa, socklen_t len) {
  char host[INET6_ADDRSTRLEN] = "";
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    std::string out = "[";  // (built in steps: GCC 12 warns falsely on "[" + string)
    out += host;
    out += "]:";
    out += std::to_string(ntohs(in6->sin6_port));
    return out;
  }
  if (sa->sa_family == AF_UNIX) {
    auto* un = reinterpret_cast<const sockaddr_un*>(sa);
    if (len <= offsetof(sockaddr_un, sun_path)) return "";
    return std::string(un->sun_path);
  }
  return "";
}

bool split_host_port(std::string_view a, std::string& host, std::string& port) {
  auto colon = a.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = a.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  host.assign(h.data(), h.size());
  port.assign(a.substr(colon + 1));
  return !port.empty();
}

int family_of(std::string_view network) {
  if (network == "tcp4") return AF_INET;
  if (network == "tcp6") return AF_INET6;
  return AF_UNSPEC;
}

// Resolves "host:port" to socket addresses (numeric hosts without DNS).
std::error_code resolve(std::string_view network, std::string_view address, bool passive, std::vector<Addr>& out) {
  if (network == "unix") {
    Addr a;
    auto* un = reinterpret_cast<sockaddr_un*>(&a.ss);
    un->sun_family = AF_UNIX;
    if (address.size() >= sizeof un->sun_path) return sys(ENAMETOOLONG);
    std::memcpy(un->sun_path, address.data(), address.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() + 1);
    out.push_back(a);
    return {};
  }
  if (network != "tcp" && network != "tcp4" && network != "tcp6") return sys(EAFNOSUPPORT);
  std::string host, port;
  if (!split_host_port(address, host, port)) return sys(EINVAL);
  int fam = family_of(network);
  addrinfo hints{};
  hints.ai_family = fam;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = (passive ? AI_PASSIVE : 0) | AI_NUMERICSERV;
  if (host.empty() && !passive) host = fam == AF_INET6 ? "::1" : "127.0.0.1";
  addrinfo* res = nullptr;
  int rc =
      goro::blocking([&] { return getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res); });
  if (rc != 0) return sys(rc == EAI_NONAME ? EHOSTUNREACH : EINVAL);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Addr a;
    std::memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    out.push_back(a);
  }
  freeaddrinfo(res);
  // Listening on ":port": prefer IPv4 wildcard unless tcp6 was asked for.
  if (passive && host.empty() && fam == AF_UNSPEC)
    std::stable_sort(out.begin(), out.end(), [](const Addr& x, const Addr& y) {
      return x.ss.ss_family == AF_INET && y.ss.ss_family != AF_INET;
    });
  return out.empty() ? sys(EHOSTUNREACH) : std::error_code{};
}

void set_nodelay(int fd, int family) {
  if (family != AF_INET && family != AF_INET6) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void throw_if(const std::error_code& ec, const char* what) {
  if (ec) throw std::system_error(ec, what);
}

std::error_code connect_one(const Addr& a, const context* ctx, std::shared_ptr<netfd>& out) {
  int fd = ::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys(errno);
  auto f = wrap(fd);
  // A context bounds the connect: its deadline, and its cancellation.
  // The watcher goroutine expires the write deadline when the context is
  // cancelled. Before connect_one returns it closes `stop` and waits for the
  // watcher's verdict on `fired`, so the watcher never touches the socket
  // after the dial is over (as in Go's netFD.connect).
  chan<std::monostate> stop;
  chan<bool> fired;
  if (ctx) {
    if (auto d = ctx->deadline()) rt::poll_set_deadline(f->pd, to_deadline(*d), rt::PollMode::write);
    if (auto done = ctx->done(); !done.is_nil()) {
      stop = make_chan<std::monostate>();
      fired = make_chan<bool>(1);
      goro::go([done, stop, fired, pd = f->pd] {
        bool cancelled = goro::select(case_recv(done), case_recv(stop)) == 0;
        if (cancelled) rt::poll_set_deadline(pd, -1, rt::PollMode::write);
        fired.send(cancelled);
      });
    }
  }
  std::error_code ec;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) {
    if (errno != EINPROGRESS) {
      ec = sys(errno);
    } else {
      for (;;) {
        ec = wait_ready(f.get(), rt::PollMode::write);
        if (ec) break;
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          // Writable with no error may still be "in progress" after a
          // spurious wake-up: check we are connected.
          sockaddr_storage peer;
          socklen_t pl = sizeof peer;
          if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) == 0) break;
          if (errno != ENOTCONN) {
            ec = sys(errno);
            break;
          }
          continue;
        }
        if (err != EINPROGRESS && err != EALREADY) {
          ec = sys(err);
          break;
        }
      }
    }
  }
  if (stop) {
    stop.close();
    // Cancelled while connecting: the dial fails with the context's error
    // even if the connect itself got through (Go does the same).
    if (fired.recv().value_or(false) && !ec) ec = errc::deadline_exceeded;
  }
  if (ec) {
    if (ctx && ec == errc::deadline_exceeded && ctx->err()) ec = ctx->err();
    return ec;
  }
  rt::poll_set_deadline(f->pd, 0, rt::PollMode::write);
  set_nodelay(fd, a.ss.ss_family);
  out = std::move(f);
  return {};
}

conn dial_impl(const context* ctx, std::string_view network, std::string_view address, std::error_code& ec) {
  if (ctx && (ec = ctx->err())) return {};
  std::vector<Addr> addrs;
  if ((ec = resolve(network, address, false, addrs))) return {};
  for (const Addr& a : addrs) {
    std::shared_ptr<netfd> f;
    ec = connect_one(a, ctx, f);
    if (!ec) return conn(std::move(f));
    if (ctx && ctx->err()) break;
  }
  return {};
}

}  // namespace

// ---- conn ----

std::size_t conn::read(std::span<std::byte> buf, std::error_code& ec) noexcept {
  ec.clear();
  Use u(fd_.get());
  if (!u.ok) {
    ec = closed_ec();
    return 0;
  }
  if (buf.empty()) return 0;
  // A stream socket's read that returned less than asked for emptied the
  // receive queue (TCP and Unix stream sockets copy every queued byte up to
  // the length), and bytes that arrive later raise a new edge, which leaves
  // a token if nobody waits. So after a short read the next one waits
  // first: the read that would only have said EAGAIN is not made. The end
  // of the stream is the exception — a FIN that came with or before the
  // short read's bytes raises no later edge — so once the poller has seen
  // RDHUP, HUP or ERR (hup) every read tries its system call first. A
  // token left by an edge whose bytes the short read already took costs
  // one loop, as any spurious wake-up (DESIGN §9, "Short reads").
  if (fd_->drained.load(std::memory_order_relaxed)) {
    fd_->drained.store(false, std::memory_order_relaxed);
    if (rt::current_g() && !fd_->pd->hup.load(std::memory_order_seq_cst) &&
        (ec = wait_ready(fd_.get(), rt::PollMode::read)))
      return 0;
  }
  for (;;) {
    ssize_t n = ::read(fd_->fd, buf.data(), buf.size());
    if (n > 0 && static_cast<std::size_t>(n) < buf.size()) fd_->drained.store(true, std::memory_order_relaxed);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      ec = fd_->closed.load() ? closed_ec() : sys(errno);
      return 0;
    }
    if ((ec = wait_ready(fd_.get(), rt::PollMode::read))) return 0;
  }
}

std::size_t conn::read(std::span<std::byte> buf) {
  std::error_code ec;
  std::size_t n = read(buf, ec);
  throw_if(ec, "read");
  return n;
}

std::size_t conn::write(std::span<const std::byte> buf, std::error_code& ec) noexcept {
  ec.clear();
  Use u(fd_.get());
  if (!u.ok) {
    ec = closed_ec();
    return 0;
  }
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::send(fd_->fd, buf.data() + done, buf.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOTSOCK) {  // not a socket (a pipe given to wait_*): plain write
      n = ::write(fd_->fd, buf.data() + done, buf.size() - done);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
    }
    if (n < 0 && errno != EAGAIN) {
      ec = fd_->closed.load() ? closed_ec() : sys(errno);
      return done;
    }
    if ((ec = wait_ready(fd_.get(), rt::PollMode::write))) return done;
  }
  return done;
}

std::size_t conn::write(std::span<const std::byte> buf) {
  std::error_code ec;
  std::size_t n = write(buf, ec);
  throw_if(ec, "write");
  return n;
}

void conn::close() noexcept {
  if (fd_) fd_->close();
}

void conn::close_write() {
  Use u(fd_.get());
  if (!u.ok) throw std::system_error(closed_ec(), "close_write");
  if (::shutdown(fd_->fd, SHUT_WR) != 0) throw std::system_error(sys(errno), "close_write");
}

void conn::set_deadline(time_point tp) {
  Use u(fd_.get());
  if (u.ok) rt::poll_set_deadline(fd_->pd, to_deadline(tp), rt::PollMode::both);
}
void conn::set_read_deadline(time_point tp) {
  Use u(fd_.get());
  if (u.ok) rt::poll_set_deadline(fd_->pd, to_deadline(tp), rt::PollMode::read);
}
void conn::set_write_deadline(time_point tp) {
  Use u(fd_.get());
  if (u.ok) rt::poll_set_deadline(fd_->pd, to_deadline(tp), rt::PollMode::write);
}

std::string conn::local_addr() const {
  Use u(fd_.get());  // after close the descriptor number may belong to another file
  if (!u.ok) return "";
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd_->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  return format(reinterpret_cast<sockaddr*>(&ss), len);
}

std::string conn::remote_addr() const {
  Use u(fd_.get());  // after close the descriptor number may belong to another file
  if (!u.ok) return "";
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd_->fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  return format(reinterpret_cast<sockaddr*>(&ss), len);
}

int conn::native_handle() const noexcept { return fd_ && !fd_->closed.load(std::memory_order_acquire) ? fd_->fd : -1; }

// ---- listener ----

listener listen(std::string_view network, std::string_view address) {
  std::vector<Addr> addrs;
  throw_if(resolve(network, address, true, addrs), "listen");
  std::error_code ec;
  for (const Addr& a : addrs) {
    int fd = ::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ec = sys(errno);
      continue;
    }
    int one = 1;
    if (a.ss.ss_family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      ec = sys(errno);
      ::close(fd);
      continue;
    }
    auto f = wrap(fd);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      f->bound = format(reinterpret_cast<sockaddr*>(&ss), len);
    return listener(std::move(f));
  }
  throw std::system_error(ec, "listen");
}

conn listener::accept(std::error_code& ec) noexcept {
  ec.clear();
  Use u(fd_.get());
  if (!u.ok) {
    ec = closed_ec();
    return {};
  }
  std::int64_t backoff = 5'000'000;
  for (;;) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = ::accept4(fd_->fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd, ss.ss_family);
      return conn(wrap(fd));
    }
    int e = errno;
    if (e == EINTR || e == ECONNABORTED) continue;
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
      // Out of descriptors: back off (up to 1 s) and retry, as Go's server does.
      if (fd_->closed.load()) {
        ec = closed_ec();
        return {};
      }
      goro::detail::sleep_ns(backoff);
      backoff = std::min<std::int64_t>(backoff * 2, 1'000'000'000);
      continue;
    }
    if (e != EAGAIN) {
      ec = fd_->closed.load() ? closed_ec() : sys(e);
      return {};
    }
    if ((ec = wait_ready(fd_.get(), rt::PollMode::read))) return {};
  }
}

conn listener::accept() {
  std::error_code ec;
  conn c = accept(ec);
  throw_if(ec, "accept");
  return c;
}

std::string listener::addr() const { return fd_ ? fd_->bound : std::string(); }

void listener::close() noexcept {
  if (fd_) fd_->close();
}

int listener::native_handle() const noexcept {
  return fd_ && !fd_->closed.load(std::memory_order_acquire) ? fd_->fd : -1;
}

// ---- dial and helpers ----

conn dial(std::string_view network, std::string_view address, std::error_code& ec) noexcept {
  try {
    return dial_impl(nullptr, network, address, ec);
  } catch (const std::system_error& e) {
    ec = e.code();
  } catch (...) {
    ec = sys(ENOMEM);
  }
  return {};
}

conn dial(std::string_view network, std::string_view address) {
  std::error_code ec;
  conn c = dial_impl(nullptr, network, address, ec);
  throw_if(ec, "dial");
  return c;
}

conn dial(const context& ctx, std::string_view network, std::string_view address, std::error_code& ec) noexcept {
  try {
    return dial_impl(&ctx, network, address, ec);
  } catch (const std::system_error& e) {
    ec = e.code();
  } catch (...) {
    ec = sys(ENOMEM);
  }
  return {};
}

conn dial(const context& ctx, std::string_view network, std::string_view address) {
  std::error_code ec;
  conn c = dial_impl(&ctx, network, address, ec);
  throw_if(ec, "dial");
  return c;
}

std::size_t read_full(conn& c, std::span<std::byte> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    std::size_t n = c.read(buf.subspan(got));
    if (n == 0) throw std::system_error(sys(EPIPE), got ? "read_full: unexpected EOF" : "read_full: EOF");
    got += n;
  }
  return got;
}

namespace {
std::error_code wait_fd(int fd, time_point deadline, rt::PollMode mode) {
  if (!rt::current_g()) {
    pollfd p{fd, static_cast<short>(mode == rt::PollMode::read ? POLLIN : POLLOUT), 0};
    std::int64_t d = to_deadline(deadline);
    if (d < 0) return make_error_code(errc::deadline_exceeded);
    int timeout = d == 0 ? -1 : static_cast<int>((d - rt::nanotime()) / 1'000'000 + 1);
    return ::poll(&p, 1, timeout) == 0 ? make_error_code(errc::deadline_exceeded) : std::error_code{};
  }
  rt::PollDesc* pd = rt::poll_alloc();
  pd->fd = fd;
  if (!rt::netpoll_open(fd, pd)) {
    rt::poll_free(pd);
    return sys(errno);
  }
  rt::poll_set_deadline(pd, to_deadline(deadline), mode);
  int r = rt::poll_wait(pd, mode);
  rt::poll_set_deadline(pd, 0, rt::PollMode::both);
  rt::netpoll_close(fd);
  rt::poll_free(pd);
  return r ? make_error_code(static_cast<errc>(r)) : std::error_code{};
}
}  // namespace

std::error_code wait_readable(int fd, time_point deadline) { return wait_fd(fd, deadline, rt::PollMode::read); }
std::error_code wait_writable(int fd, time_point deadline) { return wait_fd(fd, deadline, rt::PollMode::write); }

std::vector<std::string> lookup_host(std::string_view name) {
  std::string host(name);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = goro::blocking([&] { return getaddrinfo(host.c_str(), nullptr, &hints, &res); });
  if (rc != 0) throw std::system_error(sys(EHOSTUNREACH), std::string("lookup ") + host + ": " + gai_strerror(rc));
  std::vector<std::string> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (ai->ai_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, buf, sizeof buf);
    else if (ai->ai_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, buf, sizeof buf);
    else continue;
    if (std::find(out.begin(), out.end(), buf) == out.end()) out.emplace_back(buf);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace goro::net
