// proc.cpp — goroutines: creation, switching, parking, yielding and exit.
//
// Every switch away from a running goroutine goes through switch_out: the
// goroutine names an after-switch action (enqueue me, release the lock of
// the queue I wait on, free me) and the M switches straight to the next
// goroutine of its P's local queue, or to its g0 (the scheduler loop) when
// that queue is empty. The action runs on the next context's stack, when the
// old goroutine's registers are saved and nothing runs on its stack, so no
// other M can resume a goroutine that is still leaving its stack.
#include <cxxabi.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "goro/runtime.hpp"
#include "net/netpoll.hpp"
#include "arch/switch.hpp"
#include "runtime/debug.hpp"
#include "runtime/trace.hpp"
#include "runtime/sched.hpp"
#include "runtime/sanitizer.hpp"

namespace goro::rt {

namespace {

constexpr int kGfreeLocalMax = 64;

[[noreturn]] void g_entry(void* mp, void* gp);

void prepare_first_run(M* m, G* g) {
  stack_alloc(m->p, g);
  g->started = true;
  g->sp = make_context(g->stack_lo + g->stack_size, &g_entry, g);
  san::fiber_create(g);
}

inline void account_run(P* p) noexcept {
  p->ran.store(p->ran.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void allg_add(G* g) {
  LockGuard l(sched.allg_lock);
  g->allnext = sched.allg;
  sched.allg = g;
}

G* new_g() {
  G* g = new G;
  allg_add(g);
  return g;
}

}  // namespace

EhGlobals* thread_eh() noexcept { return reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals()); }

// Per-thread set-up of an M: exception globals, signal stack, sanitizers.
void thread_init(M* m) {
  m->eh = thread_eh();
  setup_thread_signals(m);
  san::thread_start(m);
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr;
    std::size_t size;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      m->g0_stack_lo = addr;
      m->g0_stack_size = size;
    }
    pthread_attr_destroy(&attr);
  }
  cpuprof_thread_start(m);
}

// Runs g on m's g0 until g (or a goroutine it switched to) comes back.
void execute(M* m, G* g) {
  if (!g->started) prepare_first_run(m, g);
  casgstatus(g, GStatus::runnable, GStatus::running);
  m->curg = g;
  account_run(m->p);
  if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
    trace_begin(m, g);
  san::switch_to(m, nullptr, g);
  void* to = g->sp;
  stack_resume(g);
  M* m2 = static_cast<M*>(goro_switch(&m->g0_sp, to, m));
  san::switched(m2, nullptr);
  m2->run_after();
}

namespace {

void after_exit(M* m, G* g, void*);
void trace_switch(M* m, G* g, G* next, AfterFn after) noexcept;

// Leaves the CPU: see the file comment. `after(m, g, arg)` runs on the next
// context's stack.
void switch_out(M* m, G* g, AfterFn after, void* arg) {
  m->after = after;
  m->after_g = g;
  m->after_arg = arg;
  P* p = m->p;
  G* next = nullptr;
  if (p->preempt.load(std::memory_order_relaxed)) [[unlikely]] {
    // The time slice is over: the runnext goroutine goes behind the others.
    p->preempt.store(false, std::memory_order_relaxed);
    if (G* rn = p->runnext.exchange(nullptr, std::memory_order_acq_rel)) runqput(p, rn, /*next=*/false);
  }
  if (!sched.stopping.load(std::memory_order_relaxed) && !m->locked_g &&
      (p->id < sched.nprocs.load(std::memory_order_relaxed) || p->spare) &&
      (p->schedtick.load(std::memory_order_relaxed) % 61 != 0 ||
       sched.runq_size.load(std::memory_order_relaxed) == 0)) {
    bool inherit;
    next = runqget(p, &inherit);
    if (!inherit) tick(p);
    if (next && next->locked_m && next->locked_m != m) {
      // Locked to another thread: the scheduler loop hands it over.
      runqput(p, next, /*next=*/true);
      next = nullptr;
    }
  } else {
    tick(p);
  }
  if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
    trace_switch(m, g, next, after);
  save_eh(m, g);
  M* m2;
  if (next) {
    if (!next->started) prepare_first_run(m, next);
    casgstatus(next, GStatus::runnable, GStatus::running);
    m->curg = next;
    account_run(p);
    san::switch_to(m, g, next, after == &after_exit);
    void* to = next->sp;
    stack_resume(next);
    m2 = static_cast<M*>(goro_switch(&g->sp, to, m));
  } else {
    m->curg = nullptr;
    san::switch_to(m, g, nullptr, after == &after_exit);
    m2 = static_cast<M*>(goro_switch(&g->sp, m->g0_sp, m));
  }
  san::switched(m2, g);
  m2->run_after();
  restore_eh(m2, g);
  if (timers_due(m2->p)) [[unlikely]]
    run_timers(m2->p, nanotime());
}

struct ParkArgs {
  bool (*unlockf)(G*, void*);
  void* arg;
};

void after_park(M* m, G* g, void* a) {
  auto* pa = static_cast<ParkArgs*>(a);
  auto fn = pa->unlockf;
  void* arg = pa->arg;
  if (fn && !fn(g, arg)) {
    casgstatus(g, GStatus::waiting, GStatus::runnable);
    runqput(m->p, g, /*next=*/true);
  }
}

void after_yield(M* m, G* g, void*) { runqput(m->p, g, /*next=*/false); }
// A preempted goroutine goes to the global queue. Wake an idle P's M for it:
// the requeueing M may hold a spare P, which does not serve the global queue,
// and every regular P may be asleep (the goroutine was then never run again).
void after_requeue(M*, G* g, void*) {
  globrunqput(g);
  wakep();
}

void after_exit(M* m, G* g, void*) {
  P* p = m->p;
  p->exited.store(p->exited.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // TSan: off g's fiber by now; it goes to the fiber pool, reused only
  // after more goroutines have returned (tsan_reuse.cpp). GCC's runtime
  // counts fibers as threads (at most 8128 at once): it sees a fiber per
  // live goroutine, and a bounded pool.
  san::fiber_retire(g);
  // TSan: the G and its stack are reused only after 256 more exits
  // (tsan_reuse.cpp); outside TSan builds, g itself at once.
  g = san::reusable_after_exit(g);
  if (!g) return;
  stack_free(p, g);
  gfput(p, g);
}

// The tracer's view of a switch: g's slice ends (why: how it left), next's
// begins.
void trace_switch(M* m, G* g, G* next, AfterFn after) noexcept {
  const char* why = "switch";
  bool io_wait = false;
  if (after == &after_exit) {
    why = "exit";
  } else if (after == &after_yield) {
    why = "yield";
  } else if (after == &after_requeue) {
    why = "preempted";
  } else if (after == &after_park) {
    why = wait_reason_string(g->reason);
    io_wait = g->reason == WaitReason::io_wait;
  }
  trace_end(m, g, why, io_wait);
  if (next) trace_begin(m, next);
}

[[noreturn]] void goexit(M* m, G* g) {
  casgstatus(g, GStatus::running, GStatus::dead);
  if (g->locked_m) {  // exiting unlocks (Go would end the thread)
    g->locked_m = nullptr;
    g->lock_count = 0;
    m->locked_g = nullptr;
  }
  san::release(g->stack_lo);
  san::release(g);  // its closure buffer may be reused by the next go statement
  switch_out(m, g, &after_exit, nullptr);
  __builtin_unreachable();
}

[[noreturn]] void g_entry(void* mp, void* gp) {
  M* m = static_cast<M*>(mp);
  G* g = static_cast<G*>(gp);
  san::switched(m, g);
  m->run_after();
  san::acquire(g);            // everything before the go statement
  san::acquire(g->stack_lo);  // whoever used this stack before is done with it
  if (timers_due(m->p)) [[unlikely]]
    run_timers(m->p, nanotime());
  try {
    g->run(g->closure);
  } catch (const std::exception& e) {
    fatal_panic(g, e.what());
  } catch (...) {
    fatal_panic(g, "unknown exception");
  }
  g->destroy(g->closure);
  if (g->closure != g->buf) ::operator delete(g->closure, std::align_val_t(g->closure_align));
  g->closure = nullptr;
  m = current_m();
  goexit(m, m->curg);
}

std::int64_t next_goid(P* p) noexcept {
  if (!p) return sched.goid_gen.fetch_add(1, std::memory_order_relaxed) + 1;
  if (p->goid_next == p->goid_end) {
    constexpr std::int64_t batch = 16;
    p->goid_next = sched.goid_gen.fetch_add(batch, std::memory_order_relaxed) + 1;
    p->goid_end = p->goid_next + batch;
  }
  return p->goid_next++;
}

}  // namespace

G* gfget(P* p) {
  if (p && p->gfree) {
    G* g = p->gfree;
    p->gfree = g->schedlink;
    --p->ngfree;
    return g;
  }
  {
    LockGuard l(sched.gfree_lock);
    if (sched.gfree) {
      G* g = sched.gfree;
      sched.gfree = g->schedlink;
      --sched.ngfree;
      // Refill the local cache while we hold the lock.
      while (p && sched.gfree && p->ngfree < kGfreeLocalMax / 2) {
        G* x = sched.gfree;
        sched.gfree = x->schedlink;
        --sched.ngfree;
        x->schedlink = p->gfree;
        p->gfree = x;
        ++p->ngfree;
      }
      return g;
    }
  }
  return new_g();
}

void gfput(P* p, G* g) noexcept {
  g->schedlink = p->gfree;
  p->gfree = g;
  if (++p->ngfree < kGfreeLocalMax) return;
  LockGuard l(sched.gfree_lock);
  while (p->ngfree > kGfreeLocalMax / 2) {
    G* x = p->gfree;
    p->gfree = x->schedlink;
    --p->ngfree;
    x->schedlink = sched.gfree;
    sched.gfree = x;
    ++sched.ngfree;
  }
}

void requeue_global() {
  M* m = current_m();
  G* g = m->curg;
  casgstatus(g, GStatus::running, GStatus::runnable);
  switch_out(m, g, &after_requeue, nullptr);
}

void park(WaitReason reason, bool (*unlockf)(G*, void*), void* arg) {
  M* m = current_m();
  G* g = m->curg;
  g->reason = reason;
  g->wait_since = coarse_now();
  casgstatus(g, GStatus::running, GStatus::waiting);
  ParkArgs pa{unlockf, arg};
  switch_out(m, g, &after_park, &pa);
  g->reason = WaitReason::none;
}

}  // namespace goro::rt

namespace goro {

using namespace rt;

namespace detail {

spawn_slot spawn_begin(std::size_t size, std::size_t align) {
  if (!sched.running.load(std::memory_order_acquire)) throw std::logic_error("goro::go: no runtime is running");
  M* m = current_m();
  G* g = gfget(m ? m->p : nullptr);
  san::acquire(g);
  void* mem;
  if (size <= kInlineClosure && align <= 16) {
    mem = g->buf;
  } else {
    try {
      g->closure_align = align;
      mem = ::operator new(size, std::align_val_t(align));
    } catch (...) {
      spawn_abort({g, nullptr});
      throw;
    }
  }
  return {g, mem};
}

void spawn_abort(spawn_slot s) noexcept {
  G* g = static_cast<G*>(s.g);
  if (s.mem && s.mem != g->buf) ::operator delete(s.mem, std::align_val_t(g->closure_align));
  M* m = current_m();
  if (m && m->p) {
    gfput(m->p, g);
  } else {
    LockGuard l(sched.gfree_lock);
    g->schedlink = sched.gfree;
    sched.gfree = g;
    ++sched.ngfree;
  }
}

void spawn_commit(spawn_slot s, void (*run)(void*), void (*destroy)(void*) noexcept, const spawn_options* opts,
                  const source_location& loc) {
  G* g = static_cast<G*>(s.g);
  M* m = current_m();
  P* p = m ? m->p : nullptr;
  g->run = run;
  g->destroy = destroy;
  g->closure = s.mem;
  g->started = false;
  g->id = next_goid(p);
  g->parent_id = (m && m->curg) ? m->curg->id : 0;
  g->create_file = loc.file_name();
  g->create_func = loc.function_name();
  g->create_line = loc.line();
  g->want_stack = opts ? opts->stack_size : 0;
  if (opts && !opts->name.empty()) g->name.assign(opts->name.data(), opts->name.size());
  else if (!g->name.empty()) g->name.clear();
  g->reason = WaitReason::none;
  g->unlink = nullptr;
  g->discard = nullptr;
  g->runnable_since = 0;  // (a stamp of a life discarded at teardown)
  casgstatus(g, GStatus::dead, GStatus::runnable);
  san::release(g);
  if (p) {
    p->created.store(p->created.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    runqput(p, g, /*next=*/true);
  } else {
    sched.extra_created.fetch_add(1, std::memory_order_relaxed);
    globrunqput(g);
  }
  wakep();
  if (p && p->preempt.load(std::memory_order_relaxed)) [[unlikely]]
    preempt_check();
}

}  // namespace detail

void yield() {
  M* m = current_m();
  if (!m || !m->curg) {
    sched_yield();
    return;
  }
  P* p = m->p;
  if (timers_due(p)) run_timers(p, nanotime());
  if (runq_empty(p) && sched.runq_size.load(std::memory_order_relaxed) == 0 &&
      !sched.stopping.load(std::memory_order_relaxed) &&
      (p->id < sched.nprocs.load(std::memory_order_relaxed) || p->spare))
    return;
  G* g = m->curg;
  casgstatus(g, GStatus::running, GStatus::runnable);
  switch_out(m, g, &after_yield, nullptr);
}

}  // namespace goro
