// soak.cpp — the goroutine-per-request service that bench/soak/soak.sh keeps
// under load for minutes or hours (issue 23). Its twin in Go is
// bench/soak/go/main.go: same routes, same work per request, same samples.
//
//   GET /          what real handlers do: a per-request with_timeout context,
//                  a timer, a short-lived goroutine handing a value over a
//                  channel; answers "ok <n>\n".
//   GET /big?mb=N  streams N MiB in 64 KiB writes, stopping at the first
//                  failed write (a client gone, or the write deadline passed).
//   GET /throw     the handler throws: the server logs it and closes only
//                  that connection.
//
// Every second, and whenever SIGUSR1 arrives, it appends one line to the CSV
// file (--csv, default stdout):
//
//   unix_ms,kind,rss_kb,fds,goroutines,timers,requests
//
// kind is "tick" (the 1 s sampler) or "probe" (SIGUSR1: the driver marks a
// moment, such as one second after the load stopped). SIGINT or SIGTERM:
// graceful shutdown, then exit 0 — and in an AddressSanitizer build,
// LeakSanitizer's verdict at exit.
//
// usage: goro-soak [--addr 127.0.0.1:18500] [--csv FILE] [--write-timeout-ms 2000]
#include <goro/goro.hpp>
#include <goro/http.hpp>
#include <goro/introspect.hpp>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::atomic<std::uint64_t> requests{0};

// /proc/self/statm and /proc/self/fd are opened once, at start, so that a
// sample needs no new descriptor: it still works while a flood of
// connections has taken them all (both are in the idle baseline).
int statm_fd = -1, fd_dir = -1;

long rss_kb() {
  char buf[128];
  ssize_t n = pread(statm_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  long pages = 0, resident = 0;
  if (std::sscanf(buf, "%ld %ld", &pages, &resident) != 2) return -1;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int open_fds() {
  if (lseek(fd_dir, 0, SEEK_SET) != 0) return -1;
  alignas(8) char buf[8192];
  int n = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, fd_dir, buf, sizeof buf);
    if (got < 0) return -1;
    if (got == 0) return n;
    for (long off = 0; off < got;) {
      struct linux_dirent64 {
        unsigned long long d_ino;
        long long d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[1];
      };
      auto* d = reinterpret_cast<linux_dirent64*>(buf + off);
      if (d->d_name[0] != '.') ++n;
      off += d->d_reclen;
    }
  }
}

long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void sample(FILE* out, const char* kind) {
  std::fprintf(out, "%lld,%s,%ld,%d,%d,%zu,%llu\n", unix_ms(), kind, rss_kb(), open_fds(), goro::num_goroutine(),
               goro::introspect::pending_timers(), static_cast<unsigned long long>(requests.load()));
  std::fflush(out);
}

// GET /: the per-request work of a typical handler.
void work(goro::http::response_writer& w, goro::http::request& r) {
  auto [ctx, cancel] = goro::with_timeout(r.context(), 5s);
  auto handoff = goro::make_chan<int>();
  goro::go([handoff, done = ctx.done(), n = requests.load()] {
    goro::select(goro::case_send(handoff, static_cast<int>(n % 1000)), goro::case_recv(done));
  });
  goro::timer guard(10s);  // stopped when the handler returns
  int v = -1;
  goro::select(goro::case_recv(handoff, [&](std::optional<int> x) { v = x.value_or(-1); }), goro::case_recv(ctx.done()),
               goro::case_recv(guard.c()));
  cancel();
  requests.fetch_add(1, std::memory_order_relaxed);
  w.header().set("Content-Type", "text/plain");
  w.write("ok " + std::to_string(v) + "\n");
}

// GET /big?mb=N: N MiB, 64 KiB at a time, until a write fails.
void big(goro::http::response_writer& w, goro::http::request& r) {
  long mb = std::strtol(r.query("mb").c_str(), nullptr, 10);
  if (mb <= 0 || mb > 4096) mb = 1;
  static const std::string chunk(64 * 1024, 'x');
  w.header().set("Content-Type", "application/octet-stream");
  w.header().set("Content-Length", std::to_string(mb * 1024 * 1024));
  for (long i = 0; i < mb * 16; ++i) {
    std::error_code ec;
    w.write(std::as_bytes(std::span<const char>(chunk.data(), chunk.size())), ec);
    if (ec) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:18500";
  std::string csv;
  long write_timeout_ms = 2000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--addr" && i + 1 < argc) {
      addr = argv[++i];
    } else if (a == "--csv" && i + 1 < argc) {
      csv = argv[++i];
    } else if (a == "--write-timeout-ms" && i + 1 < argc) {
      write_timeout_ms = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--addr HOST:PORT] [--csv FILE] [--write-timeout-ms N]\n", argv[0]);
      return 2;
    }
  }
  FILE* out = csv.empty() ? stdout : std::fopen(csv.c_str(), "w");
  if (!out) {
    std::fprintf(stderr, "soak: %s: %s\n", csv.c_str(), std::strerror(errno));
    return 2;
  }
  statm_fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  fd_dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::fprintf(out, "unix_ms,kind,rss_kb,fds,goroutines,timers,requests\n");

  int rc = goro::run([&] {
    goro::http::serve_mux mux;
    mux.handle("GET /{$}", work);
    mux.handle("GET /big", big);
    mux.handle("GET /throw", [](goro::http::response_writer&, goro::http::request&) {
      throw std::runtime_error("soak: a handler threw");
    });
    goro::http::server srv(goro::http::server_config{
        .addr = addr,
        .handler = std::ref(mux),
        .read_header_timeout = 5s,
        .read_timeout = {},
        .write_timeout = std::chrono::milliseconds(write_timeout_ms),
        .idle_timeout = 30s,
    });

    // SIGINT/SIGTERM end the run; SIGUSR1 asks for a probe sample.
    auto stop = goro::notify_context(goro::background(), {SIGINT, SIGTERM});
    auto probes = goro::make_chan<int>(4);
    goro::notify_signals(probes, {SIGUSR1});
    auto sampler_done = goro::make_chan<int>();
    goro::go([&, ctx = stop.ctx] {
      goro::ticker tick(1s);
      for (;;) {
        bool more = true;
        goro::select(goro::case_recv(tick.c(), [&] { sample(out, "tick"); }),
                     goro::case_recv(probes, [&] { sample(out, "probe"); }),
                     goro::case_recv(ctx.done(), [&] { more = false; }));
        if (!more) break;
      }
      goro::stop_signals(probes);
      sampler_done.close();
    });
    goro::go([&, ctx = stop.ctx] {
      (void)ctx.done().recv();
      auto [sctx, scancel] = goro::with_timeout(goro::background(), 10s);
      if (auto ec = srv.shutdown(sctx)) std::fprintf(stderr, "soak: shutdown: %s\n", ec.message().c_str());
      scancel();
    });

    std::fprintf(stderr, "soak: serving on %s\n", addr.c_str());
    auto ec = srv.listen_and_serve();
    stop.cancel();
    (void)sampler_done.recv();
    if (ec != goro::http::errc::server_closed) {
      std::fprintf(stderr, "soak: %s\n", ec.message().c_str());
      return 1;
    }
    std::fprintf(stderr, "soak: served %llu requests, shut down\n", static_cast<unsigned long long>(requests.load()));
    return 0;
  });
  if (out != stdout) std::fclose(out);
  return rc;
}
