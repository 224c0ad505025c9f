// src/http/body.hpp — a connection's read buffer and the reader of a
// message body over it, shared by the server (request bodies) and the
// client (response bodies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>

#include "goro/net.hpp"
#include "http/parse.hpp"

namespace goro::http::detail {

// Bytes read from a connection and not yet consumed: [r, w) of buf.
struct read_buffer {
  std::unique_ptr<char[]> buf;
  std::size_t cap = 0, r = 0, w = 0;

  std::string_view buffered() const noexcept { return {buf.get() + r, w - r}; }
  bool empty() const noexcept { return r == w; }
  // Reads more from c (compacting, or growing the buffer up to limit bytes
  // in all); 0 at end of stream or on an error (ec set; a full buffer at the
  // limit is std::errc::no_buffer_space).
  std::size_t fill(net::conn& c, std::size_t limit, std::error_code& ec) noexcept;
};

// Reads one body framed as a head said: a length, chunked (de-chunked as it
// goes), or up to the end of the stream.
class body_reader {
 public:
  void reset(body_kind kind, std::int64_t length, std::size_t max_trailer_bytes) noexcept;
  // At most out.size() bytes of body, served from the buffer first; 0 at
  // the end of the body or on an error (ec set, and the body broken).
  std::size_t read(read_buffer& in, net::conn& c, std::span<std::byte> out, std::error_code& ec) noexcept;
  // Reads and drops what is left, up to limit bytes; true if the body ended.
  bool discard(read_buffer& in, net::conn& c, std::size_t limit) noexcept;
  bool done() const noexcept { return done_; }
  bool broken() const noexcept { return broken_; }

 private:
  body_kind kind_ = body_kind::none;
  std::int64_t remaining_ = 0;
  chunked_decoder chunked_;
  bool done_ = true;
  bool broken_ = false;
};

}  // namespace goro::http::detail
