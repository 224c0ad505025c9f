// src/http/pprof.cpp — net/http/pprof: live profiles of the running
// program, mounted with mux.handle("/debug/pprof/", pprof_handler()).
//
//   /debug/pprof/                 an index of the profiles
//   /debug/pprof/goroutine        the goroutine profile (pprof protobuf, gzipped:
//                                 `go tool pprof http://HOST/debug/pprof/goroutine`)
//   /debug/pprof/goroutine?debug=1 or 2   the goroutines as text (dump_goroutines)
//   /debug/pprof/trace?seconds=N  the execution tracer's JSON for N seconds (default 1)
//   /debug/pprof/profile?seconds=N  a CPU profile of N seconds (default 30: Go's),
//                                 gzipped pprof protobuf (goro::start_cpu_profile)
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "goro/goro.hpp"
#include "goro/http.hpp"

namespace goro::http {

namespace {

int seconds_param(const request& r, int dflt) {
  std::string s = r.query("seconds");
  if (s.empty()) return dflt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > 100000) return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

void serve_goroutine(response_writer& w, request& r) {
  std::ostringstream out;
  const std::string debug = r.query("debug");
  if (!debug.empty() && debug != "0") {
    goro::dump_goroutines(out);
    w.header().set("Content-Type", "text/plain; charset=utf-8");
  } else {
    goro::write_goroutine_profile(out);
    w.header().set("Content-Type", "application/octet-stream");
    w.header().set("Content-Disposition", "attachment; filename=\"goroutine\"");
  }
  w.header().set("X-Content-Type-Options", "nosniff");
  w.write(out.str());
}

void serve_trace(response_writer& w, request& r) {
  const int secs = seconds_param(r, 1);
  if (secs < 0) {
    error(w, "invalid value for \"seconds\"", 400);
    return;
  }
  if (goro::trace::enabled()) {
    error(w, "Could not enable tracing: tracing is already enabled", 500);
    return;
  }
  char path[] = "/tmp/goro-pprof-trace-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) {
    error(w, "Could not create a file for the trace", 500);
    return;
  }
  ::close(fd);
  try {
    goro::trace::start(path);
  } catch (const std::exception& e) {
    ::unlink(path);
    error(w, std::string("Could not enable tracing: ") + e.what(), 500);
    return;
  }
  // For the time asked, or until the client goes or the server closes.
  goro::select(goro::case_recv(goro::after(std::chrono::seconds(secs))), goro::case_recv(r.context().done()));
  goro::trace::stop();
  std::string json = goro::blocking([&] {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  });
  ::unlink(path);
  w.header().set("Content-Type", "application/json");
  w.header().set("Content-Disposition", "attachment; filename=\"trace.json\"");
  w.write(json);
}

void serve_profile(response_writer& w, request& r) {
  int secs = seconds_param(r, 30);
  if (secs <= 0) secs = 30;  // as Go: an invalid or zero value is the default
  std::ostringstream out;
  try {
    goro::start_cpu_profile(out);
  } catch (const std::exception& e) {
    error(w, std::string("Could not enable CPU profiling: ") + e.what(), 500);
    return;
  }
  // For the time asked, or until the client goes or the server closes.
  goro::select(goro::case_recv(goro::after(std::chrono::seconds(secs))), goro::case_recv(r.context().done()));
  goro::blocking([] { goro::stop_cpu_profile(); });  // symbolizes: off the processor
  w.header().set("Content-Type", "application/octet-stream");
  w.header().set("Content-Disposition", "attachment; filename=\"profile\"");
  w.write(out.str());
}

void serve_index(response_writer& w, request&) {
  w.header().set("Content-Type", "text/html; charset=utf-8");
  w.write(
      "<html><head><title>/debug/pprof/</title></head><body>/debug/pprof/<br><br>Types of profiles available:"
      "<table><thead><td>Count</td><td>Profile</td></thead>"
      "<tr><td>" +
      std::to_string(goro::num_goroutine()) +
      "</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>"
      "<tr><td></td><td><a href='profile?seconds=30'>profile</a></td></tr>"
      "<tr><td></td><td><a href='trace?seconds=1'>trace</a></td></tr>"
      "</table><a href=\"goroutine?debug=2\">full goroutine stack dump</a></body></html>\n");
}

}  // namespace

handler pprof_handler() {
  return [](response_writer& w, request& r) {
    std::string_view p = r.url.path;
    std::size_t slash = p.rfind('/');
    std::string_view name = slash == std::string_view::npos ? p : p.substr(slash + 1);
    if (name.empty() || name == "pprof") serve_index(w, r);
    else if (name == "goroutine") serve_goroutine(w, r);
    else if (name == "trace") serve_trace(w, r);
    else if (name == "profile") serve_profile(w, r);
    else error(w, "Unknown profile", 404);
  };
}

}  // namespace goro::http
