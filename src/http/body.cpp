// src/http/body.cpp — see body.hpp.
#include "http/body.hpp"

#include <algorithm>
#include <cstring>

#include "goro/http.hpp"

namespace goro::http::detail {

namespace {
constexpr std::size_t kInitialBuffer = 4096;
}

std::size_t read_buffer::fill(net::conn& c, std::size_t limit, std::error_code& ec) noexcept {
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

void body_reader::reset(body_kind kind, std::int64_t length, std::size_t max_trailer_bytes) noexcept {
  kind_ = kind;
  remaining_ = kind == body_kind::length ? length : 0;
  chunked_ = chunked_decoder(max_trailer_bytes);
  done_ = kind == body_kind::none || (kind == body_kind::length && length == 0);
  broken_ = false;
}

std::size_t body_reader::read(read_buffer& in, net::conn& c, std::span<std::byte> out, std::error_code& ec) noexcept {
  ec.clear();
  if (done_ || out.empty()) return 0;
  if (broken_) {
    ec = make_error_code(errc::malformed_body);
    return 0;
  }
  if (kind_ == body_kind::length || kind_ == body_kind::until_close) {
    std::size_t want = out.size();
    if (kind_ == body_kind::length && static_cast<std::uint64_t>(want) > static_cast<std::uint64_t>(remaining_))
      want = static_cast<std::size_t>(remaining_);
    std::size_t n;
    if (!in.empty()) {
      n = std::min(want, in.w - in.r);
      std::memcpy(out.data(), in.buf.get() + in.r, n);
      in.r += n;
    } else {
      // A long body goes straight into the caller's span.
      n = c.read(out.first(want), ec);
      if (n == 0) {
        if (kind_ == body_kind::until_close && !ec) {
          done_ = true;
          return 0;
        }
        broken_ = true;
        if (!ec) ec = std::make_error_code(std::errc::connection_aborted);  // io.ErrUnexpectedEOF
        return 0;
      }
    }
    if (kind_ == body_kind::length) {
      remaining_ -= static_cast<std::int64_t>(n);
      if (remaining_ == 0) done_ = true;
    }
    return n;
  }
  for (;;) {  // chunked
    std::size_t used = 0;
    std::string_view data;
    auto st = chunked_.decode(in.buffered(), out.size(), &used, &data);
    in.r += used;
    switch (st) {
      case chunked_decoder::status::data:
        std::memcpy(out.data(), data.data(), data.size());
        if (!data.empty()) return data.size();
        break;
      case chunked_decoder::status::done: done_ = true; return 0;
      case chunked_decoder::status::error:
        broken_ = true;
        ec = make_error_code(errc::malformed_body);
        return 0;
      case chunked_decoder::status::need_more:
        if (in.fill(c, in.cap == 0 ? kInitialBuffer : in.cap, ec) == 0) {
          broken_ = true;
          if (!ec) ec = std::make_error_code(std::errc::connection_aborted);
          return 0;
        }
        break;
    }
  }
}

bool body_reader::discard(read_buffer& in, net::conn& c, std::size_t limit) noexcept {
  std::byte sink[4096];
  std::size_t total = 0;
  std::error_code ec;
  while (!done_ && !broken_ && total <= limit) {
    std::size_t n = read(in, c, sink, ec);
    if (n == 0) break;
    total += n;
  }
  return done_;
}

}  // namespace goro::http::detail
