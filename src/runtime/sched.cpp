// sched.cpp — Ms and Ps: finding work, spinning, sleeping and waking.
//
// An M with a P looks for work in this order (findrunnable): its P's due
// timers; every 61st time the global queue (fairness); its local queue; the
// global queue; every active P's due timers, then its local queue again; a
// non-blocking netpoll when goroutines wait on the network and no M sleeps
// in epoll. A spare P (lent by sysmon, DESIGN §7) takes from the global
// queue only when it was lent for it. Then the M turns *spinning* — unless
// spinners already make up half of the busy Ps — and steals from the other
// Ps for a bounded time, yielding its CPU between rounds to any thread that
// wants it. An M that still finds nothing takes a last look at the global
// queue under sched.lock, gives its P back (to the idle list, or a spare to
// the spare list) and sleeps in stopm: on its futex word, or, for one M at
// a time (sched.sleeper), in the poller's epoll_wait until the next timer
// or network event. So an idle runtime burns no CPU.
//
// Waking idle Ms without lost wake-ups and without a thundering herd
// (Go's protocol, proc.go): whoever makes a goroutine runnable calls wakep(),
// which starts an M only when there is an idle P and no M is spinning
// (nmspinning == 0, claimed by CAS 0 -> 1). A spinning M that finds work
// stops spinning and, if it was the last spinner, calls wakep() itself, so a
// burst of work ramps up one M at a time. A spinning M that gives up first
// decrements nmspinning and then re-checks every P's queue; a submitter
// first publishes its goroutine and then reads nmspinning. Both sides put a
// full fence between their store and their load (#StoreLoad), so at least one
// of them sees the other: either the submitter sees a spinner (which will
// find the goroutine) or the spinner sees the goroutine. wakep reads npidle
// once before its fence, as an early-out: with no idle P there is no M to
// start, and nothing is lost — a goroutine on a running P's queue is run by
// that P's M, and one on the global queue is seen under sched.lock by any M
// before it idles its P.
#include <cstdio>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <time.h>

#include <utility>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/netpoll.hpp"
#include "runtime/debug.hpp"
#include "runtime/sched.hpp"
#include "runtime/trace.hpp"

namespace goro::rt {

Sched sched;

namespace {

thread_local M* t_m = nullptr;

constexpr std::int64_t kSpinNs = 50'000;   // how long an M spins looking for work
constexpr std::int64_t kStuckNs = 10'000;  // a P that has not switched for this long is stuck

std::size_t count_threads() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return static_cast<std::size_t>(-1);  // unknown: assume others exist
  std::size_t n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

}  // namespace

void pidleput(P* p) noexcept {  // sched.lock held
  if (p->listed.load(std::memory_order_relaxed)) fatal("pidleput: processor already on the idle list");
  p->listed.store(true, std::memory_order_relaxed);
  set_pstatus(p, PStatus::idle);
  p->link = sched.pidle;
  sched.pidle = p;
  sched.npidle.fetch_add(1, std::memory_order_seq_cst);
}

// Takes p out of circulation after a gomaxprocs shrink: p is held by no M
// and on no list (its holder let go of it, or the caller unlisted it). Its
// goroutines go to the global queue and its timers to P 0: only active
// Ps' timers are run and seen by the sleeper and the deadlock detector.
void retire_unheld_p(P* p) noexcept {  // sched.lock held
  while (G* g = runqget(p)) globrunqput_batch(g, g, 1);
  set_pstatus(p, PStatus::idle);
  p->retired = true;
  timers_move(p, sched.allp[0]);
}

bool pidleput_or_retire(P* p) noexcept {  // sched.lock held
  if (p->spare || p->id < sched.nprocs.load(std::memory_order_relaxed)) {
    pidleput(p);
    return false;
  }
  // Retired by a gomaxprocs shrink while an M held it (a spinning M, a
  // blocking() call sysmon retook): it leaves circulation now. Listed, it
  // kept its goroutines and timers until the next pidleget, which a
  // runtime whose Ms are all idle never makes: the timers never ran, and
  // the deadlock detector reported the goroutines waiting on them
  // (run_test's TimersOfRetiredProcessorsStillFire, about 1 run in 1,000
  // under load).
  retire_unheld_p(p);
  return true;
}

P* pidleget() noexcept {  // sched.lock held
  while (P* p = sched.pidle) {
    sched.pidle = p->link;
    sched.npidle.fetch_sub(1, std::memory_order_seq_cst);
    p->listed.store(false, std::memory_order_relaxed);
    if (p->id < sched.nprocs.load(std::memory_order_relaxed)) return p;
    retire_unheld_p(p);  // retired by gomaxprocs: dropped from the idle list
  }
  return nullptr;
}

namespace {

void acquirep(M* m, P* p) noexcept {
  // Two owners of one P would run one goroutine twice (a dead goroutine
  // resumed: SIGILL/SIGSEGV far from the cause): fail here instead.
  if (p->listed.load(std::memory_order_relaxed)) fatal("acquirep: processor is on the idle list");
  m->p = p;
  set_pstatus(p, PStatus::running);
  if (sched.sysmon_sleeping.load(std::memory_order_relaxed)) {
    sched.sysmon_wake.store(1, std::memory_order_release);
    futex_wake(&sched.sysmon_wake, 1);
  }
}

void mstart(M* m);

// Starts a thread for P p. The thread is created under sched.lock so that
// run()'s teardown, which joins every M in allm, never sees an M whose
// thread does not exist yet; once the runtime is stopping no M is added.
void newm(P* p, bool spinning) {
  LockGuard l(sched.lock);
  if (sched.stopping.load(std::memory_order_relaxed)) {
    if (spinning) sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    if (!p->spare) pidleput(p);
    return;
  }
  M* m = new M;
  m->nextp = p;
  m->spinning = spinning;
  m->id = static_cast<int>(sched.allm.size());
  m->rng = 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(m->id + 1);
  sched.allm.push_back(m);
  m->thread = std::thread(mstart, m);
}

}  // namespace

// Hands P p (or an idle one) to an idle M, or to a new one.
void startm(P* p, bool spinning) noexcept {
  sched.lock.lock();
  if (!p) {
    p = pidleget();
    if (!p) {
      sched.lock.unlock();
      if (spinning) sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
  }
  M* m = sched.midle;
  if (m) {
    sched.midle = m->link;
    --sched.nmidle;
  }
  sched.lock.unlock();
  if (!m) {
    newm(p, spinning);
    return;
  }
  m->spinning = spinning;
  m->nextp = p;
  m->wake.store(1, std::memory_order_release);
  futex_wake(&m->wake, 1);
}

namespace {

// Puts m to sleep until startm hands it a P (or the runtime stops). If no
// other M does it, m becomes the *sleeper*: it waits in the network poller
// until the earliest timer or an I/O event, off the idle list (startm
// cannot hand it a P meanwhile); then it takes an idle P, if one is free,
// and returns with the goroutines the poller made ready on that P.
// Returns false when the runtime is stopping.
bool stopm(M* m) noexcept {
  for (;;) {
    std::int64_t until = 0;
    bool sleeper = false;
    {
      LockGuard l(sched.lock);
      if (sched.stopping.load(std::memory_order_relaxed)) return false;
      if (!sched.sleeper && sched.npidle.load(std::memory_order_relaxed) > 0) {
        until = next_timer_when();
        if (until || sched.npollwait.load(std::memory_order_acquire) > 0) {
          sleeper = true;
          sched.sleeper = m;
          sched.sleep_until.store(until ? until : INT64_MAX, std::memory_order_release);
        }
      }
      if (!sleeper) {
        m->link = sched.midle;
        sched.midle = m;
        ++sched.nmidle;
      }
    }
    if (!sleeper) {
      bool last;
      {
        LockGuard l(sched.lock);
        last = sched.nmidle == static_cast<int>(sched.allm.size()) && !sched.stopping.load(std::memory_order_relaxed);
      }
      if (last) check_deadlock();
      stacks_trim_idle();
      while (m->wake.load(std::memory_order_acquire) == 0) futex_wait(&m->wake, 0);
      m->wake.store(0, std::memory_order_relaxed);
      if (!m->nextp) return false;
      acquirep(m, m->nextp);
      m->nextp = nullptr;
      return true;
    }
    std::int64_t delay = -1;
    if (until) {
      delay = until - nanotime();
      if (delay < 0) delay = 0;
    }
    int n = 0;
    G* list = netpoll(delay, &n);
    P* p;
    {
      LockGuard l(sched.lock);
      sched.sleeper = nullptr;
      sched.sleep_until.store(0, std::memory_order_release);
      p = sched.stopping.load(std::memory_order_relaxed) ? nullptr : pidleget();
      if (!p && list) {
        // Every P is busy: their Ms will find these in the global queue.
        G* tail = list;
        for (G* g = list; g; g = g->schedlink) {
          casgstatus(g, GStatus::waiting, GStatus::runnable);
          tail = g;
        }
        globrunqput_batch(list, tail, n);
        list = nullptr;
      }
    }
    if (p) {
      acquirep(m, p);
      while (G* g = list) {
        list = g->schedlink;
        casgstatus(g, GStatus::waiting, GStatus::runnable);
        runqput(p, g, /*next=*/false);
      }
      if (n > 1) wakep();
      return true;
    }
    if (sched.stopping.load(std::memory_order_acquire)) return false;
  }
}

// Runs every P's expired timers (their callbacks ready goroutines onto m's P).
void run_all_timers(M* m) noexcept {
  int np = sched.nprocs.load(std::memory_order_acquire);
  for (int i = 0; i < np; ++i) {
    P* v = sched.allp[i];
    if (v && timers_due(v)) run_timers(v, nanotime());
  }
  (void)m;
}

void resetspinning(M* m) noexcept {
  m->spinning = false;
  if (sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) wakep();
}

// Victims are the active regular Ps and the spare ones (a goroutine that a
// spare P's goroutine spawned or readied must not wait for that goroutine
// to block: idle Ps steal from spare Ps too).
G* steal_work(M* m, bool steal_next) noexcept {
  int np = sched.nprocs.load(std::memory_order_acquire);
  int total = np + spare_count();
  if (total <= 1) return nullptr;
  int start = static_cast<int>(fastrand(m) % static_cast<std::uint32_t>(total));
  for (int i = 0; i < total; ++i) {
    P* v = victim_at((start + i) % total, np);
    if (v == m->p || !v) continue;
    if (G* g = runqsteal(m->p, v, steal_next)) return g;
  }
  return nullptr;
}

// The last pass of a spin: a runnext goroutine of a P whose run count has
// not moved during the spin's last 10 us or more (its M is computing, or
// its thread is not running) is taken, so a goroutine readied by a
// goroutine that then computes does not wait behind it.
constexpr int kRanSnapshot = kMaxProcs + kMaxSpare;
struct RanSnapshot {
  int n = 0;
  std::uint64_t ran[kRanSnapshot];
};
void snapshot_ran(RanSnapshot& s, int np) noexcept {
  s.n = np + spare_count();
  for (int i = 0; i < s.n; ++i) {
    P* v = victim_at(i, np);
    s.ran[i] = v ? v->ran.load(std::memory_order_relaxed) : 0;
  }
}
// True if victim i (of the snapshot) has not switched goroutines since.
bool stuck_since(const RanSnapshot& s, int i, P* v) noexcept {
  return i < s.n && v->ran.load(std::memory_order_relaxed) == s.ran[i];
}
G* steal_stuck_runnext(M* m, const RanSnapshot& s, int np) noexcept {
  for (int i = 0; i < s.n; ++i) {
    P* v = victim_at(i, np);
    if (!v || v == m->p || !stuck_since(s, i, v)) continue;
    if (v->runnext.load(std::memory_order_relaxed))
      if (G* g = runqsteal(m->p, v, true)) return g;
  }
  return nullptr;
}

// Gives a P above the current gomaxprocs back: its queue goes global.
void retire_p(M* m) noexcept {
  P* p = m->p;
  LockGuard l(sched.lock);
  // gomaxprocs may have grown again since the caller looked: it does not
  // put a P that has an M on the idle list, so the P must stay with us.
  if (p->id < sched.nprocs.load(std::memory_order_relaxed)) return;
  m->p = nullptr;
  retire_unheld_p(p);
  if (P* np = pidleget()) acquirep(m, np);
  if (!m->p && m->spinning) {
    // Off to stopm without a P: a spinning M without a P would be counted
    // in nmspinning for ever, and wakep would never start another M.
    m->spinning = false;
    sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
  }
}

// findrunnable's phases, in the order it runs them (the essay above).

// 1. Work m can take without spinning: its P's due timers, every 61st time
// the global queue first (fairness), its local queue, the global queue,
// every active P's due timers, its local queue again, and a non-blocking
// netpoll when goroutines wait on the network and no M sleeps in epoll.
G* find_local_work(M* m, P* p, bool global_ok) noexcept {
  if (timers_due(p)) run_timers(p, nanotime());
  tick(p);
  if (global_ok && p->schedtick.load(std::memory_order_relaxed) % 61 == 0 &&
      sched.runq_size.load(std::memory_order_relaxed) > 0) {
    LockGuard l(sched.lock);
    if (G* g = globrunqget(p, 1)) return g;
  }
  if (G* g = runqget(p)) return g;
  if (global_ok && sched.runq_size.load(std::memory_order_relaxed) > 0) {
    LockGuard l(sched.lock);
    if (G* g = globrunqget(p, static_cast<int>(kRunqSize))) return g;
  }
  run_all_timers(m);
  if (G* g = runqget(p)) return g;
  if (sched.npollwait.load(std::memory_order_relaxed) > 0 && sched.sleep_until.load(std::memory_order_relaxed) == 0) {
    int n = 0;
    if (G* list = netpoll(0, &n)) {
      G* first = list;
      list = list->schedlink;
      while (G* g = list) {
        list = g->schedlink;
        casgstatus(g, GStatus::waiting, GStatus::runnable);
        runqput(p, g, /*next=*/false);
      }
      if (n > 1) wakep();
      casgstatus(first, GStatus::waiting, GStatus::runnable);
      return first;
    }
  }
  return nullptr;
}

// 2. Spin: steal from the other Ps (and take from the global queue) for
// kSpinNs. An M that is not spinning yet spins only while spinners make up
// less than half of the busy Ps. Returns null when the spin ends empty (or
// the runtime stops: the next phase sees it).
G* spin(M* m, P* p, bool global_ok, RanSnapshot& ran0) noexcept {
  int np = sched.nprocs.load(std::memory_order_relaxed);
  if (!m->spinning &&
      2 * sched.nmspinning.load(std::memory_order_relaxed) >= np - sched.npidle.load(std::memory_order_relaxed))
    return nullptr;
  if (!m->spinning) {
    m->spinning = true;
    sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
  }
  std::int64_t deadline = nanotime() + kSpinNs;
  snapshot_ran(ran0, np);
  bool resnapped = false;
  for (unsigned iter = 0;; ++iter) {
    // runnext is not stolen while spinning: a pair handing values back
    // and forth must stay on its P (stealing it makes the pair bounce
    // between threads). Only the last pass takes a runnext whose P made
    // no progress for 10 us (its M is stuck in user code).
    if (G* g = steal_work(m, false)) {
      resetspinning(m);
      return g;
    }
    if (global_ok && sched.runq_size.load(std::memory_order_relaxed) > 0) {
      G* g;
      {
        LockGuard l(sched.lock);
        g = globrunqget(p, static_cast<int>(kRunqSize));
      }
      if (g) {
        resetspinning(m);
        return g;
      }
    }
    if (sched.stopping.load(std::memory_order_relaxed)) return nullptr;
    if ((iter & 15) == 15) {
      run_all_timers(m);
      if (G* g = runqget(p)) {
        resetspinning(m);
        return g;
      }
      std::int64_t now = nanotime();
      if (now > deadline) {
        if (G* g = steal_stuck_runnext(m, ran0, np)) {
          resetspinning(m);
          return g;
        }
        return nullptr;
      }
      // "Stuck" means no switch during the spin's last kStuckNs at least
      // (Go takes runnext after 3 us): snapshot again once, that far
      // before the deadline.
      if (!resnapped && now > deadline - kStuckNs) {
        snapshot_ran(ran0, np);
        resnapped = true;
      }
    }
    // Between rounds the spinner offers its CPU to any other thread
    // that wants it: another of our Ms with work, or another process
    // (the client on the same machine). With nothing else runnable the
    // call returns at once. Pausing instead kept the CPU from them for
    // the whole spin: wrk beside http_hello on 2 cores got 22 % fewer
    // requests through, and hand-offs were no faster (docs/BENCHMARKS.md).
    sched_yield();
  }
}

// 3. A last look at the global queue under sched.lock, then m gives its P
// back: a spare to the spare list, any other to the idle list (or retired,
// after a gomaxprocs shrink). Sets stop (and keeps the P) when the runtime
// is stopping.
G* release_p(M* m, P* p, bool global_ok, bool& stop) noexcept {
  G* g = nullptr;
  {
    LockGuard l(sched.lock);
    if (sched.stopping.load(std::memory_order_relaxed)) {
      stop = true;
      return nullptr;
    }
    if (global_ok && sched.runq_size.load(std::memory_order_relaxed) > 0) {
      g = globrunqget(p, static_cast<int>(kRunqSize));
    } else {
      m->p = nullptr;
      if (p->spare) spare_put(p);
      else pidleput_or_retire(p);  // (this M's stopm finds P 0's timers, if idle)
      return nullptr;
    }
  }
  if (m->spinning) resetspinning(m);  // (may wakep: not under sched.lock)
  return g;
}

// 4. A spinner that gave up stops spinning, then re-checks every queue: a
// submitter may have seen nmspinning != 0 and not started an M (the
// #StoreLoad argument in the essay above). With work found and an idle P,
// m takes the P and spins again (returns true).
bool unspin_and_recheck(M* m, P* p, const RanSnapshot& ran0) noexcept {
  m->spinning = false;
  sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // A runnext goroutine counts only on a P that has not switched since
  // the spin began (its M computes); elsewhere its own M runs it next.
  int np = sched.nprocs.load(std::memory_order_acquire);
  bool work = sched.runq_size.load(std::memory_order_acquire) > 0;
  for (int i = 0, n = np + spare_count(); i < n && !work; ++i) {
    P* v = victim_at(i, np);
    if (!v || v == p) continue;
    if (!runq_ring_empty(v)) work = true;
    else if (ran0.n && v->runnext.load(std::memory_order_acquire) && stuck_since(ran0, i, v)) work = true;
  }
  if (!work) return false;
  P* np2;
  {
    LockGuard l(sched.lock);
    np2 = pidleget();
  }
  if (!np2) return false;
  acquirep(m, np2);
  m->spinning = true;
  sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
  return true;
}

// Finds a runnable goroutine for m, sleeping while there is none. Returns
// null when the runtime stops.
G* findrunnable(M* m) noexcept {
  RanSnapshot ran0;  // taken when a spin starts, again 10 us before its end
  for (;;) {
    if (sched.stopping.load(std::memory_order_acquire)) return nullptr;
    if (!m->p) {
      if (!stopm(m)) return nullptr;
      continue;
    }
    if (m->p->id >= sched.nprocs.load(std::memory_order_relaxed) && !m->p->spare) {
      retire_p(m);
      continue;
    }
    P* p = m->p;
    // A spare P relieves the P it was lent for (stealing, timers); it takes
    // from the global queue only when lent for it (a spare serving the global
    // queue as a matter of course keeps an extra thread busy for as long as
    // there is work: timers ran 2x slower). It goes back when it runs dry.
    const bool global_ok = !p->spare || p->for_global;
    if (G* g = find_local_work(m, p, global_ok)) return g;
    if (G* g = spin(m, p, global_ok, ran0)) return g;
    bool stop = false;
    if (G* g = release_p(m, p, global_ok, stop)) return g;
    if (stop) return nullptr;
    if (m->spinning && unspin_and_recheck(m, p, ran0)) continue;
    if (!stopm(m)) return nullptr;
  }
}

void mstart(M* m) {
  set_current_m(m);
  thread_init(m);
  acquirep(m, m->nextp);
  m->nextp = nullptr;
  schedule_loop(m);
  cpuprof_thread_exit(m);
  teardown_thread_signals(m);
  set_current_m(nullptr);
}

}  // namespace

[[gnu::noinline]] M* current_m() noexcept {
  asm volatile("" ::: "memory");
  return t_m;
}

[[gnu::noinline]] void set_current_m(M* m) noexcept {
  asm volatile("" ::: "memory");
  t_m = m;
}

std::int64_t nanotime() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::uint32_t fastrand(M* m) noexcept {
  std::uint64_t x = m->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  m->rng = x;
  return static_cast<std::uint32_t>(x >> 32);
}

void wakep() noexcept {
  // No idle P: nobody to wake (the goroutine is queued on a running P).
  if (sched.npidle.load(std::memory_order_relaxed) == 0) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sched.npidle.load(std::memory_order_relaxed) == 0) return;
  if (sched.nmspinning.load(std::memory_order_relaxed) != 0) return;
  int z = 0;
  if (!sched.nmspinning.compare_exchange_strong(z, 1, std::memory_order_seq_cst)) return;
  startm(nullptr, /*spinning=*/true);
}

void ready(G* g) noexcept {
  // The waker has taken g off its wait queue: teardown must not unlink it.
  g->unlink = nullptr;
  casgstatus(g, GStatus::waiting, GStatus::runnable);
  if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
    trace_wake(g);
  M* m = current_m();
  if (m && m->p) {
    runqput(m->p, g, /*next=*/true);
  } else {
    globrunqput(g);
  }
  wakep();
}

// The deadlock detector (Go's checkdead), run by the last M to go idle.
// It must never fire falsely, so it stays silent at any sign that something
// could still wake a goroutine: a runnable goroutine, a pending timer, a
// signal registration, a goroutine in blocking() or waiting on the poller,
// or any thread of the process that is not the runtime's own (a plain
// thread may hold a channel). Under ThreadSanitizer its background thread
// is allowed for.
bool looks_dead();

void check_deadlock() {
  // Plain threads are outside the scheduler's locks: a thread may ready a
  // goroutine and exit between two of the checks below. So a deadlock must
  // be seen twice, 5 ms apart, with every M idle in between.
  if (!looks_dead()) return;
  timespec ts{0, 5'000'000};
  nanosleep(&ts, nullptr);
  if (!looks_dead()) return;
  std::string s = "fatal error: all goroutines are asleep - deadlock!\n\n";
  append_dump(s, true);
  write_stderr(s.data(), s.size());
  _exit(2);
}

bool looks_dead() {
  if (sched.runq_size.load(std::memory_order_acquire) > 0) return false;
  int np = sched.nprocs.load(std::memory_order_acquire);
  for (int i = 0; i < np; ++i) {
    P* p = sched.allp[i];
    if (p && (!runq_empty(p) || p->timer0_when.load(std::memory_order_acquire) != 0)) return false;
  }
  if (sched.nexternal.load(std::memory_order_acquire) > 0 || sched.npollwait.load(std::memory_order_acquire) > 0 ||
      signals_registered())
    return false;
  std::size_t mine;
  {
    LockGuard l(sched.lock);
    if (sched.nmidle != static_cast<int>(sched.allm.size()) || sched.stopping.load(std::memory_order_relaxed))
      return false;
    mine = sched.allm.size() + 2;  // the Ms, the signal thread and sysmon
  }
#if defined(GORO_TSAN)
  mine += 1;  // ThreadSanitizer's background thread
#endif
  if (count_threads() > mine) return false;
  int waiting = 0;
  {
    LockGuard l(sched.allg_lock);
    for (G* g = sched.allg; g; g = g->allnext) {
      GStatus st = g->status.load(std::memory_order_acquire);
      if (st == GStatus::runnable || st == GStatus::running || st == GStatus::syscall) return false;
      if (st == GStatus::waiting) ++waiting;
    }
  }
  return waiting > 0;
}

void wake_timer_sleeper(std::int64_t when) noexcept {
  {
    LockGuard l(sched.lock);
    if (sched.sleeper) {
      if (when < sched.sleep_until.load(std::memory_order_relaxed)) netpoll_break();
      return;
    }
  }
  wakep();  // an M that finds nothing to do becomes the sleeper
}

// Wakes every idle M so that it sees sched.stopping and exits.
void start_ms_for_stop() noexcept {
  netpoll_break();  // the sleeper, if any
  LockGuard l(sched.lock);
  for (M* m : sched.allm)
    if (m->locked_wait.load(std::memory_order_seq_cst)) {
      m->wake.store(1, std::memory_order_release);
      futex_wake(&m->wake, 1);
    }
  while (M* m = sched.midle) {
    sched.midle = m->link;
    --sched.nmidle;
    m->nextp = nullptr;
    m->wake.store(1, std::memory_order_release);
    futex_wake(&m->wake, 1);
  }
}

void execute(M* m, G* g);

// lock_os_thread (Go's LockOSThread). A locked goroutine runs only on its
// M, and that M runs nothing else: when the goroutine leaves the CPU, its M
// gives its P away and sleeps (stoplockedm); an M that dequeues a goroutine
// locked to another M hands it its P and the goroutine (startlockedm).
namespace {

void startlockedm(M* m, G* g) noexcept {
  M* lm = g->locked_m;
  P* p = m->p;
  m->p = nullptr;
  set_pstatus(p, PStatus::idle);  // being handed over (lm's acquirep makes it running)
  lm->nextp = p;
  lm->nextg = g;
  lm->wake.store(1, std::memory_order_release);
  futex_wake(&lm->wake, 1);
}

// Returns the locked goroutine to run, or null when stopping.
G* stoplockedm(M* m) noexcept {
  if (P* p = m->p) {
    // A P being handed over is idle and has no M (as after sysmon's retake);
    // it used to travel as "running", still counted as this M's, until
    // the next M's acquirep (GORO_DCHECK's set_pstatus: running -> running).
    m->p = nullptr;
    set_pstatus(p, PStatus::idle);
    handoffp(p);
  }
  m->locked_wait.store(true, std::memory_order_seq_cst);
  while (m->wake.load(std::memory_order_acquire) == 0) {
    if (sched.stopping.load(std::memory_order_acquire)) break;
    futex_wait(&m->wake, 0);
  }
  m->locked_wait.store(false, std::memory_order_relaxed);
  m->wake.store(0, std::memory_order_relaxed);
  if (!m->nextp || !m->nextg) return nullptr;
  acquirep(m, m->nextp);
  m->nextp = nullptr;
  return std::exchange(m->nextg, nullptr);
}

}  // namespace

void schedule_loop(M* m) {
  for (;;) {
    // No runtime lock survives a switch (a parked goroutine's queue lock is
    // released by run_after before anything else runs on this thread).
    rank_assert_none_held("scheduler loop");
    G* g;
    if (m->locked_g) {
      // Our goroutine left the CPU: it runs here and only here.
      g = stoplockedm(m);
    } else {
      g = findrunnable(m);
    }
    if (!g) break;
    // An M woken as a spinner that found work stops spinning (and, if it
    // was the last spinner, wakes another: the work may not be all).
    if (m->spinning) resetspinning(m);
    if (g->locked_m && g->locked_m != m) {
      startlockedm(m, g);
      continue;
    }
    execute(m, g);
  }
  if (m->spinning) {
    m->spinning = false;
    sched.nmspinning.fetch_sub(1, std::memory_order_relaxed);
  }
}

namespace {
const char* gstatus_name(GStatus s) noexcept {
  switch (s) {
    case GStatus::idle: return "idle";
    case GStatus::runnable: return "runnable";
    case GStatus::running: return "running";
    case GStatus::waiting: return "waiting";
    case GStatus::dead: return "dead";
    case GStatus::syscall: return "syscall";
  }
  return "?";
}
const char* pstatus_name(PStatus s) noexcept {
  switch (s) {
    case PStatus::idle: return "idle";
    case PStatus::running: return "running";
    case PStatus::syscall: return "syscall";
  }
  return "?";
}
}  // namespace

void gstatus_bad(G* g, GStatus cur, GStatus from, GStatus to) noexcept {
  char msg[200];
  std::snprintf(msg, sizeof msg, "casgstatus: goroutine %lld: %s -> %s, but its status is %s%s",
                static_cast<long long>(g->id), gstatus_name(from), gstatus_name(to), gstatus_name(cur),
                gstatus_valid(from, to) ? "" : " (and the transition is invalid)");
  dcheck_fail(msg);
}

void pstatus_bad(P* p, PStatus cur, PStatus to) noexcept {
  char msg[160];
  std::snprintf(msg, sizeof msg, "set_pstatus: processor %d: invalid transition %s -> %s", p->id, pstatus_name(cur),
                pstatus_name(to));
  dcheck_fail(msg);
}

}  // namespace goro::rt

// lock_os_thread's public half (the scheduler's half, startlockedm and
// stoplockedm, is above): pins the calling goroutine to its M.
namespace goro {

using namespace rt;

void lock_os_thread() {
  M* m = current_m();
  if (!m || !m->curg) return;  // a plain thread is its own thread already
  G* g = m->curg;
  if (g->lock_count++ == 0) {
    g->locked_m = m;
    m->locked_g = g;
  }
}

void unlock_os_thread() noexcept {
  M* m = current_m();
  if (!m || !m->curg) return;
  G* g = m->curg;
  if (g->lock_count == 0 || --g->lock_count > 0) return;
  g->locked_m = nullptr;
  m->locked_g = nullptr;
}

}  // namespace goro
