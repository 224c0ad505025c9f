// trace.cpp — the execution tracer: goroutine run slices and wake-up flows,
// written as Chrome Trace Event JSON.
//
// Recording. The scheduler calls the hooks of trace.hpp while trace_on is
// set: trace_begin when a G starts running on an M (execute, switch_out),
// trace_end when it stops (switch_out, with the reason: its wait reason for
// a park, "yield", "preempted", "exit"), trace_wake from ready(). Each M
// appends to a buffer of its own (M::trace_buf, taken from a registry on
// first use), so Ms do not contend; a buffer's lock is taken by its M for
// each event and by stop() once, to collect. Plain threads (a wake-up from
// outside the runtime) share one buffer.
//
// Generations. start() bumps `gen`; a buffer whose generation is older is
// cleared at its next append and skipped by stop(), so an M never has to be
// told that a new trace began. Buffers are never freed while the process
// lives: an M deleted at teardown gives its buffer back to the registry's
// free list (its events stay until stop() collects them), and the next M
// takes it.
//
// Output (stop()). Two processes: pid 1 "goro processors" with one track per
// P ("P0", "P1", spare Ps "P1000"...), pid 2 "goro threads" with one track
// per M. A run slice appears on both (an "X" event: name "G<id>" or
// "G<id> <name>", args goroutine, end reason and creation site). A wake-up
// is a flow: "s" at the waker's track when ready() was called, "f" (binding
// to the enclosing slice) where the woken goroutine next starts.
// Timestamps are microseconds since start(), with nanosecond decimals.
#include "goro/trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "runtime/sanitizer.hpp"
#include "runtime/trace.hpp"

namespace goro::rt {

std::atomic<bool> trace_on{false};

struct TraceEvent {
  char ph = 'X';       // X slice, s/f flow
  char track = 'p';    // p: processor track (pid 1), m: thread track (pid 2)
  int tid = 0;
  std::int64_t ts = 0;
  std::int64_t dur = 0;
  std::int64_t goid = 0;
  const char* why = "";
  const char* created = "";
  std::uint64_t flow = 0;
  std::string name;    // the goroutine's name, if it has one
};

struct TraceBuf {
  Lock lock{LockRank::trace_buf};
  std::uint64_t gen = 0;
  std::vector<TraceEvent> ev;
};

namespace {

constexpr int kPlainThreads = 1'000'000;  // the thread track of wake-ups from plain threads

std::mutex reg_mu;                // guards the registry, path, fd, t0 and gen changes
// Never destroyed (as the buffers they list): at exit, LeakSanitizer's check
// runs after static destructors, and must still find the buffers here.
std::vector<TraceBuf*>& all_bufs = *new std::vector<TraceBuf*>;  // every buffer ever made
std::vector<TraceBuf*>& free_bufs = *new std::vector<TraceBuf*>;
TraceBuf plain_buf;
std::atomic<std::uint64_t> gen{0};
std::atomic<std::uint64_t> next_flow{0};
std::int64_t t0 = 0;
int out_fd = -1;

TraceBuf* buf_of(M* m) {
  if (!m) return &plain_buf;
  if (!m->trace_buf) {
    std::lock_guard<std::mutex> l(reg_mu);
    if (!free_bufs.empty()) {
      m->trace_buf = free_bufs.back();
      free_bufs.pop_back();
    } else {
      m->trace_buf = new TraceBuf;
      all_bufs.push_back(m->trace_buf);
    }
  }
  return m->trace_buf;
}

void append(TraceBuf* b, TraceEvent&& e) {
  LockGuard l(b->lock);
  std::uint64_t g = gen.load(std::memory_order_acquire);
  if (b->gen != g) {
    b->ev.clear();
    b->gen = g;
  }
  b->ev.push_back(std::move(e));
}

void put(std::string& out, const char* s) {
  for (; *s; ++s) {
    char c = *s;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += c;
    }
  }
}

void put_ts(std::string& out, std::int64_t ns) {
  if (ns < 0) ns = 0;
  char b[40];
  std::snprintf(b, sizeof b, "%" PRId64 ".%03" PRId64, ns / 1000, ns % 1000);
  out += b;
}

void put_event(std::string& out, const TraceEvent& e) {
  char b[96];
  std::snprintf(b, sizeof b, "{\"pid\":%d,\"tid\":%d,\"ph\":\"%c\",\"ts\":", e.track == 'p' ? 1 : 2, e.tid, e.ph);
  out += b;
  put_ts(out, e.ts - t0);
  if (e.ph == 'X') {
    out += ",\"dur\":";
    put_ts(out, e.dur);
    std::snprintf(b, sizeof b, ",\"cat\":\"goroutine\",\"name\":\"G%" PRId64, e.goid);
    out += b;
    if (!e.name.empty()) {
      out += ' ';
      put(out, e.name.c_str());
    }
    std::snprintf(b, sizeof b, "\",\"args\":{\"goroutine\":%" PRId64 ",\"end\":\"", e.goid);
    out += b;
    put(out, e.why);
    out += "\",\"created by\":\"";
    put(out, e.created);
    out += "\"}}";
  } else {
    std::snprintf(b, sizeof b, ",\"cat\":\"wake\",\"name\":\"wake\",\"id\":%" PRIu64 "%s}", e.flow,
                  e.ph == 'f' ? ",\"bp\":\"e\"" : "");
    out += b;
  }
}

// A metadata record naming a process (letter 0: name it `goro processors` or
// `goro threads` by pid) or a track ("P3", "M7", "plain threads" for '-').
void put_meta(std::string& out, int pid, int tid, const char* what, char letter, int n) {
  char name[32];
  if (letter == 0)
    std::snprintf(name, sizeof name, "%s", pid == 1 ? "goro processors" : "goro threads");
  else if (letter == '-')
    std::snprintf(name, sizeof name, "plain threads");
  else
    std::snprintf(name, sizeof name, "%c%d", letter, n);
  char b[160];
  std::snprintf(b, sizeof b, "{\"pid\":%d,\"tid\":%d,\"ph\":\"M\",\"name\":\"%s\",\"args\":{\"name\":\"%s\"}},\n", pid,
                tid, what, name);
  out += b;
}

bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

void trace_begin(M* m, G* g) noexcept {
  [[maybe_unused]] san::IgnoreAccesses quiet;  // (TSan: an exiting G's stack may already be handed on)
  std::int64_t now = nanotime();
  m->trace_since = now;
  if (g->trace_flow && m->p) {
    TraceEvent e;
    e.ph = 'f';
    e.tid = m->p->id;
    e.ts = now;
    e.flow = std::exchange(g->trace_flow, 0);
    try {
      append(buf_of(m), std::move(e));
    } catch (...) {  // out of memory: the trace loses an event, the program goes on
    }
  }
}

void trace_end(M* m, G* g, const char* why) noexcept {
  [[maybe_unused]] san::IgnoreAccesses quiet;  // (TSan: an exiting G's stack may already be handed on)
  std::int64_t now = nanotime();
  std::int64_t since = m->trace_since > t0 ? m->trace_since : t0;
  try {
    TraceBuf* b = buf_of(m);
    TraceEvent e;
    e.ts = since;
    e.dur = now - since;
    e.goid = g->id;
    e.why = why;
    e.created = g->create_func;
    e.name = g->name;
    if (m->p) {
      e.tid = m->p->id;
      append(b, TraceEvent(e));
    }
    e.track = 'm';
    e.tid = m->id;
    append(b, std::move(e));
  } catch (...) {
  }
}

void trace_wake(G* g) noexcept {
  [[maybe_unused]] san::IgnoreAccesses quiet;  // (TSan: an exiting G's stack may already be handed on)
  M* m = current_m();
  TraceEvent e;
  e.ph = 's';
  e.ts = nanotime();
  e.flow = next_flow.fetch_add(1, std::memory_order_relaxed) + 1;
  if (m && m->p && m->curg) {
    e.tid = m->p->id;
  } else {
    e.track = 'm';
    e.tid = m ? m->id : kPlainThreads;
  }
  try {
    append(buf_of(m), std::move(e));
    g->trace_flow = e.flow;
  } catch (...) {
  }
}

void trace_thread_exit(M* m) noexcept {
  if (!m->trace_buf) return;
  std::lock_guard<std::mutex> l(reg_mu);
  free_bufs.push_back(m->trace_buf);
  m->trace_buf = nullptr;
}

}  // namespace goro::rt

namespace goro::trace {

using namespace rt;

void start(const std::string& path) {
  std::lock_guard<std::mutex> l(reg_mu);
  if (trace_on.load(std::memory_order_acquire)) throw std::logic_error("goro::trace: tracing is already enabled");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "goro::trace::start: " + path);
  out_fd = fd;
  t0 = nanotime();
  gen.fetch_add(1, std::memory_order_acq_rel);
  trace_on.store(true, std::memory_order_release);
}

bool enabled() noexcept { return trace_on.load(std::memory_order_acquire); }

void stop() noexcept {
  std::vector<TraceEvent> events;
  int fd;
  {
    std::lock_guard<std::mutex> l(reg_mu);
    if (!trace_on.exchange(false, std::memory_order_acq_rel)) return;
    fd = std::exchange(out_fd, -1);
    std::uint64_t g = gen.load(std::memory_order_acquire);
    std::vector<TraceBuf*> bufs = all_bufs;
    bufs.push_back(&plain_buf);
    try {
      for (TraceBuf* b : bufs) {
        LockGuard bl(b->lock);
        if (b->gen != g) continue;
        for (TraceEvent& e : b->ev) events.push_back(std::move(e));
        std::vector<TraceEvent>().swap(b->ev);
      }
    } catch (...) {  // out of memory: write what was collected
    }
  }
  try {
    std::set<int> ps, ms;
    for (const TraceEvent& e : events) (e.track == 'p' ? ps : ms).insert(e.tid);
    std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    put_meta(out, 1, 0, "process_name", 0, 0);
    put_meta(out, 2, 0, "process_name", 0, 0);
    for (int p : ps) put_meta(out, 1, p, "thread_name", 'P', p);
    for (int m : ms) put_meta(out, 2, m, "thread_name", m == kPlainThreads ? '-' : 'M', m);
    for (const TraceEvent& e : events) {
      put_event(out, e);
      out += ",\n";
    }
    // A last, empty metadata record closes the list without a dangling comma.
    out += "{\"pid\":1,\"tid\":0,\"ph\":\"M\",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":0}}\n]}\n";
    write_all(fd, out);
  } catch (...) {
  }
  ::close(fd);
}

}  // namespace goro::trace
