// differential_test.cpp — goro's HTTP/1.1 request parser beside two
// independent ones over a corpus of valid and invalid messages, the request
// smuggling cases among them:
//  - llhttp (Node.js's parser; Debian's node-llhttp ships its C sources in
//    /usr/share/llhttp, compiled into this test only, never copied), strict
//    mode (no lenient flags);
//  - h11 (Python; Debian's python3-h11), run by /usr/bin/python3.
// Each parser gives each message a verdict: "ok <body as hex>" (the first
// request is complete; its body de-chunked), "reject", or "incomplete". Where
// llhttp and h11 agree, goro must agree too, unless the case is listed in
// `deliberate` with the reason goro (following Go or the API contract)
// differs. Where they disagree, goro must side with one of them; the test
// prints which.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "llhttp.h"
}

#include "http/parse.hpp"

namespace {

using namespace goro::http::detail;

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string goro_verdict(std::string_view msg) {
  std::size_t scanned = 0;
  // Leading empty lines are skipped by the server before a request line.
  while (msg.substr(0, 2) == "\r\n") msg.remove_prefix(2);
  const std::size_t end = find_head_end(msg, scanned);
  if (end == 0) return "incomplete";
  request_head h;
  parse_error err;
  if (!parse_request_head(msg.substr(0, end), h, err)) return "reject";
  std::string_view rest = msg.substr(end);
  switch (h.body) {
    case body_kind::none:
    case body_kind::until_close: return "ok ";
    case body_kind::length:
      if (rest.size() < static_cast<std::uint64_t>(h.content_length)) return "incomplete";
      return "ok " + hex(rest.substr(0, static_cast<std::size_t>(h.content_length)));
    case body_kind::chunked: {
      chunked_decoder d;
      std::string body;
      for (;;) {
        std::size_t used = 0;
        std::string_view data;
        auto st = d.decode(rest, 1 << 20, &used, &data);
        rest.remove_prefix(used);
        if (st == chunked_decoder::status::data) body.append(data);
        if (st == chunked_decoder::status::done) return "ok " + hex(body);
        if (st == chunked_decoder::status::error) return "reject";
        if (st == chunked_decoder::status::need_more) return "incomplete";
      }
    }
  }
  return "reject";
}

struct llhttp_result {
  std::string body;
  bool complete = false;
};

int on_body(llhttp_t* p, const char* at, std::size_t n) {
  static_cast<llhttp_result*>(p->data)->body.append(at, n);
  return 0;
}

int on_complete(llhttp_t* p) {
  static_cast<llhttp_result*>(p->data)->complete = true;
  return HPE_PAUSED;  // only the first message counts
}

std::string llhttp_verdict(std::string_view msg) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_body = on_body;
  settings.on_message_complete = on_complete;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &settings);
  llhttp_result r;
  parser.data = &r;
  llhttp_errno_t e = llhttp_execute(&parser, msg.data(), msg.size());
  if (r.complete) return "ok " + hex(r.body);
  if (e == HPE_OK) return "incomplete";
  return "reject";
}

// The h11 verdicts of every message, by running /usr/bin/python3 once.
std::vector<std::string> h11_verdicts(const std::vector<std::string>& corpus) {
  char in_path[] = "/tmp/goro-diff-XXXXXX";
  int fd = ::mkstemp(in_path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream out(in_path);
    for (const auto& m : corpus) out << hex(m) << "\n";
  }
  const std::string script = R"PY(
import sys, h11
def verdict(data):
    c = h11.Connection(h11.SERVER)
    try:
        c.receive_data(data)
        ev = c.next_event()
        if ev is h11.NEED_DATA: return 'incomplete'
        if not isinstance(ev, h11.Request): return 'reject'
        body = b''
        while True:
            ev = c.next_event()
            if isinstance(ev, h11.Data): body += ev.data
            elif isinstance(ev, h11.EndOfMessage): return 'ok ' + body.hex()
            elif ev is h11.NEED_DATA: return 'incomplete'
            else: return 'reject'
    except h11.RemoteProtocolError:
        return 'reject'
for line in open(sys.argv[1]):
    print(verdict(bytes.fromhex(line.strip())))
)PY";
  const std::string cmd = "/usr/bin/python3 -c \"$(cat <<'EOF'\n" + script + "\nEOF\n)\" " + in_path;
  std::vector<std::string> out;
  FILE* f = ::popen(cmd.c_str(), "r");
  char line[1 << 16];
  while (f && std::fgets(line, sizeof line, f)) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    out.push_back(s);
  }
  if (f) {
    EXPECT_EQ(::pclose(f), 0) << "python3-h11 missing? (apt-get install python3-h11)";
  }
  ::unlink(in_path);
  return out;
}

struct named {
  const char* name;
  std::string msg;
};

const std::vector<named>& corpus() {
  static const std::vector<named> c = {
      {"simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"GET with query", "GET /p?q=1&r=%20 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"},
      {"HTTP/1.0 no Host", "GET / HTTP/1.0\r\n\r\n"},
      {"POST length", "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"},
      {"POST length short", "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello"},
      {"POST chunked", "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
      {"chunked with extension",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\n\r\n"},
      {"chunked with trailer",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nT: v\r\n\r\n"},
      {"chunked uppercase hex",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n"},
      {"chunked incomplete", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"},
      {"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"},
      {"two equal CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"},
      {"two differing CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy"},
      {"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx"},
      {"CL plus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx"},
      {"CL negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"},
      {"CL huge", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"},
      {"TE chunked, gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"},
      {"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
      {"TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"TE twice",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE with vertical tab",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0b"
       "chunked\r\n\r\n0\r\n\r\n"},
      {"TE space before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"},
      {"obs-fold on TE", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n"},
      {"bare LF lines", "GET / HTTP/1.1\nHost: a\n\n"},
      {"bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"},
      {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35)},
      {"control byte in value",
       "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01"
       "b\r\n\r\n"},
      {"space in name", "GET / HTTP/1.1\r\nHost: a\r\nX Y: z\r\n\r\n"},
      {"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n"},
      {"no colon", "GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n"},
      {"missing Host 1.1", "GET / HTTP/1.1\r\n\r\n"},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"HTTP/2.0 line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"},
      {"bad version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n"},
      {"lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n"},
      {"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"bad method char", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"custom token method", "PURGE / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"huge chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n"},
      {"chunk size 2^63", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8000000000000000\r\n"},
      {"chunk no CRLF after data",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"},
      {"chunk size with space",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n"},
      {"chunk size junk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n"},
      {"chunk empty size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n"},
      {"chunk bare LF", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n"},
      {"header value with tab", "GET / HTTP/1.1\r\nHost: a\r\nX:\tv\t\r\n\r\n"},
      {"header obs-text", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n"},
      {"absolute-form target", "GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"asterisk target", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"incomplete head", "GET / HTTP/1.1\r\nHost: a\r\n"},
  };
  return c;
}

// Cases where goro departs, on purpose, from what both references do.
const std::map<std::string, std::string>& deliberate() {
  static const std::map<std::string, std::string> d = {
      {"two equal CL", "Go's fixLength accepts repeated equal Content-Lengths as one value"},
      {"bare LF lines", "Go (textproto) and RFC 9112 §2.2 accept a bare LF as a line end"},
      {"chunk size with space", "Go trims trailing whitespace from the size line"},
      {"obs-fold",
       "RFC 9112 §5.2 lets a server answer obs-fold with 400; goro does (a folded field is a smuggling "
       "vector: see 'obs-fold on TE')"},
      {"HTTP/2.0 line", "Go answers a major version other than 1 with 505 (the API contract too)"},
      {"chunk size 2^63", "a chunk of 2^63 bytes or more is refused at once: no int64 holds its size"},
  };
  return d;
}

TEST(Differential, GoroAgreesWithLlhttpAndH11) {
  std::vector<std::string> msgs;
  for (const auto& n : corpus()) msgs.push_back(n.msg);
  const std::vector<std::string> h11 = h11_verdicts(msgs);
  ASSERT_EQ(h11.size(), msgs.size()) << "h11 did not answer for every message";
  int agreed = 0, sided = 0;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const std::string name = corpus()[i].name;
    const std::string g = goro_verdict(msgs[i]), l = llhttp_verdict(msgs[i]), p = h11[i];
    auto kind = [](const std::string& v) { return v.substr(0, v.find(' ')); };
    if (l == p) {
      ++agreed;
      if (g != l && !deliberate().count(name))
        ADD_FAILURE() << name << ": goro says " << g << ", llhttp and h11 say " << l;
      if (g == l && deliberate().count(name))
        std::printf("note: '%s' listed as deliberate but all three agree now\n", name.c_str());
    } else {
      ++sided;
      const bool with_one = g == l || g == p || kind(g) == "reject";
      std::printf("%-26s goro %-10.10s llhttp %-10.10s h11 %-10.10s%s\n", name.c_str(), g.c_str(), l.c_str(), p.c_str(),
                  deliberate().count(name) ? "  (deliberate)" : "");
      if (!with_one && !deliberate().count(name))
        ADD_FAILURE() << name << ": goro (" << g << ") sides with neither llhttp (" << l << ") nor h11 (" << p
                      << ") and does not reject";
    }
  }
  std::printf("%d messages: llhttp and h11 agree on %d, differ on %d\n", static_cast<int>(msgs.size()), agreed, sided);
}

}  // namespace
