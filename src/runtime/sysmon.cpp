// sysmon.cpp — blocking calls, the system monitor and preemption.
//
// blocking(f) is Go's entersyscall/exitsyscall: the goroutine's M detaches
// from its P (status syscall) and runs f on the thread's own stack (below
// the suspended scheduler frame: f may use as much stack as the thread
// has). A short call takes the P back with one CAS. sysmon, a thread of
// its own, retakes a P that has stayed in syscall for more than 20 us and
// hands it to another M, so goroutines blocked in blocking() never stall
// the rest. The returning M then looks for an idle P, or queues the
// goroutine globally and goes idle.
//
// Preemption. Switching goroutines from a signal handler is unsafe in C++
// (the interrupted code may hold any lock, malloc's included), so goro
// never interrupts a running goroutine. The guarantee instead: a goroutine
// that runs for more than 10 ms without a scheduling point does not hold up
// the goroutines queued behind it. sysmon notices (the P's schedtick has
// not moved for 10 ms), asks it to yield at its next goro call (P::preempt;
// checked by go() and by blocking-mode channel operations that complete
// without blocking), and, when
// the P has queued goroutines or due timers and no idle P can steal them,
// lends a spare P to a new M, which steals the hog's queue and runs its
// timers. The hog keeps its thread; for that while, more goroutines run in
// parallel than GOMAXPROCS, as when one is in a system call.
#include <thread>
#include <vector>

#include "goro/runtime.hpp"
#include "net/netpoll.hpp"
#include "arch/switch.hpp"
#include "runtime/debug.hpp"
#include "runtime/sanitizer.hpp"
#include "runtime/sched.hpp"
#include "runtime/trace.hpp"

namespace goro::rt {

namespace {

constexpr std::int64_t kSyscallRetakeNs = 20'000;
constexpr std::int64_t kHogNs = 10'000'000;
constexpr std::int64_t kSysmonMinNs = 20'000, kSysmonMaxNs = 10'000'000;
// How often sysmon runs the scavenger (stack.cpp): busy or idle.
constexpr std::int64_t kScavengeNs = 5'000'000'000;
// How often it gives back the deep pages of parked goroutines (shrink.cpp).
constexpr std::int64_t kShrinkNs = 1'000'000'000;

std::thread sysmon_thread;
std::uint64_t runq_gets_seen = 0;  // sysmon-only: global-queue progress
std::int64_t runq_gets_when = 0;

}  // namespace

void spare_put(P* p) noexcept {
  set_pstatus(p, PStatus::idle);
  p->for_global = false;
  p->link = sched.spare_free;
  sched.spare_free = p;
}

// Gives a P retaken from a blocking() call (or left by a locked M) to an M
// if it has anything to do, else to the idle list.
void handoffp(P* p) noexcept {
  bool work = !runq_empty(p);
  if (!work && p->spare) {
    LockGuard l(sched.lock);
    spare_put(p);
    return;
  }
  if (work || sched.runq_size.load(std::memory_order_acquire) > 0) {
    startm(p, /*spinning=*/false);
    return;
  }
  bool retired;
  {
    LockGuard l(sched.lock);
    retired = pidleput_or_retire(p);
  }
  // Its timers (moved to P 0 if it was retired) still need an M: one that
  // finds nothing becomes the sleeper.
  if (retired || p->timer0_when.load(std::memory_order_acquire) != 0) wakep();
}

namespace {

// Lends a spare P to a new spinning M: it steals the hog's queue, or, lent
// `for_global`, serves the global queue. Returns false when every spare P
// is lent already.
bool lend_spare(bool for_global) noexcept {
  P* sp;
  {
    LockGuard l(sched.lock);
    sp = sched.spare_free;
    if (sp) {
      sched.spare_free = sp->link;
    } else {
      int n = sched.nspare.load(std::memory_order_relaxed);
      if (n >= kMaxSpare) return false;
      sp = new P(1000 + n);
      sp->spare = true;
      sched.allp[kMaxProcs + n] = sp;
      sched.nspare.store(n + 1, std::memory_order_release);  // publishes the entry to thieves
    }
    sp->for_global = for_global;
  }
  sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
  startm(sp, /*spinning=*/true);
  return true;
}

// One pass over the Ps; returns true if it did something.
//
// Besides retaking Ps from blocking() calls and flagging hogs, this is the
// backstop of the progress guarantee (DESIGN §6): a goroutine queued on a
// P whose M has not switched goroutines since the last pass (its goroutine
// computes) gets an idle P's M woken for it (a spinner steals even runnext
// from a P that makes no progress), and when no P is idle, a spare P is lent
// once the P has hogged for 10 ms. The global queue gets the same: a spare
// P when nobody has taken from it for 10 ms while every P is busy.
bool retake(std::int64_t now) noexcept {
  bool did = false;
  int np = sched.nprocs.load(std::memory_order_acquire);
  int total = np + spare_count();
  bool stuck_work = false;
  for (int i = 0; i < total; ++i) {
    P* p = victim_at(i, np);
    if (!p) continue;
    PStatus st = p->status.load(std::memory_order_acquire);
    if (st == PStatus::syscall) {
      if (now - p->syscall_since.load(std::memory_order_relaxed) > kSyscallRetakeNs) {
        if (cas_pstatus(p, PStatus::syscall, PStatus::idle)) {
          handoffp(p);
          did = true;
        }
      }
      continue;
    }
    std::uint64_t ran = p->ran.load(std::memory_order_relaxed);
    bool progressed = ran != p->sysmon_ran;
    p->sysmon_ran = ran;
    if (st != PStatus::running) {
      p->sysmon_tick = p->schedtick.load(std::memory_order_relaxed);
      p->sysmon_when = now;
      // An idle P that still holds goroutines (a spare given back just as
      // one was readied onto it): somebody must steal them.
      if (!runq_empty(p)) stuck_work = true;
      continue;
    }
    if (!progressed && !runq_empty(p)) stuck_work = true;
    std::uint32_t t = p->schedtick.load(std::memory_order_relaxed);
    if (t != p->sysmon_tick) {
      p->sysmon_tick = t;
      p->sysmon_when = now;
      continue;
    }
    if (now - p->sysmon_when < kHogNs) continue;
    // A hog: the same goroutine has run for 10 ms.
    p->preempt.store(true, std::memory_order_relaxed);
    bool work = !runq_empty(p) || timers_due(p);
    // (Not for a hog on a spare P: idle Ps steal from it, and lending
    // spares for spares multiplied threads under load.)
    if (work && !p->spare && sched.npidle.load(std::memory_order_acquire) == 0 &&
        sched.nmspinning.load(std::memory_order_acquire) == 0) {
      if (lend_spare(false)) did = true;
      p->sysmon_when = now;  // give the lent P time before lending another
    }
  }
  // Goroutines queued behind computing goroutines while a P is idle and
  // nobody spins: wake an M (it spins, and its last pass takes runnext).
  if (stuck_work && sched.npidle.load(std::memory_order_acquire) > 0 &&
      sched.nmspinning.load(std::memory_order_acquire) == 0) {
    wakep();
    did = true;
  }
  // The global queue: taken from by Ps between goroutines; if every P is
  // busy and none has taken from it for 10 ms, lend a spare P for it.
  std::uint64_t gets = sched.runq_gets.load(std::memory_order_relaxed);
  if (sched.runq_size.load(std::memory_order_acquire) == 0 || gets != runq_gets_seen) {
    runq_gets_seen = gets;
    runq_gets_when = now;
  } else if (sched.npidle.load(std::memory_order_acquire) > 0) {
    if (sched.nmspinning.load(std::memory_order_acquire) == 0) {
      wakep();
      did = true;
    }
  } else if (now - runq_gets_when >= kHogNs && sched.nmspinning.load(std::memory_order_acquire) == 0) {
    if (lend_spare(true)) did = true;
    runq_gets_when = now;
  }
  return did;
}

// Go's sysmon: while every P is busy (no idle M polls, no sleeper waits in
// the poller), goroutines whose I/O is ready would wait for a P to run dry.
// If nobody has polled for 10 ms, sysmon polls without blocking and queues
// what it readied on the global queue, where busy Ps look every 61 ticks
// (and an idle P at once: wakep).
bool poll_network(std::int64_t now) noexcept {
  if (!netpoll_inited() || sched.npollwait.load(std::memory_order_acquire) == 0) return false;
  if (sched.sleep_until.load(std::memory_order_acquire) != 0) return false;  // the sleeper polls
  if (now - sched.lastpoll.load(std::memory_order_relaxed) < kHogNs) return false;
  int n = 0;
  G* list = netpoll(0, &n);
  if (!list) return false;
  G* tail = list;
  for (G* g = list; g; g = g->schedlink) {
    casgstatus(g, GStatus::waiting, GStatus::runnable);
    tail = g;
  }
  {
    LockGuard l(sched.lock);
    globrunqput_batch(list, tail, n);
  }
  wakep();
  return true;
}

void sysmon_loop() {
  std::int64_t delay = kSysmonMinNs;
  int quiet = 0;
  std::int64_t scavenged = nanotime(), shrunk = scavenged;
  G* shrink_cursor = nullptr;
  auto maybe_scavenge = [&](std::int64_t now) {
    if (now - shrunk >= kShrinkNs) {
      shrunk = now;
      shrink_parked_stacks(shrink_cursor);
    }
    if (now - scavenged < kScavengeNs) return;
    scavenged = now;
    scavenge();
  };
  while (!sched.stopping.load(std::memory_order_acquire)) {
    int np = sched.nprocs.load(std::memory_order_acquire);
    bool spare_lent = false;
    for (int i = 0, n = spare_count(); i < n && !spare_lent; ++i)
      spare_lent = spare_at(i)->status.load(std::memory_order_acquire) != PStatus::idle;
    if (sched.npidle.load(std::memory_order_acquire) >= np && sched.nexternal.load(std::memory_order_acquire) == 0 &&
        !spare_lent) {
      // Everything idle: sleep until an M takes a P.
      sched.sysmon_wake.store(0, std::memory_order_relaxed);
      sched.sysmon_sleeping.store(true, std::memory_order_seq_cst);
      if (sched.npidle.load(std::memory_order_seq_cst) >= np && !sched.stopping.load(std::memory_order_acquire))
        futex_wait_for(&sched.sysmon_wake, 0, 1'000'000'000);
      sched.sysmon_sleeping.store(false, std::memory_order_relaxed);
      delay = kSysmonMinNs;
      maybe_scavenge(nanotime());
      continue;
    }
    sched.sysmon_wake.store(0, std::memory_order_relaxed);  // a stale wake-up must not make this a spin
    futex_wait_for(&sched.sysmon_wake, 0, delay);
    std::int64_t now = nanotime();
    maybe_scavenge(now);
    bool polled = poll_network(now);
    bool acted = retake(now);
    bool any = false;
    for (int i = 0, n = sched.nprocs.load(std::memory_order_acquire), t = n + spare_count(); i < t && !any; ++i)
      if (P* p = victim_at(i, n)) any = p->preempt.load(std::memory_order_relaxed);
    sched.any_preempt.store(any, std::memory_order_relaxed);
    if (acted || polled) {
      quiet = 0;
      delay = kSysmonMinNs;
    } else if (++quiet > 50 && delay < kSysmonMaxNs) {
      delay *= 2;
    }
  }
}

struct OnStack {
  void (*fn)(void*);
  void* arg;
  void* back_sp;
  G* g;
};

[[noreturn]] void onstack_entry(void* mp, void* a) {
  auto* o = static_cast<OnStack*>(a);
  M* m = static_cast<M*>(mp);
  san::switched(m, nullptr);
  o->fn(o->arg);  // never throws: blocking()'s wrapper catches
  void* discard;
  san::switch_to(m, nullptr, o->g, /*exiting=*/true, /*sync=*/true);
  goro_switch(&discard, o->back_sp, m);
  __builtin_unreachable();
}

// Runs fn(arg) on the thread's own stack, below the scheduler's frame.
void run_on_thread_stack(M* m, G* g, void (*fn)(void*), void* arg) {
  auto top = reinterpret_cast<std::uintptr_t>(m->g0_sp) - 1024;
  // ASan: the thread's stack below the suspended scheduler frame may hold
  // stale redzones (frames that ran there before); f starts on clean memory.
  san::unpoison(m->g0_stack_lo, reinterpret_cast<void*>(top));
  OnStack o{fn, arg, nullptr, g};
  void* ctx = make_context(reinterpret_cast<void*>(top), &onstack_entry, &o);
  san::switch_to(m, g, nullptr, /*exiting=*/false, /*sync=*/true);
  M* m2 = static_cast<M*>(goro_switch(&o.back_sp, ctx, m));
  san::switched(m2, g);
}

void after_exitsyscall_park(M*, G* g, void*) {
  globrunqput(g);
  wakep();
}

}  // namespace

void sysmon_start() { sysmon_thread = std::thread(sysmon_loop); }

void sysmon_stop() noexcept {
  sched.sysmon_wake.store(1, std::memory_order_release);
  futex_wake(&sched.sysmon_wake, 1);
  if (sysmon_thread.joinable()) sysmon_thread.join();
  LockGuard l(sched.lock);
  sched.spare_free = nullptr;
}

// A preemption request reached a goro call: the goroutine goes to the back
// of the global queue (as Go's preemption does), behind everything queued.
void preempt_check() {
  M* m = current_m();
  if (m && m->p && m->curg && m->p->preempt.load(std::memory_order_relaxed)) {
    m->p->preempt.store(false, std::memory_order_relaxed);
    requeue_global();
  }
}

}  // namespace goro::rt

namespace goro::detail {

using namespace rt;

void blocking_run(void (*fn)(void*), void* arg) {
  M* m = current_m();
  if (!m || !m->curg || !m->p) {
    fn(arg);
    return;
  }
  G* g = m->curg;
  // entersyscall
  P* p = m->p;
  g->reason = WaitReason::syscall;
  casgstatus(g, GStatus::running, GStatus::syscall);
  sched.nexternal.fetch_add(1, std::memory_order_acq_rel);
  p->syscall_since.store(nanotime(), std::memory_order_relaxed);
  if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
    trace_block_begin(m, g, p);
  m->oldp = p;
  m->p = nullptr;
  set_pstatus(p, PStatus::syscall);

  run_on_thread_stack(m, g, fn, arg);

  // exitsyscall
  sched.nexternal.fetch_sub(1, std::memory_order_acq_rel);
  p = m->oldp;
  m->oldp = nullptr;
  if (cas_pstatus(p, PStatus::syscall, PStatus::running)) {
    m->p = p;
    casgstatus(g, GStatus::syscall, GStatus::running);
    if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
      trace_block_end(m, g);
  } else {
    P* np;
    {
      LockGuard l(sched.lock);
      np = pidleget();
    }
    if (np) {
      m->p = np;
      set_pstatus(np, PStatus::running);
      casgstatus(g, GStatus::syscall, GStatus::running);
      if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
        trace_block_end(m, g);
    } else {
      // No P: queue the goroutine and let this thread go idle. The M that
      // runs it again makes it running (execute).
      if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
        trace_block_end(m, g);  // (m holds no P: g's slice ends here)
      casgstatus(g, GStatus::syscall, GStatus::runnable);
      m->after = &after_exitsyscall_park;
      m->after_g = g;
      m->after_arg = nullptr;
      m->curg = nullptr;
      save_eh(m, g);
      san::switch_to(m, g, nullptr);
      M* m2 = static_cast<M*>(goro_switch(&g->sp, m->g0_sp, m));
      san::switched(m2, g);
      m2->run_after();  // resumed by an M that holds a P
      restore_eh(m2, g);
    }
  }
  g->reason = WaitReason::none;
}

}  // namespace goro::detail
