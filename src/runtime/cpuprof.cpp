// cpuprof.cpp — the CPU profiler (Go's pprof.StartCPUProfile), for
// `go tool pprof`.
//
// Sampling. While a profile runs, every M (every thread that runs
// goroutines) has a POSIX timer on its own CPU-time clock
// (pthread_getcpuclockid), firing every 10 ms of that thread's CPU time and
// delivering SIGPROF to that very thread (SIGEV_THREAD_ID), as Go does on
// Linux since 1.18. A thread that does not run does not tick, so samples
// are proportional to CPU time, not wall time. start_cpu_profile arms the
// Ms that exist; an M that starts later arms itself in thread_init
// (cpuprof_thread_start), and one that ends disarms itself
// (cpuprof_thread_exit). Both sides hold prof_mu, so each M is armed at
// most once.
//
// The signal handler is async-signal-safe: no allocation, no lock. It
// unwinds the interrupted stack with _Unwind_Backtrace (libgcc finds frame
// descriptions through glibc's lock-free _dl_find_object) into the next
// slot of its M's ring, a fixed array written only by that thread's handler
// (a thread's SIGPROF handler does not nest) and read by the drainer, with
// head and tail counters published by release stores. Besides the pcs, a
// slot holds the running goroutine's id and the first bytes of its
// spawn_options name, which become the sample's labels `goroutine` and
// `name`. A full ring drops the sample and counts it. Two places are not
// unwound: goro_switch (between its start and goro_switch_end the stack
// pointer and the frame disagree, and no CFI describes it) and a thread
// with no M; a sample there records the interrupted pc alone.
//
// Under ThreadSanitizer a signal is handled late — at the thread's next
// intercepted call, on the saved context — so no kernel signal frame is on
// the stack then, and a sample holds the interrupted pc alone (taken from
// the saved context); a loop that makes no intercepted call is sampled only
// when it makes one.
//
// Draining. A plain thread wakes every 100 ms, empties every ring into a
// map keyed by (goroutine, name, stack) and sleeps again; an M that ends
// empties its ring first. stop_cpu_profile disarms every timer, stops the
// drainer, empties the rings a last time, symbolizes each distinct pc once
// (rt::Traceback: libdw) and writes profile.proto with Go's sample types
// (samples/count, cpu/nanoseconds), period 10 ms, gzipped (pprof.hpp).
// Rings are never freed: a signal already pending when a timer is deleted
// may still land in one after it was detached, so detached rings go back to
// a pool for the next M instead of the allocator.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "goro/debug.hpp"
#include "arch/switch.hpp"
#include "runtime/pprof.hpp"
#include "runtime/sanitizer.hpp"
#include "runtime/sched.hpp"
#include "runtime/traceback.hpp"

extern "C" char goro_switch_end[];

namespace goro::rt {

namespace {

constexpr long kPeriodNs = 10'000'000;  // 100 Hz of a thread's CPU time
constexpr int kMaxDepth = 64;
constexpr int kNameBytes = 32;

struct Sample {
  std::int64_t goid;
  std::uint32_t depth;
  char name[kNameBytes];  // NUL-terminated, truncated
  std::uintptr_t pcs[kMaxDepth];
};

}  // namespace

// One M's samples: written by its thread's SIGPROF handler only, read by the
// drainer (under prof_mu).
struct CpuRing {
  static constexpr std::uint64_t kSlots = 128;  // 1.28 s of one thread's CPU
  Sample slots[kSlots];
  std::atomic<std::uint64_t> head{0};  // next slot the handler writes
  std::atomic<std::uint64_t> tail{0};  // next slot the drainer reads
  std::atomic<std::uint64_t> lost{0};
};

namespace {

struct Key {
  std::int64_t goid;
  std::string name;
  std::vector<std::uintptr_t> pcs;
  auto operator<=>(const Key&) const = default;
};

struct Armed {
  M* m;
  timer_t timer;
  CpuRing* ring;
};

std::mutex prof_mu;
bool prof_on = false;              // (prof_mu)
std::ostream* prof_out = nullptr;  // (prof_mu)
std::vector<Armed> prof_armed;     // (prof_mu)
std::vector<CpuRing*>& ring_pool =
    *new std::vector<CpuRing*>;           // (prof_mu) detached rings; never destroyed (LSan: reachable)
std::map<Key, std::int64_t> prof_counts;  // (prof_mu)
std::uint64_t prof_lost = 0;              // (prof_mu)
std::int64_t prof_start_ns = 0;           // (prof_mu) wall clock
std::int64_t prof_start_mono = 0;         // (prof_mu)
std::thread prof_drainer;
std::condition_variable prof_cv;
bool prof_drainer_stop = false;  // (prof_mu)

// --- the signal handler ------------------------------------------------------

struct Walk {
  Sample* s;
  bool in_signal_frame = false;  // past the handler's own frames
};

_Unwind_Reason_Code on_frame(_Unwind_Context* ctx, void* arg) {
  auto* w = static_cast<Walk*>(arg);
  int before = 0;
  std::uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
  if (!w->in_signal_frame) {
    // The first frame whose ip is not a return address is the interrupted
    // one (libgcc marks the frame after the kernel's signal frame).
    if (!before) return _URC_NO_REASON;
    w->in_signal_frame = true;
    ip += 1;  // symbolized as a return address (pc - 1): see Traceback::symbolize
  }
  if (ip == 0 || w->s->depth >= kMaxDepth) return _URC_END_OF_STACK;
  w->s->pcs[w->s->depth++] = ip;
  return _URC_NO_REASON;
}

std::uintptr_t interrupted_pc(void* uc) {
  auto* u = static_cast<ucontext_t*>(uc);
#if defined(__x86_64__)
  return static_cast<std::uintptr_t>(u->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return static_cast<std::uintptr_t>(u->uc_mcontext.pc);
#endif
}

void on_sigprof(int, siginfo_t* si, void* uc) {
  if (si->si_code != SI_TIMER) return;  // not one of ours
  int saved_errno = errno;
  M* m = current_m();
  CpuRing* r = m ? m->prof_ring.load(std::memory_order_acquire) : nullptr;
  if (r) {
    std::uint64_t h = r->head.load(std::memory_order_relaxed);
    if (h - r->tail.load(std::memory_order_acquire) >= CpuRing::kSlots) {
      r->lost.fetch_add(1, std::memory_order_relaxed);
    } else {
      san::acquire(&r->tail);  // the drainer is done with this slot
      Sample& s = r->slots[h % CpuRing::kSlots];
      G* g = m->curg;
      s.goid = g ? g->id : 0;
      s.depth = 0;
      s.name[0] = 0;
      if (g) {
        std::size_t n = g->name.size() < kNameBytes - 1 ? g->name.size() : kNameBytes - 1;
        std::memcpy(s.name, g->name.data(), n);
        s.name[n] = 0;
      }
      std::uintptr_t pc = interrupted_pc(uc);
      auto start = reinterpret_cast<std::uintptr_t>(&goro_switch);
      if (pc >= start && pc < reinterpret_cast<std::uintptr_t>(goro_switch_end)) {
        s.pcs[s.depth++] = pc + 1;
      } else {
        Walk w{&s};
        _Unwind_Backtrace(on_frame, &w);
        if (s.depth == 0) s.pcs[s.depth++] = pc + 1;
      }
      san::release(&s);  // ThreadSanitizer does not see the runtime's atomics
      r->head.store(h + 1, std::memory_order_release);
    }
  }
  errno = saved_errno;
}

void install_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPROF, &sa, nullptr);  // kept for the process: a late tick must not kill it
  });
}

// --- arming (prof_mu held) ---------------------------------------------------

void drain(CpuRing* r) {
  std::uint64_t t = r->tail.load(std::memory_order_relaxed);
  std::uint64_t h = r->head.load(std::memory_order_acquire);
  for (; t != h; ++t) {
    const Sample& s = r->slots[t % CpuRing::kSlots];
    san::acquire(&s);
    ++prof_counts[Key{s.goid, s.name, std::vector<std::uintptr_t>(s.pcs, s.pcs + s.depth)}];
  }
  san::release(&r->tail);
  r->tail.store(t, std::memory_order_release);
  prof_lost += r->lost.exchange(0, std::memory_order_relaxed);
}

void arm(M* m) {
  for (const Armed& a : prof_armed)
    if (a.m == m) return;
  clockid_t clock;
  if (pthread_getcpuclockid(m->pthread, &clock) != 0) return;
  CpuRing* r;
  if (!ring_pool.empty()) {
    r = ring_pool.back();
    ring_pool.pop_back();
    r->tail.store(r->head.load(std::memory_order_acquire), std::memory_order_relaxed);  // drop late samples
    r->lost.store(0, std::memory_order_relaxed);
  } else {
    r = new CpuRing;
  }
  sigevent sev{};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGPROF;
  sev._sigev_un._tid = m->tid;
  timer_t t;
  if (timer_create(clock, &sev, &t) != 0) {
    ring_pool.push_back(r);
    return;
  }
  san::release(&r->tail);  // the ring's set-up, for its thread's handler
  m->prof_ring.store(r, std::memory_order_release);
  itimerspec its{};
  its.it_interval.tv_nsec = kPeriodNs;
  its.it_value.tv_nsec = kPeriodNs;
  timer_settime(t, 0, &its, nullptr);
  prof_armed.push_back({m, t, r});
}

void disarm(std::size_t i) {
  Armed a = prof_armed[i];
  prof_armed.erase(prof_armed.begin() + static_cast<std::ptrdiff_t>(i));
  timer_delete(a.timer);
  a.m->prof_ring.store(nullptr, std::memory_order_release);
  drain(a.ring);
  ring_pool.push_back(a.ring);
}

void drainer_loop() {
  std::unique_lock<std::mutex> l(prof_mu);
  while (!prof_drainer_stop) {
    prof_cv.wait_for(l, std::chrono::milliseconds(100));
    for (const Armed& a : prof_armed) drain(a.ring);
  }
}

// --- encoding ------------------------------------------------------------------

// Splits Traceback::symbolize's "file:line" (or "module pc=0x...") into a
// file and a line (0 when there is none).
void split_where(const std::string& where, std::string* file, std::uint64_t* line) {
  *line = 0;
  if (std::size_t pc = where.find("pc="); pc != std::string::npos) {
    *file = where.substr(0, pc == 0 ? 0 : pc - 1);
    return;
  }
  std::size_t colon = where.rfind(':');
  *file = where.substr(0, colon);
  if (colon != std::string::npos) *line = std::strtoull(where.c_str() + colon + 1, nullptr, 10);
}

std::string encode(const std::map<Key, std::int64_t>& counts, std::int64_t time_ns, std::int64_t duration_ns) {
  ProfileBuilder b;
  std::map<std::uintptr_t, std::uint64_t> location_ids;
  Traceback tb;
  for (const auto& [key, count] : counts) {
    std::vector<std::uint64_t> ids;
    for (std::uintptr_t pc : key.pcs) {
      auto [loc, added] = location_ids.try_emplace(pc, 0);
      if (added) {
        std::string fn, where, file;
        std::uint64_t line;
        tb.symbolize(pc, &fn, &where);
        split_where(where, &file, &line);
        loc->second = b.location(fn, file, line, pc - 1);
      }
      ids.push_back(loc->second);
    }
    ProtoWriter w;
    w.packed_field(kSampleLocationId, ids);
    w.packed_field(kSampleValue, {static_cast<std::uint64_t>(count), static_cast<std::uint64_t>(count * kPeriodNs)});
    if (key.goid != 0) b.label(w, "goroutine", std::to_string(key.goid));
    if (!key.name.empty()) b.label(w, "name", key.name);
    b.sample(w);
  }
  const std::string cpu = b.value_type("cpu", "nanoseconds");
  return b.finish({b.value_type("samples", "count"), cpu}, time_ns, duration_ns, cpu, kPeriodNs);
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void cpuprof_thread_start(M* m) {
  std::lock_guard<std::mutex> l(prof_mu);
  m->tid = static_cast<pid_t>(syscall(SYS_gettid));
  m->pthread = pthread_self();
  if (prof_on) arm(m);
}

void cpuprof_thread_exit(M* m) {
  std::lock_guard<std::mutex> l(prof_mu);
  m->tid = 0;  // start_cpu_profile must not arm it again
  for (std::size_t i = 0; i < prof_armed.size(); ++i)
    if (prof_armed[i].m == m) {
      disarm(i);
      return;
    }
}

}  // namespace goro::rt

namespace goro {

void start_cpu_profile(std::ostream& out) {
  using namespace rt;
  install_handler();
  std::lock_guard<std::mutex> l(prof_mu);
  if (prof_on) throw std::logic_error("cpu profiling already in use");
  prof_on = true;
  prof_out = &out;
  prof_counts.clear();
  prof_lost = 0;
  prof_start_ns = wall_ns();
  prof_start_mono = nanotime();
  std::vector<M*> ms;
  {
    LockGuard sl(sched.lock);
    ms = sched.allm;
  }
  // An M is deleted only after its thread passed cpuprof_thread_exit, which
  // waits for prof_mu; tid 0: not started yet (it arms itself in
  // thread_init) or already past the exit hook.
  for (M* m : ms)
    if (m->tid != 0) arm(m);
  prof_drainer_stop = false;
  prof_drainer = std::thread(drainer_loop);
}

void stop_cpu_profile() {
  using namespace rt;
  std::ostream* out;
  std::map<Key, std::int64_t> counts;
  std::int64_t start_ns, duration;
  {
    std::lock_guard<std::mutex> l(prof_mu);
    if (!prof_on) return;
    prof_on = false;
    while (!prof_armed.empty()) disarm(prof_armed.size() - 1);
    prof_drainer_stop = true;
  }
  prof_cv.notify_all();
  prof_drainer.join();
  {
    std::lock_guard<std::mutex> l(prof_mu);
    out = prof_out;
    prof_out = nullptr;
    counts.swap(prof_counts);
    start_ns = prof_start_ns;
    duration = nanotime() - prof_start_mono;
  }
  std::string gz = gzip(encode(counts, start_ns, duration));
  out->write(gz.data(), static_cast<std::streamsize>(gz.size()));
  out->flush();
}

}  // namespace goro
