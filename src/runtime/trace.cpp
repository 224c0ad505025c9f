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
// Output (stop()). Three processes: pid 1 "goro processors" with one track
// per P ("P0", "P1", spare Ps "P1000"...), pid 2 "goro threads" with one
// track per M, pid 3 "goro network waits". A run slice appears on both of
// the first two (an "X" event, category "goroutine": name "G<id>" or
// "G<id> <name>", args goroutine, end reason and creation site). A
// blocking() call is a slice of its own (category "blocking") nested in
// the goroutine's slice on its thread's track; on the processor's track the
// goroutine's slice ends where the call begins (the P is given up, maybe
// retaken) and a new one begins where it returns, on whichever P the thread
// then holds. A wake-up is a flow: "s" at the waker's track when the
// goroutine was made runnable (ready(), or the poller), "f" (binding to the
// enclosing slice) where it next starts. A goroutine parked on the network
// poller gets an async slice "IO wait" (pid 3, category "network", "b"/"e"
// with a unique id: waits overlap freely) from its park to its wake-up.
// A counter track "goroutines" (pid 1) samples, at most every 100 us of
// scheduling, the runnable goroutines (the Ps' rings and runnext, a lent
// spare P's too, and the global queue) and the running threads (Ps held by an M, plus Ms inside
// blocking() calls, plus the sampling thread when neither counts it).
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
  char ph = 'X';          // X slice, s/f flow, b/e async IO wait, C counter
  char track = 'p';       // p: processor track (pid 1), m: thread track (pid 2), n: network (pid 3)
  bool blocking = false;  // an X event: a blocking() call, not a run slice
  int tid = 0;
  std::int64_t ts = 0;
  std::int64_t dur = 0;   // X: duration; C: running threads
  std::int64_t goid = 0;  // C: runnable goroutines
  const char* why = "";
  const char* created = "";
  std::uint64_t flow = 0;  // s/f: the flow's id; b/e: the wait's id
  std::string name;        // the goroutine's name, if it has one
};

struct TraceBuf {
  Lock lock{LockRank::trace_buf};
  std::uint64_t gen GORO_GUARDED_BY(lock) = 0;
  std::vector<TraceEvent> ev GORO_GUARDED_BY(lock);
};

namespace {

constexpr int kPlainThreads = 1'000'000;  // the thread track of wake-ups from plain threads

std::mutex trace_reg_mu;  // guards the registry, path, fd, t0 and gen changes
// Never destroyed (as the buffers they list): at exit, LeakSanitizer's check
// runs after static destructors, and must still find the buffers here.
std::vector<TraceBuf*>& all_bufs = *new std::vector<TraceBuf*>;  // every buffer ever made
std::vector<TraceBuf*>& free_bufs = *new std::vector<TraceBuf*>;
TraceBuf plain_buf;
std::atomic<std::uint64_t> gen{0};
std::atomic<std::uint64_t> next_flow{0};
std::atomic<std::int64_t> last_counter{0};  // when the last counter sample was taken
constexpr std::int64_t kCounterEveryNs = 100'000;
std::int64_t t0 = 0;
int out_fd = -1;

TraceBuf* buf_of(M* m) {
  if (!m) return &plain_buf;
  if (!m->trace_buf) {
    std::lock_guard<std::mutex> l(trace_reg_mu);
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
  char b[128];
  std::snprintf(b, sizeof b, "{\"pid\":%d,\"tid\":%d,\"ph\":\"%c\",\"ts\":",
                e.track == 'p'   ? 1
                : e.track == 'm' ? 2
                                 : 3,
                e.tid, e.ph);
  out += b;
  put_ts(out, e.ts - t0);
  switch (e.ph) {
    case 'X':
      out += ",\"dur\":";
      put_ts(out, e.dur);
      if (e.blocking) {
        std::snprintf(b, sizeof b, ",\"cat\":\"blocking\",\"name\":\"blocking\",\"args\":{\"goroutine\":%" PRId64 "}}",
                      e.goid);
        out += b;
        return;
      }
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
      return;
    case 'b':
    case 'e':
      std::snprintf(b, sizeof b,
                    ",\"cat\":\"network\",\"name\":\"IO wait\",\"id\":%" PRIu64 ",\"args\":{\"goroutine\":%" PRId64
                    "}}",
                    e.flow, e.goid);
      out += b;
      return;
    case 'C':
      std::snprintf(b, sizeof b,
                    ",\"name\":\"goroutines\",\"args\":{\"runnable\":%" PRId64 ",\"running threads\":%" PRId64 "}}",
                    e.goid, e.dur);
      out += b;
      return;
    default:
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
    std::snprintf(name, sizeof name, "%s",
                  pid == 1   ? "goro processors"
                  : pid == 2 ? "goro threads"
                             : "goro network waits");
  else if (letter == '-') std::snprintf(name, sizeof name, "plain threads");
  else std::snprintf(name, sizeof name, "%c%d", letter, n);
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

namespace {

void append_quietly(M* m, TraceEvent&& e) noexcept {
  try {
    append(buf_of(m), std::move(e));
  } catch (...) {  // out of memory: the trace loses an event, the program goes on
  }
}

// g's run slice on a track ('p': P tid's, 'm': M tid's), from since
// (clipped to the trace's start) to now.
void run_slice(M* m, G* g, char track, int tid, std::int64_t since, std::int64_t now, const char* why) noexcept {
  TraceEvent e;
  e.track = track;
  e.tid = tid;
  e.ts = since > t0 ? since : t0;
  e.dur = now - e.ts;
  e.goid = g->id;
  e.why = why;
  e.created = g->create_func;
  try {
    e.name = g->name;
  } catch (...) {
  }
  append_quietly(m, std::move(e));
}

// A sample of the counter track, at most every kCounterEveryNs.
void maybe_sample_counters(M* m, std::int64_t now) noexcept {
  std::int64_t last = last_counter.load(std::memory_order_relaxed);
  if (now - last < kCounterEveryNs || !last_counter.compare_exchange_strong(last, now, std::memory_order_relaxed))
    return;
  int np = sched.nprocs.load(std::memory_order_acquire);
  std::int64_t runnable = sched.runq_size.load(std::memory_order_relaxed), running = 0;
  bool self_counted = false;
  for (int i = 0, n = np + spare_count(); i < n; ++i) {
    P* p = victim_at(i, np);
    if (!p) continue;
    if (p->status.load(std::memory_order_relaxed) == PStatus::running) {
      ++running;
      self_counted |= p == m->p;
    }
    runnable += runq_length(p);  // (a lent spare P's ring too, as read_metrics counts it)
  }
  running += sched.nexternal.load(std::memory_order_relaxed);
  // The sampling thread runs, but may be counted by neither: an M back
  // from blocking() that found no processor samples here with no P, after
  // leaving nexternal (CI's asan run saw "running threads: 0").
  if (!self_counted) ++running;
  TraceEvent e;
  e.ph = 'C';
  e.ts = now;
  e.goid = runnable;
  e.dur = running;
  append_quietly(m, std::move(e));
}

}  // namespace

void trace_begin(M* m, G* g) noexcept {
  [[maybe_unused]] san::IgnoreAccesses quiet;  // (TSan: an exiting G's stack may already be handed on)
  std::int64_t now = nanotime();
  m->trace_since = m->trace_p_since = now;
  m->trace_block_since = 0;
  if (g->trace_flow && m->p) {
    TraceEvent e;
    e.ph = 'f';
    e.tid = m->p->id;
    e.ts = now;
    e.flow = std::exchange(g->trace_flow, 0);
    append_quietly(m, std::move(e));
  }
  maybe_sample_counters(m, now);
}

void trace_end(M* m, G* g, const char* why, bool io_wait) noexcept {
  [[maybe_unused]] san::IgnoreAccesses quiet;  // (TSan: an exiting G's stack may already be handed on)
  std::int64_t now = nanotime();
  if (m->p) run_slice(m, g, 'p', m->p->id, m->trace_p_since, now, why);
  run_slice(m, g, 'm', m->id, m->trace_since, now, why);
  g->trace_io_since = io_wait ? now : 0;
  maybe_sample_counters(m, now);
}

void trace_block_begin(M* m, G* g, P* p) noexcept {
  [[maybe_unused]] san::IgnoreAccesses quiet;
  std::int64_t now = nanotime();
  run_slice(m, g, 'p', p->id, m->trace_p_since, now, "blocking");
  m->trace_block_since = now;
}

void trace_block_end(M* m, G* g) noexcept {
  [[maybe_unused]] san::IgnoreAccesses quiet;
  std::int64_t now = nanotime();
  if (m->trace_block_since != 0) {
    TraceEvent e;
    e.track = 'm';
    e.blocking = true;
    e.tid = m->id;
    e.ts = m->trace_block_since > t0 ? m->trace_block_since : t0;
    e.dur = now - e.ts;
    e.goid = g->id;
    append_quietly(m, std::move(e));
    m->trace_block_since = 0;
  }
  m->trace_p_since = now;
  if (!m->p) trace_end(m, g, "blocking: no processor");  // it waits for one, queued
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
  if (std::int64_t since = std::exchange(g->trace_io_since, 0); since != 0) {
    TraceEvent b;
    b.ph = 'b';
    b.track = 'n';
    b.ts = since > t0 ? since : t0;
    b.goid = g->id;
    b.flow = e.flow;
    TraceEvent end = b;
    end.ph = 'e';
    end.ts = e.ts;
    append_quietly(m, std::move(b));
    append_quietly(m, std::move(end));
  }
  try {
    append(buf_of(m), TraceEvent(e));
    g->trace_flow = e.flow;
  } catch (...) {
  }
}

void trace_thread_exit(M* m) noexcept {
  if (!m->trace_buf) return;
  std::lock_guard<std::mutex> l(trace_reg_mu);
  free_bufs.push_back(m->trace_buf);
  m->trace_buf = nullptr;
}

}  // namespace goro::rt

namespace goro::trace {

using namespace rt;

void start(const std::string& path) {
  std::lock_guard<std::mutex> l(trace_reg_mu);
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
    std::lock_guard<std::mutex> l(trace_reg_mu);
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
    for (const TraceEvent& e : events)
      if (e.track != 'n' && e.ph != 'C') (e.track == 'p' ? ps : ms).insert(e.tid);
    std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    put_meta(out, 1, 0, "process_name", 0, 0);
    put_meta(out, 2, 0, "process_name", 0, 0);
    put_meta(out, 3, 0, "process_name", 0, 0);
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
