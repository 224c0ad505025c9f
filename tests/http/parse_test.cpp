// parse_test.cpp — the HTTP/1.1 parser (src/http/parse.hpp): head
// measurement fed byte by byte agrees with the whole, the table of heads
// accepted and rejected with Go's status, and the chunked decoder over every
// split of its input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/parse.hpp"

namespace {

using namespace goro::http::detail;

std::size_t head_end_fed_bytewise(std::string_view s) {
  std::size_t scanned = 0;
  for (std::size_t n = 1; n <= s.size(); ++n) {
    std::size_t end = find_head_end(s.substr(0, n), scanned);
    if (end) return end;
  }
  return 0;
}

TEST(FindHeadEnd, AgreesWhetherFedWholeOrByteByByte) {
  const std::string heads[] = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.1\nHost: a\n\n",
      "GET / HTTP/1.1\r\nHost: a\n\r\n",   "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nX: \r\r\n\r\n",
  };
  for (const auto& h : heads) {
    std::size_t scanned = 0;
    std::string with_body = h + "BODY";
    EXPECT_EQ(find_head_end(with_body, scanned), h.size()) << h;
    EXPECT_EQ(head_end_fed_bytewise(with_body), h.size()) << h;
  }
}

TEST(FindHeadEnd, IncompleteHeadsAreIncomplete) {
  for (std::string_view s : {"GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r", "GET", ""}) {
    std::size_t scanned = 0;
    EXPECT_EQ(find_head_end(s, scanned), 0u) << s;
    EXPECT_LE(scanned, s.size());
  }
}

TEST(FindHeadEnd, ResumesWithoutRescanning) {
  std::string h = "GET / HTTP/1.1\r\n" + std::string(10000, 'x') + ": y\r\n";
  std::size_t scanned = 0;
  EXPECT_EQ(find_head_end(h, scanned), 0u);
  EXPECT_GE(scanned, h.size() - 1);  // resumes at the last line end at most
  h += "\r\n";
  EXPECT_EQ(find_head_end(h, scanned), h.size());
}

struct head_case {
  const char* name;
  std::string head;
  int status;  // 0: accepted
};

TEST(ParseRequestHead, AcceptsAndRejectsAsGo) {
  const std::vector<head_case> cases = {
      {"simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
      {"LF only", "GET / HTTP/1.1\nHost: a\n\n", 0},
      {"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", 0},
      {"absolute-form", "GET http://a.b/c?d HTTP/1.1\r\nHost: a.b\r\n\r\n", 0},
      {"asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0},
      {"CONNECT authority", "CONNECT a.b:443 HTTP/1.1\r\nHost: a.b:443\r\n\r\n", 0},
      {"value with tab and obs-text", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\xff\r\n\r\n", 0},
      {"empty value", "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n", 0},
      {"minor version 9", "GET / HTTP/1.9\r\nHost: a\r\n\r\n", 0},
      {"same CL twice", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 0},
      {"no request line", "\r\n", 400},
      {"missing target", "GET HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
      {"tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"version long", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
      {"version short", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
      {"method with slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
      {"HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
      {"missing Host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
      {"Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400},
      {"first field folded", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
      {"bare CR", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400},
      {"NUL in name", std::string("GET / HTTP/1.1\r\nHost: a\r\nX\0Y: b\r\n\r\n", 35), 400},
      {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n", 33), 400},
      {"DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", 400},
      {"CL+TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"differing CLs", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"CL with space inside", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400},
      {"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400},
      {"TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"TE chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501},
      {"TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 501},
      {"TE twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n",
       501},
  };
  for (const auto& c : cases) {
    request_head h;
    parse_error err;
    bool ok = parse_request_head(c.head, h, err);
    if (c.status == 0) {
      EXPECT_TRUE(ok) << c.name << ": " << err.status << " " << err.reason;
    } else {
      EXPECT_FALSE(ok) << c.name;
      if (!ok) {
        EXPECT_EQ(err.status, c.status) << c.name << ": " << err.reason;
      }
    }
  }
}

TEST(ParseRequestHead, FillsTheHeadAndTheFraming) {
  request_head h;
  parse_error err;
  std::string s =
      "POST /p?q=1 HTTP/1.1\r\nHost: ex.com\r\nContent-Length:  42 \r\nConnection: keep-alive, Close\r\n"
      "Expect: 100-Continue\r\n\r\n";
  ASSERT_TRUE(parse_request_head(s, h, err));
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.target, "/p?q=1");
  EXPECT_EQ(h.major, 1);
  EXPECT_EQ(h.minor, 1);
  EXPECT_EQ(h.host, "ex.com");
  EXPECT_EQ(h.body, body_kind::length);
  EXPECT_EQ(h.content_length, 42);
  EXPECT_TRUE(h.close);
  EXPECT_TRUE(h.expect_continue);
  ASSERT_EQ(h.fields.size(), 4u);
  EXPECT_EQ(h.fields[1].name, "Content-Length");
  EXPECT_EQ(h.fields[1].value, "42");

  ASSERT_TRUE(parse_request_head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", h, err));
  EXPECT_EQ(h.body, body_kind::chunked);
  ASSERT_TRUE(parse_request_head("GET / HTTP/1.0\r\n\r\n", h, err));
  EXPECT_TRUE(h.close);
  ASSERT_TRUE(parse_request_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", h, err));
  EXPECT_FALSE(h.close);
  ASSERT_TRUE(parse_request_head("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", h, err));
  EXPECT_EQ(h.body, body_kind::none);
}

TEST(ParseContentLength, DigitsOnlyWithinInt64) {
  EXPECT_EQ(parse_content_length("0"), 0);
  EXPECT_EQ(parse_content_length("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_content_length("9223372036854775808"), -1);
  EXPECT_EQ(parse_content_length(""), -1);
  EXPECT_EQ(parse_content_length("+1"), -1);
  EXPECT_EQ(parse_content_length("1a"), -1);
}

// Decodes all of in, offered in pieces of at most piece bytes and read in
// pieces of at most out bytes; the data, or "ERROR".
std::string dechunk(std::string_view in, std::size_t piece, std::size_t out, bool* done = nullptr) {
  chunked_decoder d(4096);
  std::string data, pending;
  std::size_t pos = 0;
  bool ended = false;
  while (!ended) {
    if (pos < in.size()) {
      std::size_t n = std::min(piece, in.size() - pos);
      pending.append(in.substr(pos, n));
      pos += n;
    } else if (pending.empty()) {
      break;
    }
    for (;;) {
      std::size_t used = 0;
      std::string_view got;
      auto st = d.decode(pending, out, &used, &got);
      data.append(got.data(), st == chunked_decoder::status::data ? got.size() : 0);
      pending.erase(0, used);
      if (st == chunked_decoder::status::error) return "ERROR";
      if (st == chunked_decoder::status::done) {
        ended = true;
        break;
      }
      if (st == chunked_decoder::status::need_more) break;
    }
    if (pos >= in.size() && !ended && !pending.empty()) {
      // Nothing more will come; a last pass found the input incomplete.
      break;
    }
  }
  if (done) *done = ended;
  return data;
}

TEST(ChunkedDecoder, EverySplitGivesTheSameData) {
  const std::string body =
      "5\r\nhello\r\n1;name=value\r\n \r\n"
      "10\r\n0123456789abcdef\r\nA \r\n0123456789\r\n0\r\nTrailer: yes\r\nOther: t\r\n\r\n";
  const std::string want = "hello 0123456789abcdef0123456789";
  for (std::size_t piece = 1; piece <= body.size(); ++piece)
    for (std::size_t out : {std::size_t{1}, std::size_t{3}, std::size_t{4096}}) {
      bool done = false;
      EXPECT_EQ(dechunk(body, piece, out, &done), want) << piece << "/" << out;
      EXPECT_TRUE(done);
    }
}

TEST(ChunkedDecoder, LfOnlyLinesAreAccepted) {
  bool done = false;
  EXPECT_EQ(dechunk("3\nabc\r\n0\n\n", 1, 10, &done), "abc");
  EXPECT_TRUE(done);
}

TEST(ChunkedDecoder, RejectsMalformedBodies) {
  const char* bad[] = {
      "x\r\n",                       // not hex
      "\r\n",                        // empty size
      "3\r\nabcX\r\n",               // no CRLF after data
      "3\r\nabc\rX",                 // CR without LF
      "10000000000000000\r\n",       // 17 digits
      "8000000000000000\r\n",        // >= 2^63
      "3 x\r\nabc\r\n",              // junk after the size
      "3\rabc\r\n",                  // bare CR in the size line
      "0\r\nBad Trailer\r\n\r\n",    // space in a trailer name
      "0\r\n: v\r\n\r\n",            // empty trailer name
      "3;\x01\r\nabc\r\n0\r\n\r\n",  // control byte in an extension
  };
  for (const char* b : bad) EXPECT_EQ(dechunk(b, 1, 100), "ERROR") << b;
  // Trailers are bounded.
  std::string big = "0\r\nX: " + std::string(5000, 'a') + "\r\n\r\n";
  EXPECT_EQ(dechunk(big, 100, 100), "ERROR");
}

TEST(ChunkedDecoder, LargestChunkSizeParses) {
  chunked_decoder d;
  std::size_t used = 0;
  std::string_view out;
  auto st = d.decode("7fffffffffffffff\r\nab", 100, &used, &out);
  EXPECT_EQ(st, chunked_decoder::status::data);
  EXPECT_EQ(out, "ab");
}

}  // namespace
