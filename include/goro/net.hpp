// goro/net.hpp — Go's net package for TCP (IPv4, IPv6) and Unix sockets.
//
// Blocking calls park only the goroutine: descriptors are non-blocking and
// registered with the runtime's poller (epoll, edge-triggered). A conn is a
// cheap shared handle; one goroutine may read while another writes, and
// close() from any goroutine fails both blocked calls with
// goro::errc::closed. Failures throw std::system_error; the overloads
// taking a trailing std::error_code& do not throw. A passed deadline gives
// goro::errc::deadline_exceeded. Writing to a connection the peer closed is
// EPIPE, never SIGPIPE.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <goro/context.hpp>
#include <goro/errc.hpp>
#include <goro/time.hpp>

namespace goro {

// Clears a deadline: conn.set_deadline(goro::no_deadline).
inline constexpr time_point no_deadline{};

namespace net {

namespace detail {
struct netfd;
}

class conn {
 public:
  conn() noexcept = default;
  explicit conn(std::shared_ptr<detail::netfd> fd) noexcept : fd_(std::move(fd)) {}

  // Reads what is available (at least one byte); 0 at end of stream.
  std::size_t read(std::span<std::byte> buf);
  std::size_t read(std::span<std::byte> buf, std::error_code& ec) noexcept;
  // Writes all of buf.
  std::size_t write(std::span<const std::byte> buf);
  std::size_t write(std::span<const std::byte> buf, std::error_code& ec) noexcept;
  std::size_t write(std::string_view s) { return write(std::as_bytes(std::span<const char>(s.data(), s.size()))); }
  std::size_t write(std::string_view s, std::error_code& ec) noexcept {
    return write(std::as_bytes(std::span<const char>(s.data(), s.size())), ec);
  }
  void close() noexcept;
  void close_write();
  void set_deadline(time_point tp);
  void set_read_deadline(time_point tp);
  void set_write_deadline(time_point tp);
  std::string local_addr() const;
  std::string remote_addr() const;
  int native_handle() const noexcept;
  explicit operator bool() const noexcept { return fd_ != nullptr; }
  friend bool operator==(const conn& a, const conn& b) noexcept { return a.fd_ == b.fd_; }

 private:
  std::shared_ptr<detail::netfd> fd_;
};

class listener {
 public:
  listener() noexcept = default;
  explicit listener(std::shared_ptr<detail::netfd> fd) noexcept : fd_(std::move(fd)) {}
  listener(listener&&) noexcept = default;
  listener& operator=(listener&&) noexcept = default;

  conn accept();
  conn accept(std::error_code& ec) noexcept;
  std::string addr() const;
  // A blocked accept then fails with errc::closed.
  void close() noexcept;
  int native_handle() const noexcept;
  explicit operator bool() const noexcept { return fd_ != nullptr; }

 private:
  std::shared_ptr<detail::netfd> fd_;
};

// network: "tcp", "tcp4", "tcp6" (address "host:port", "[v6]:port", ":port";
// port 0 picks a free one) or "unix" (address: a filesystem path).
listener listen(std::string_view network, std::string_view address);
conn dial(std::string_view network, std::string_view address);
conn dial(std::string_view network, std::string_view address, std::error_code& ec) noexcept;
conn dial(const context& ctx, std::string_view network, std::string_view address);
conn dial(const context& ctx, std::string_view network, std::string_view address, std::error_code& ec) noexcept;

// io.ReadFull: reads exactly buf.size() bytes; throws on a short read.
std::size_t read_full(conn& c, std::span<std::byte> buf);

// Parks the goroutine until a non-blocking descriptor owned elsewhere is
// readable / writable; returns errc::deadline_exceeded if the deadline
// (no_deadline: none) passes first.
std::error_code wait_readable(int fd, time_point deadline = no_deadline);
std::error_code wait_writable(int fd, time_point deadline = no_deadline);

// net.LookupHost: the addresses of name (resolved inside goro::blocking).
std::vector<std::string> lookup_host(std::string_view name);

}  // namespace net
}  // namespace goro
