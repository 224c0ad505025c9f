// src/http/parse.hpp — the HTTP/1.1 message parser: request heads and
// chunked bodies, read in place from a connection's buffer.
//
// A pull parser in three pieces, none of which allocates or copies:
//
//  - find_head_end measures a head (request line and fields, up to and
//    including the empty line) as bytes arrive. It resumes where the previous
//    call stopped, so a head trickled in byte by byte costs O(n), not O(n²).
//  - parse_request_head parses a complete head into views of the buffer and
//    decides the body's framing. It is strict where leniency lets two parsers
//    disagree on where a message ends (request smuggling): Content-Length and
//    Transfer-Encoding together, differing Content-Lengths, a coding other
//    than a lone "chunked", a bare CR, obs-fold, a NUL or other control byte,
//    whitespace before a field's colon are all rejected. Line ends are CRLF;
//    a bare LF is accepted as one, as Go and RFC 9112 §2.2 allow.
//  - chunked_decoder is a byte-driven state machine over a chunked body:
//    given the buffered bytes it returns the next stretch of data (a view of
//    the input), "need more", the end, or an error. Chunk sizes are at most
//    16 hex digits and below 2^63; extensions are skipped; trailers are read
//    and dropped, bounded in size.
//
// What each rejection answers and with which message follows Go's net/http
// (server.go, transfer.go, textproto); the table of cases is in
// tests/http/parse_test.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace goro::http::detail {

struct field {
  std::string_view name;   // as sent (not canonicalized)
  std::string_view value;  // leading and trailing SP/HTAB removed
};

enum class body_kind : unsigned char {
  none,         // no body (no Content-Length, no Transfer-Encoding)
  length,       // exactly content_length bytes
  chunked,      // Transfer-Encoding: chunked
  until_close,  // a response with neither: the body ends with the connection
};

struct request_head {
  std::string_view method;
  std::string_view target;
  std::string_view version;  // "HTTP/1.1"
  int major = 1;
  int minor = 1;
  std::vector<field> fields;  // in order, Host included

  // Derived from the fields.
  std::string_view host;  // the Host field's value ("" when absent)
  body_kind body = body_kind::none;
  std::int64_t content_length = 0;  // for body_kind::length
  bool close = false;               // the connection ends after this request
  bool expect_continue = false;     // "Expect: 100-continue"
  bool expect_other = false;        // an Expect other than 100-continue (417)

  void clear() noexcept {
    fields.clear();
    host = {};
    body = body_kind::none;
    content_length = 0;
    close = expect_continue = expect_other = false;
  }
};

struct response_head {
  std::string_view version;  // "HTTP/1.1"
  int major = 1;
  int minor = 1;
  int status = 0;
  std::string_view reason;  // "OK"
  std::vector<field> fields;
  body_kind body = body_kind::until_close;
  std::int64_t content_length = -1;  // -1: unknown
  bool close = false;                // the connection ends after this response

  void clear() noexcept {
    fields.clear();
    body = body_kind::until_close;
    content_length = -1;
    close = false;
  }
};

// Why a head was rejected: the status to answer and Go's text for it.
struct parse_error {
  int status = 400;
  std::string_view reason;  // e.g. "malformed Host header" (may be empty)
};

// The length of the head at the start of buf, including its final empty
// line, or 0 while incomplete. *scanned is where the search resumes; start
// it at 0 for each message and keep buf's start fixed between calls.
std::size_t find_head_end(std::string_view buf, std::size_t& scanned) noexcept;

// Parses a complete head (the first find_head_end bytes). On failure returns
// false with err set; out is then partly filled.
bool parse_request_head(std::string_view head, request_head& out, parse_error& err);

// Parses a complete response head; head_request: the request was HEAD (no
// body whatever the fields say). Framing as RFC 9112 §6.3 and Go's
// transfer.go: 1xx/204/304 and HEAD have no body; chunked wins; then
// Content-Length (differing values are an error); else until close.
bool parse_response_head(std::string_view head, bool head_request, response_head& out, parse_error& err);

// ASCII case-insensitive equality.
bool ascii_iequal(std::string_view a, std::string_view b) noexcept;
// Whether a comma-separated field value ("keep-alive, Close") holds token,
// case-insensitively.
bool list_has_token(std::string_view list, std::string_view token) noexcept;

// Token characters (RFC 9110 §5.6.2).
bool is_token_char(unsigned char c) noexcept;
bool is_token(std::string_view s) noexcept;
// A field value byte: anything but a control character other than HTAB.
bool is_field_value_char(unsigned char c) noexcept;
// httpguts.ValidHostHeader.
bool valid_host_header(std::string_view h) noexcept;
// parseContentLength: digits only, at most 2^63-1; -1 when invalid.
std::int64_t parse_content_length(std::string_view s) noexcept;

// A chunked body, decoded incrementally from successive views of the input.
class chunked_decoder {
 public:
  enum class status : unsigned char {
    data,       // *out is chunk data (a view of the input), *consumed bytes used
    need_more,  // everything offered was consumed (*consumed), more input needed
    done,       // the body and its trailers ended (*consumed bytes used)
    error,      // malformed; what() says why
  };

  explicit chunked_decoder(std::size_t max_trailer_bytes = 1 << 20) noexcept : max_trailer_(max_trailer_bytes) {}

  // Decodes from in. Returns data at most max_data bytes long.
  status decode(std::string_view in, std::size_t max_data, std::size_t* consumed, std::string_view* out) noexcept;
  const char* what() const noexcept { return error_; }
  bool finished() const noexcept { return state_ == st::done; }

 private:
  enum class st : unsigned char {
    size,          // hex digits of a chunk size
    size_ws,       // whitespace after the size
    ext,           // a chunk extension, skipped up to the line end
    size_lf,       // after CR of the size line
    data,          // remaining_ bytes of data
    data_cr,       // CR after the data
    data_lf,       // LF after the data
    trailer,       // start of a trailer line (or the final empty line)
    trailer_line,  // inside a trailer line
    trailer_lf,    // after CR of a trailer line
    end_lf,        // after CR of the final empty line
    done,
    failed,
  };
  status fail(const char* why) noexcept {
    state_ = st::failed;
    error_ = why;
    return status::error;
  }
  // fail() for the byte helpers below, which answer true/false.
  bool reject(const char* why) noexcept {
    fail(why);
    return false;
  }
  bool size_line_byte(unsigned char c) noexcept;             // states size .. size_lf
  bool trailer_byte(unsigned char c, bool* ended) noexcept;  // states trailer .. end_lf

  st state_ = st::size;
  unsigned digits_ = 0;
  std::uint64_t remaining_ = 0;
  std::size_t trailer_bytes_ = 0;
  bool colon_ = false;  // a ':' was seen in the current trailer line
  std::size_t max_trailer_;
  const char* error_ = "";
};

}  // namespace goro::http::detail
