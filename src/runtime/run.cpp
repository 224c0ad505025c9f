// run.cpp — goro::run: starting the runtime, running the main goroutine,
// stopping, and freeing what the run leaves (teardown); gomaxprocs.
//
// run_main makes the Ps, turns the calling thread into M0, spawns the main
// goroutine and runs the scheduler loop until the main goroutine returns and
// sets `stopping`; every other M then exits at its next scheduling point and
// is joined. teardown runs alone after that (quiescent: no other thread can
// touch the scheduler) and discards the goroutines still alive (API.md's
// teardown rule; DESIGN §18).
#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <thread>

#include "goro/runtime.hpp"
#include "net/netpoll.hpp"
#include "runtime/debug.hpp"
#include "runtime/sanitizer.hpp"
#include "runtime/sched.hpp"
#include "runtime/trace.hpp"

namespace goro::rt {

namespace {

constexpr std::size_t kDefaultStack = 256 * 1024;

int default_procs() {
  if (const char* s = std::getenv("GOMAXPROCS")) {
    int v = std::atoi(s);
    if (v > 0) return v < kMaxProcs ? v : kMaxProcs;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  return n < kMaxProcs ? n : kMaxProcs;
}

P* make_p(int id) { return new P(id); }

struct MainArgs {
  void (*fn)(void*);
  void* arg;
};

// Calls the run's function 16 KiB further down goroutine 1's stack when the
// end-of-run leak check will run: the check's frames then land in the gap,
// not on the function's frame that just ended, which a goroutine racing
// with the return may still read (a bug of that program, but one a check
// should not turn into a crash). The gap is never written: no page of it
// is committed.
[[gnu::noinline]] void call_below_gap(MainArgs* ma) {
  void* gap = __builtin_alloca(16 * 1024);
  asm volatile("" : : "r"(gap) : "memory");
  ma->fn(ma->arg);
}

void main_goroutine(void* a) {
  auto* ma = static_cast<MainArgs*>(a);
  if (leak_check_at_exit_enabled()) call_below_gap(ma);
  else ma->fn(ma->arg);
  check_leaks_at_exit();
  san::release(&sched);  // the main function's effects, for run()'s caller
  sched.stopping.store(true, std::memory_order_seq_cst);
  start_ms_for_stop();
}

// Frees what the finished run leaves: goroutines still alive are discarded.
void teardown() {
  // Every M has been joined: no other thread can touch the scheduler now.
  quiescent(sched.lock);
  quiescent(sched.gfree_lock);
  quiescent(sched.allg_lock);
  while (G* g = san::next_held()) {  // TSan: exited goroutines held back from reuse
    stack_free(nullptr, g);
    g->schedlink = sched.gfree;
    sched.gfree = g;
    ++sched.ngfree;
  }
  for (G* g = sched.allg; g; g = g->allnext) {
    if (g->status.load(std::memory_order_relaxed) == GStatus::dead) continue;
    if (g->unlink) g->unlink(g);
    g->unlink = nullptr;
    if (g->discard) g->discard(g->discard_arg);
    g->discard = nullptr;
    if (!g->started && g->closure) {
      g->destroy(g->closure);
      if (g->closure != g->buf) ::operator delete(g->closure, std::align_val_t(g->closure_align));
    }
    san::keep_discarded(g);  // ASan: what its frames and closure hold stays reachable
    g->closure = nullptr;
    san::release_discarded(g);
    san::fiber_destroy(g);
    stack_free(nullptr, g);
    gstatus_discard(g);
    g->schedlink = sched.gfree;
    sched.gfree = g;
    ++sched.ngfree;
  }
  std::vector<P*> ps = sched.allp;  // the regular Ps and the spare ones
  sched.nmade.store(0);
  sched.nspare.store(0);
  for (P* p : ps) {
    if (!p) continue;
    timers_teardown(p);
    while (p->nstacks > 0) {
      G tmp;
      tmp.stack_lo = p->stacks[--p->nstacks];
      tmp.stack_size = sched.stack_size;
      stack_free(nullptr, &tmp);
    }
    while (G* g = p->gfree) {
      p->gfree = g->schedlink;
      g->schedlink = sched.gfree;
      sched.gfree = g;
      ++sched.ngfree;
    }
    delete p;
  }
  sched.allp.clear();
  san::teardown_fibers();
  stacks_trim();
  for (M* m : sched.allm) {
    trace_thread_exit(m);
    if (m->id != 0) delete m;
  }
  sched.spare_free = nullptr;
  sched.allm.clear();
  sched.runq_head = sched.runq_tail = nullptr;
  sched.runq_size.store(0);
  sched.pidle = nullptr;
  sched.npidle.store(0);
  sched.midle = nullptr;
  sched.nmidle = 0;
  sched.nmspinning.store(0);
  sched.sleeper = nullptr;
  sched.sleep_until.store(0);
  sched.nexternal.store(0);
  sched.npollwait.store(0);
  sched.goid_gen.store(0);
  sched.extra_created.store(0);
  sched.extra_exited.store(0);
}

}  // namespace

}  // namespace goro::rt

namespace goro {

using namespace rt;

namespace detail {

int run_main(void (*fn)(void*), void* arg, const config& cfg) {
  bool was = false;
  if (!sched.running.compare_exchange_strong(was, true))
    throw std::logic_error("goro::run: a runtime is already running");
  install_signal_handlers();
  netpoll_init();
  signals_start();
  sched.stopping.store(false);
  int procs = cfg.procs > 0 ? (cfg.procs < kMaxProcs ? cfg.procs : kMaxProcs) : default_procs();
  sched.stack_size = cfg.stack_size ? ((cfg.stack_size + 4095) & ~std::size_t{4095}) : kDefaultStack;
  sched.stopping.store(false);
  sched.exit_code = 0;
  sched.fail_on_leak = cfg.fail_on_leak;
  sched.allp.assign(kMaxProcs + kMaxSpare, nullptr);
  for (int i = 0; i < procs; ++i) sched.allp[i] = make_p(i);
  sched.nmade.store(procs, std::memory_order_release);
  sched.nprocs.store(procs, std::memory_order_release);

  M* m0 = new M;
  m0->id = 0;
  m0->rng = 0x2545F4914F6CDD1DULL;
  {
    LockGuard l(sched.lock);  // no other M yet; taken for the analysis (cheap)
    sched.allm.push_back(m0);
  }
  set_current_m(m0);
  thread_init(m0);
  m0->p = sched.allp[0];
  set_pstatus(sched.allp[0], PStatus::running);
  {
    LockGuard l(sched.lock);
    for (int i = procs - 1; i >= 1; --i) pidleput(sched.allp[i]);
  }
  {
    spawn_slot s = spawn_begin(sizeof(MainArgs), alignof(MainArgs));
    ::new (s.mem) MainArgs{fn, arg};
    static constexpr source_location here{"goro::run", "goro::run", 0};
    spawn_commit(
        s, &main_goroutine, [](void*) noexcept {}, nullptr, here);
  }
  sysmon_start();
  schedule_loop(m0);
  sysmon_stop();

  // Stopping: every other M exits at its next scheduling point.
  std::vector<M*> ms;
  {
    LockGuard l(sched.lock);  // no M is added once stopping is set (newm)
    ms = sched.allm;
  }
  for (M* m : ms)
    if (m != m0 && m->thread.joinable()) m->thread.join();
  san::acquire(&sched);
  signals_stop();
  cpuprof_thread_exit(m0);
  teardown_thread_signals(m0);
  set_current_m(nullptr);
  int code = sched.exit_code;
  teardown();
  trace_thread_exit(m0);
  delete m0;
  sched.running.store(false, std::memory_order_release);
  return code;
}

}  // namespace detail

int gomaxprocs(int n) {
  int prev = sched.nprocs.load(std::memory_order_relaxed);
  if (n <= 0 || !sched.running.load()) return prev;
  if (n > kMaxProcs) n = kMaxProcs;
  LockGuard l(sched.lock);
  prev = sched.nprocs.load(std::memory_order_relaxed);
  if (n == prev) return prev;
  if (n > prev) {
    // Only a retired P (off every list, held by no M) goes back on the idle
    // list: a P above the old count may still be held by an M that has not
    // retired it yet, or be on its way to one (startm's nextp), and listing
    // it then would give it two owners.
    for (int i = prev; i < n; ++i) {
      P* p = sched.allp[i];
      if (!p) {
        p = sched.allp[i] = make_p(i);
        sched.nmade.store(i + 1, std::memory_order_release);  // publishes the entry (made in index order)
      } else if (!p->retired) {
        continue;
      }
      p->retired = false;
      pidleput(p);
    }
  }
  sched.nprocs.store(n, std::memory_order_release);
  if (n < prev) {
    // Idle Ps beyond n leave the idle list now, their timers going to P 0:
    // only active Ps' timers are run and seen by the sleeper and the
    // deadlock detector. (A P held by an M retires at its next findrunnable.)
    P** link = &sched.pidle;
    while (P* p = *link) {
      if (p->id < n) {
        link = &p->link;
        continue;
      }
      *link = p->link;
      sched.npidle.fetch_sub(1, std::memory_order_seq_cst);
      p->listed.store(false, std::memory_order_relaxed);
      retire_unheld_p(p);
    }
  }
  return prev;
}

}  // namespace goro
