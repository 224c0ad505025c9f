// sched.hpp — the scheduler's core structures: G, M, P and the global state.
//
// Glossary (as in Go's proc.go):
//   G  a goroutine: its saved context, its stack, its closure, its state.
//   M  an OS thread that runs goroutines. Each M has a g0 context: the
//      thread's own stack, where the scheduler loop runs.
//   P  a processor: the right to run Go code, with a local run queue and
//      caches (free G descriptors, free stacks, goroutine ids). `nprocs`
//      Ps are active (gomaxprocs); sysmon may lend up to kMaxSpare spare
//      Ps beside them while goroutines hog theirs (DESIGN §7). An M must
//      hold a P to run goroutines.
//
// Ownership by state (the G's `status`):
//   runnable  the G is in exactly one run queue (a P's runq or runnext, or
//             the global queue); whoever dequeues it owns it.
//   running   the M whose curg it is owns it and its stack.
//   waiting   the G is parked; whoever holds the wait queue it is on owns
//             the right to ready it, exactly once.
//   syscall   the G runs inside blocking() on its M, which keeps its stack;
//             its P (in syscall state) may be retaken by sysmon meanwhile.
//   dead      the descriptor sits on a free list.
// A G's stack is touched only by the M that runs it. A G leaves its stack
// only through goro_switch, and every action that publishes it to other
// threads (enqueueing it, unlocking the wait queue it is on, freeing it)
// runs after the switch, on the next context's stack: see M::after.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "runtime/lock.hpp"

namespace goro::rt {

struct G;
struct M;
struct P;
struct TraceBuf;
struct CpuRing;

// A runtime timer (time.go's timer): lives in one P's heap while pending.
struct Timer {
  std::int64_t when = 0;                             // monotonic ns
  std::int64_t period = 0;                           // > 0: periodic
  void (*f)(Timer* t, std::uint64_t seq) = nullptr;  // runs on an M, outside every timer lock
  void* arg = nullptr;
  std::atomic<P*> p{nullptr};  // the heap holding it (null: not pending)
  int idx = -1;                // its slot in p's heap (p->timers_lock)
  std::uint64_t seq = 0;       // bumped by every del/mod, passed to f
  // Counted one-shot timers: incremented by run_timers under the heap lock
  // as it pops the timer, decremented by f once it has decided (under its
  // owner's lock) whether the firing is current. The owner reads it to tell
  // "popped, f not yet decided" from "not pending" (Go's isSending: Stop
  // racing the firing still reports the timer stopped).
  std::atomic<int> running{0};
  bool counted = false;
  // Periodic timers: called by run_timers under the heap lock, while the
  // heap's own reference to the owner is still there, so that f runs with
  // a reference of its own (which f releases) even if the timer is stopped
  // and its handle dropped meanwhile. A one-shot f inherits the heap's.
  void (*pin)(Timer* t) = nullptr;
  // Called (outside every timer lock) for a timer still pending when run()
  // ends and the runtime forgets its heaps: releases what the heap entry
  // owned (goro::after's state has no other owner). Null: nothing to do.
  void (*forget)(Timer* t) = nullptr;
};

enum class GStatus : std::uint32_t { idle, runnable, running, waiting, dead, syscall };

// A P's status: who owns it. running: its M (m). syscall: its M is inside
// blocking() and may take it back with a CAS, unless sysmon retook it
// first (CAS to idle). idle: on the idle list, or being handed over.
enum class PStatus : std::uint32_t { idle, running, syscall };

// Why a goroutine waits, in Go's words (shown by goroutine dumps).
enum class WaitReason : std::uint8_t {
  none,
  chan_receive,
  chan_send,
  chan_receive_nil,
  chan_send_nil,
  select,
  select_no_cases,
  sleep,
  io_wait,
  mutex_lock,
  rwmutex_rlock,
  rwmutex_lock,
  waitgroup_wait,
  cond_wait,
  semacquire,
  syscall,
  once,
  timer_goroutine,
};
const char* wait_reason_string(WaitReason r) noexcept;

// The C++ runtime's per-thread exception state (__cxa_eh_globals in the
// Itanium ABI): swapped with the goroutine at every switch so that a
// goroutine may park inside a catch block and resume on another thread.
struct EhGlobals {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

inline constexpr std::size_t kInlineClosure = 96;

struct G {
  void* sp = nullptr;        // saved context while not running
  char* stack_lo = nullptr;  // usable stack [stack_lo, stack_lo + stack_size); null until first run
  std::size_t stack_size = 0;
  G* schedlink = nullptr;  // run queue / free list link (owner of the state)
  std::atomic<GStatus> status{GStatus::dead};
  WaitReason reason = WaitReason::none;
  bool started = false;          // has run (its closure is being or was consumed)
  std::uint8_t latency_seq = 0;  // scheduler latency: counts its transitions to runnable
  // A stack shrink's claim on this parked G (shrink.cpp): 0 none, 1 claimed,
  // 2 claimed and its resumer waits (futex word).
  std::atomic<std::uint32_t> shrink_claim{0};
  std::int64_t runnable_since = 0;  // scheduler latency: when a sampled transition happened (0: none)
  std::int64_t id = 0;
  std::int64_t parent_id = 0;
  std::int64_t wait_since = 0;    // monotonic ns when it parked
  std::int64_t shrunk_since = 0;  // the wait_since of the last park whose stack was shrunk (sysmon's)
  std::size_t want_stack = 0;     // requested reservation (0: default)
  // creation site
  const char* create_file = "";
  const char* create_func = "";
  std::uint32_t create_line = 0;
  std::string name;
  // the closure
  void (*run)(void*) = nullptr;
  void (*destroy)(void*) noexcept = nullptr;
  void* closure = nullptr;
  std::size_t closure_align = 16;  // of a heap-allocated closure
  EhGlobals eh;
  // Wait-queue hook: called (with the G's wait lock protocol of the object)
  // when run() ends and the G is discarded, to unlink it from the queue.
  void (*unlink)(G*) = nullptr;
  // A second teardown hook, for a record that outlives the park itself
  // (semaphore::acquire(ctx) keeps a waiter in the semaphore's queue while
  // it parks in a select): discard(discard_arg) runs after unlink.
  void (*discard)(void*) = nullptr;
  void* discard_arg = nullptr;
  void* wait_obj = nullptr;         // the object whose queue it waits on
  void* park_data = nullptr;        // per-wait data (the waiter record)
  G* allnext = nullptr;             // registry of every descriptor ever made
  M* locked_m = nullptr;            // lock_os_thread: the only M that may run it
  int lock_count = 0;               // nested lock_os_thread calls
  void* tsan_fiber = nullptr;       // ThreadSanitizer's fiber (tsan builds)
  void* asan_fake_stack = nullptr;  // AddressSanitizer's fake stack (asan builds)
  std::uint64_t trace_flow = 0;     // tracer: the wake-up flow to end when it next runs
  std::int64_t trace_io_since = 0;  // tracer: when it parked in IO wait (0: not)
  alignas(16) unsigned char buf[kInlineClosure];
};

// After-switch action: run on the next context's stack, right after the
// switch, on behalf of the goroutine that left (see the header comment).
using AfterFn = void (*)(M* m, G* g, void* arg);

inline constexpr std::uint32_t kRunqSize = 256;
inline constexpr int kMaxProcs = 256;  // gomaxprocs' ceiling
inline constexpr int kMaxSpare = 64;   // spare Ps sysmon may lend at once
// Scheduler latency histogram: upper bounds in ns of all but the last
// (unbounded) bucket (metrics.cpp).
inline constexpr int kLatencyBuckets = 20;
inline constexpr unsigned kLatencyEvery = 16;  // one transition to runnable in 16 is timed (Go: 8)
inline constexpr std::int64_t kLatencyBounds[kLatencyBuckets - 1] = {
    1'000,      2'000,       5'000,       10'000,      20'000,       50'000,     100'000,
    200'000,    500'000,     1'000'000,   2'000'000,   5'000'000,    10'000'000, 20'000'000,
    50'000'000, 100'000'000, 200'000'000, 500'000'000, 1'000'000'000};

struct Sched {
  // Guards the fields marked GORO_GUARDED_BY(lock) here, and P::link,
  // P::retired and M::link (declared before P and M for their annotations).
  Lock lock{LockRank::sched};
  G* runq_head GORO_GUARDED_BY(lock) = nullptr;  // global run queue
  G* runq_tail GORO_GUARDED_BY(lock) = nullptr;
  std::atomic<std::int64_t> runq_size{0};
  P* pidle GORO_GUARDED_BY(lock) = nullptr;  // idle Ps
  std::atomic<int> npidle{0};
  M* midle GORO_GUARDED_BY(lock) = nullptr;  // idle Ms
  int nmidle GORO_GUARDED_BY(lock) = 0;
  std::atomic<int> nmspinning{0};
  // [0, nmade): the regular Ps, made on demand (always a prefix), never
  // freed during a run; [kMaxProcs, kMaxProcs + nspare): the spare Ps
  // sysmon has made. Sized once per run; entries are written under lock
  // and published by nmade / nspare (release), so a thread without the
  // lock reads only entries below them (made_count, spare_count).
  std::vector<P*> allp;
  std::atomic<int> nmade{0};   // regular Ps made so far this run (grows only)
  std::atomic<int> nspare{0};  // spare Ps made so far this run (grows only)
  std::atomic<int> nprocs{0};  // active Ps: [0, nprocs)
  std::vector<M*> allm GORO_GUARDED_BY(lock);
  M* sleeper GORO_GUARDED_BY(lock) = nullptr;  // the idle M sleeping until the next timer
  std::atomic<std::int64_t> sleep_until{0};    // when it wakes (0: no sleeper)
  // Goroutines that something outside the run queues will wake: inside
  // blocking(), waiting on the network poller (the deadlock detector's view).
  std::atomic<std::int64_t> nexternal{0};  // in blocking()
  std::atomic<std::int64_t> npollwait{0};  // parked on the network poller
  // A hint, written by sysmon only: some P has preempt set. Lets channel
  // operations skip the per-P check (a TLS read) while nobody hogs.
  std::atomic<bool> any_preempt{false};
  std::atomic<std::int64_t> lastpoll{0};  // when a netpoll last returned (sysmon polls after 10 ms)
  // Spare Ps lent by sysmon while goroutines hog their Ps (allp above
  // kMaxProcs); the ones not lent now wait here.
  P* spare_free GORO_GUARDED_BY(lock) = nullptr;
  // Global-queue progress, for sysmon: bumped by every globrunqget.
  std::atomic<std::uint64_t> runq_gets{0};
  std::atomic<std::uint32_t> sysmon_wake{0};
  std::atomic<bool> sysmon_sleeping{false};
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> goid_gen{0};
  std::atomic<std::int64_t> extra_created{0}, extra_exited{0};  // spawns from plain threads
  std::size_t stack_size = 0;
  int exit_code = 0;
  bool fail_on_leak = false;  // config::fail_on_leak of this run (leak.cpp)
  // Free G descriptors shared by Ps.
  Lock gfree_lock{LockRank::gfree};
  G* gfree GORO_GUARDED_BY(gfree_lock) = nullptr;
  int ngfree GORO_GUARDED_BY(gfree_lock) = 0;
  // Registry of every descriptor (allg_lock); never shrinks.
  Lock allg_lock{LockRank::allg};
  G* allg GORO_GUARDED_BY(allg_lock) = nullptr;
};

extern Sched sched;

struct alignas(64) P {
  // P 0's heap lock has a rank of its own (timers_move nests it inside
  // another P's).
  explicit P(int id_) noexcept : id(id_), timers_lock(id_ == 0 ? LockRank::timers_p0 : LockRank::timers) {}
  int id = 0;
  // The local run queue: a bounded ring, produced by the owner only, consumed
  // by the owner and by thieves (CAS on head).
  alignas(64) std::atomic<std::uint32_t> runq_head{0};
  alignas(64) std::atomic<std::uint32_t> runq_tail{0};
  std::atomic<G*> runnext{nullptr};
  std::atomic<G*> runq[kRunqSize];
  // Written by the P's holder; sysmon and thieves read the atomics.
  alignas(64) std::atomic<std::uint32_t> schedtick{0};  // owner writes, sysmon reads
  std::atomic<PStatus> status{PStatus::idle};
  std::atomic<std::int64_t> syscall_since{0};
  std::atomic<bool> preempt{false};  // sysmon: yield at the next goro call
  bool spare = false;                // lent to relieve a hog (not counted in procs)
  // A spare lent for the global queue. Hand-off: lend_spare writes it
  // under sched.lock while the P is unheld; then only its holder reads it.
  bool for_global = false;
  // Taken out of circulation by a gomaxprocs shrink: on no list, held by
  // no M; the next growth lists it again.
  bool retired GORO_GUARDED_BY(sched.lock) = false;
  // On sched.pidle (written under sched.lock; read by acquirep's check: a
  // P must never be on the idle list and held by an M at once).
  std::atomic<bool> listed{false};
  std::uint32_t sysmon_tick = 0;  // sysmon-only
  std::int64_t sysmon_when = 0;   // sysmon-only
  std::uint64_t sysmon_ran = 0;   // sysmon-only: `ran` at its last look
  G* gfree = nullptr;
  int ngfree = 0;
  char* stacks[64];
  int nstacks = 0;
  std::uint32_t stacks_gen = 0;  // the scavenge generation its cache was trimmed in
  bool stacks_clean = false;     // trimmed, and nothing cached since (holder, or sched.lock while idle)
  std::int64_t goid_next = 0, goid_end = 0;
  // Counters read by others.
  std::atomic<std::int64_t> created{0}, exited{0};
  std::atomic<std::uint64_t> ran{0};  // goroutines executed (tests, stuck-runnext check)
  // Scheduler latency (metrics.cpp): sampled runnable-to-running times,
  // counted by the P's holder, read by read_metrics().
  std::atomic<std::uint64_t> latency_counts[kLatencyBuckets] = {};
  std::atomic<std::uint64_t> latency_sum_ns{0};
  P* link GORO_GUARDED_BY(sched.lock) = nullptr;  // idle list, or spare_free
  // Timers: a 4-ary min-heap on `when`, guarded by timers_lock; timer0_when
  // mirrors the earliest `when` (0: none) for lock-free checks.
  Lock timers_lock;
  std::vector<Timer*> timers GORO_GUARDED_BY(timers_lock);
  std::atomic<std::int64_t> timer0_when{0};
};

struct M {
  int id = 0;
  void* g0_sp = nullptr;  // the scheduler context while a G runs
  G* curg = nullptr;
  P* p = nullptr;
  // Hand-off, not a locked field: newm, startm and startlockedm write it (after
  // taking the M off the idle list) and wake this M, which alone reads it
  // and clears it after acquirep; thread creation or the futex word `wake`
  // orders the two.
  P* nextp = nullptr;
  P* oldp = nullptr;                     // the P left in syscall state by blocking()
  G* locked_g = nullptr;                 // the goroutine locked to this thread, if any
  G* nextg = nullptr;                    // handed over with nextp by startlockedm (hand-off, as nextp)
  std::atomic<bool> locked_wait{false};  // waiting for locked_g to become runnable
  bool spinning = false;
  std::atomic<std::uint32_t> wake{0};             // futex: set by startm / stop
  M* link GORO_GUARDED_BY(sched.lock) = nullptr;  // idle list
  AfterFn after = nullptr;
  G* after_g = nullptr;
  void* after_arg = nullptr;
  EhGlobals* eh = nullptr;  // this thread's exception globals
  std::uint64_t rng = 0;
  std::thread thread;  // not for M0 (the thread that called run)
  char* altstack = nullptr;
  void* tsan_g0 = nullptr;  // the thread's own TSan fiber
  void* asan_g0_fake = nullptr;
  const void* g0_stack_lo = nullptr;  // the thread's own stack (ASan)
  std::size_t g0_stack_size = 0;
  TraceBuf* trace_buf = nullptr;  // tracer: this thread's events (trace.cpp)
  pid_t tid = 0;                  // the kernel's thread id (thread_init)
  pthread_t pthread{};            // (thread_init)
  // CPU profiler: the ring this thread's SIGPROF handler writes samples
  // to while profiling (cpuprof.cpp); null otherwise.
  std::atomic<CpuRing*> prof_ring{nullptr};
  std::int64_t trace_since = 0;        // tracer: when curg's slice began (thread track)
  std::int64_t trace_p_since = 0;      // tracer: when curg's slice began on the P's track
  std::int64_t trace_block_since = 0;  // tracer: when curg entered blocking() (0: not in it)

  void run_after() {
    if (after) {
      AfterFn f = after;
      after = nullptr;
      f(this, after_g, after_arg);
    }
  }
};

// The current thread's M (null on a plain thread). Not inlined: a goroutine
// may resume on another thread, so no caller may cache the TLS address.
M* current_m() noexcept;
void set_current_m(M* m) noexcept;
inline G* current_g() noexcept {
  M* m = current_m();
  return m ? m->curg : nullptr;
}

EhGlobals* thread_eh() noexcept;
// Swap the C++ exception globals with the goroutine at a switch.
inline void save_eh(M* m, G* g) noexcept {
  EhGlobals* e = m->eh;
  if (e->caught || e->uncaught) [[unlikely]] {
    g->eh = *e;
    *e = EhGlobals{};
  }
}
inline void restore_eh(M* m, G* g) noexcept {
  if (g->eh.caught || g->eh.uncaught) [[unlikely]] {
    *m->eh = g->eh;
    g->eh = EhGlobals{};
  }
}
void thread_init(M* m);
// The CPU profiler's per-thread hooks (cpuprof.cpp): thread_init records the
// thread's ids and arms its timer while a profile runs; an M's thread calls
// the exit hook before it ends.
void cpuprof_thread_start(M* m);
void cpuprof_thread_exit(M* m);
std::uint32_t fastrand(M* m) noexcept;

std::int64_t nanotime() noexcept;

// Run queues (runq.cpp).
void runqput(P* p, G* g, bool next) noexcept;
// inherit: set to true when g came from runnext (it inherits the time
// slice: schedtick does not advance, so sysmon can see a pair of goroutines
// handing the P back and forth as one hog).
G* runqget(P* p, bool* inherit = nullptr) noexcept;
bool runq_empty(P* p) noexcept;
// Goroutines in p's ring plus its runnext, read from another thread (a
// snapshot for metrics and the tracer).
std::int64_t runq_length(P* p) noexcept;
bool runq_ring_empty(P* p) noexcept;  // ignoring runnext
G* runqsteal(P* p, P* victim, bool steal_next) noexcept;
void globrunqput(G* g) noexcept;  // takes sched.lock
void globrunqput_batch(G* head, G* tail, int n) noexcept GORO_REQUIRES(sched.lock);
G* globrunqget(P* p, int max) noexcept GORO_REQUIRES(sched.lock);

// Stacks (stack.cpp).
void stack_alloc(P* p, G* g);
void stack_free(P* p, G* g) noexcept;
void stacks_trim() noexcept;
void stacks_trim_idle() noexcept;
void scavenge() noexcept;  // sysmon, every kScavengeNs (stack.cpp)
// Gives back the pages below the sp of goroutines parked for a while
// (sysmon, every kShrinkNs; shrink.cpp). cursor: where the last pass
// stopped in the registry (null: its head).
void shrink_parked_stacks(G*& cursor) noexcept;
extern std::atomic<std::int64_t> shrink_after_ns;  // how long a G is parked before (tests lower it)
extern std::atomic<std::int64_t> shrink_hold_ns;   // a claimed stack's wait before madvise (tests widen it)
extern std::atomic<std::uint64_t> stacks_shrunk;   // parked stacks shrunk, ever
extern std::atomic<std::uint64_t> shrink_waits;    // resumes that waited for a shrink, ever
void shrink_wait(G* g) noexcept;                   // stack_resume's slow path: a shrink holds g
bool shrink_supported() noexcept;                  // membarrier is there: parked stacks shrink
// Every switch into g, just before it: g's saved sp is cleared (it is on its
// stack from here on) and a shrink that has claimed g is waited out
// (shrink.cpp explains the handshake; membarrier is the other side's fence).
inline void stack_resume(G* g) noexcept {
  __atomic_store_n(&g->sp, nullptr, __ATOMIC_RELAXED);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (g->shrink_claim.load(std::memory_order_relaxed) != 0) [[unlikely]]
    shrink_wait(g);
}
// Bytes of the shared pool's warm stacks and of its released (cold) ones (metrics).
void stacks_pool_bytes(std::uint64_t* warm, std::uint64_t* released) noexcept;
bool stack_guard_fault(G* g, const void* addr) noexcept;
// Where the stack holding addr is now (a P's cache, the pool's warm or
// cold list, a descriptor): a diagnostic for tests, racy by design.
std::string stack_whereabouts(const void* addr);

// Timers (timers.cpp). timer_add puts t in the current P's heap (P 0's on a
// plain thread); timer_del/timer_mod return whether t was pending.
void timer_add(Timer* t, std::int64_t when);
bool timer_del(Timer* t);
bool timer_mod(Timer* t, std::int64_t when);
// Runs p's expired timers; returns the next `when` (0: none left).
std::int64_t run_timers(P* p, std::int64_t now);
inline bool timers_due(P* p) noexcept {
  std::int64_t w = p->timer0_when.load(std::memory_order_relaxed);
  return w != 0 && w <= nanotime();
}
std::int64_t next_timer_when() noexcept;  // over every P; 0: none
void timers_teardown(P* p) noexcept;
void timers_move(P* from, P* to) noexcept GORO_REQUIRES(sched.lock);  // a retired P's timers to an active one

// Scheduler (sched.cpp).
void wakep() noexcept;
// A timer earlier than the sleeper's wake-up was added: wake it (or an M).
void wake_timer_sleeper(std::int64_t when) noexcept;
void ready(G* g) noexcept;  // from any thread
void schedule_loop(M* m);   // on g0; returns when the runtime stops
void start_ms_for_stop() noexcept;
void startm(P* p, bool spinning) noexcept;
void pidleput(P* p) noexcept GORO_REQUIRES(sched.lock);
// pidleput, unless gomaxprocs retired p meanwhile: then p leaves
// circulation (its goroutines to the global queue, its timers to P 0) and
// true is returned.
bool pidleput_or_retire(P* p) noexcept GORO_REQUIRES(sched.lock);
void retire_unheld_p(P* p) noexcept GORO_REQUIRES(sched.lock);
// A spare P its M lets go of (without work, or as its M stops): back to the
// spare list. A spare P is never put on the idle list: it is not one of the
// gomaxprocs Ps (sysmon.cpp).
void spare_put(P* p) noexcept GORO_REQUIRES(sched.lock);  // gomaxprocs shrink: out of circulation
P* pidleget() noexcept GORO_REQUIRES(sched.lock);         // skips Ps retired by gomaxprocs
void preempt_check();                                     // yields if sysmon asked this P to
void requeue_global();                                    // the current goroutine to the back of the global queue
void handoffp(P* p) noexcept;                             // gives a P without an M to an M, or to the idle list
void sysmon_start();
void sysmon_stop() noexcept;
// The regular Ps made so far: allp[i] for i < made_count() (active or not).
inline int made_count() noexcept { return sched.nmade.load(std::memory_order_acquire); }
// The spare Ps made so far: allp[kMaxProcs + i] for i < spare_count().
inline int spare_count() noexcept { return sched.nspare.load(std::memory_order_acquire); }
inline P* spare_at(int i) noexcept { return sched.allp[kMaxProcs + i]; }
// Every P a thief may take work from: the active regular Ps, then the
// spare Ps (lent or not: one just given back may still hold a goroutine).
// Index i < np + spare_count(); entries may be null.
inline P* victim_at(int i, int np) noexcept { return i < np ? sched.allp[i] : spare_at(i - np); }
// Status transitions (DESIGN.md §3). Every change of a G's status goes
// through casgstatus (Go's name), every change of a P's through
// set_pstatus / cas_pstatus. In GORO_DCHECK builds they check the
// transition against the table below and that the status is the one the
// caller expects, and die naming both otherwise; in other builds they are
// the plain store (or CAS) they replace.
//   G: dead→runnable (spawn)  runnable→running (execute, switch_out)
//      running→runnable (yield, requeue, exitsyscall without a P is syscall→runnable)
//      running→waiting (park)  waiting→runnable (ready, netpoll, unlockf false)
//      running→syscall→running (blocking)  running→dead (goexit)
//   (run()'s teardown discards live goroutines with gstatus_discard.)
//   P: idle→running, running→idle, idle→idle (pidleput of a P already idle),
//      running→syscall (blocking), syscall→running (exitsyscall), syscall→idle (sysmon retakes)
constexpr bool gstatus_valid(GStatus from, GStatus to) noexcept {
  switch (from) {
    case GStatus::dead: return to == GStatus::runnable;
    case GStatus::runnable: return to == GStatus::running;
    case GStatus::running:
      return to == GStatus::runnable || to == GStatus::waiting || to == GStatus::syscall || to == GStatus::dead;
    case GStatus::waiting: return to == GStatus::runnable;
    case GStatus::syscall: return to == GStatus::running || to == GStatus::runnable;
    case GStatus::idle: return false;
  }
  return false;
}
constexpr bool pstatus_valid(PStatus from, PStatus to) noexcept {
  switch (from) {
    case PStatus::idle: return to == PStatus::idle || to == PStatus::running;
    case PStatus::running: return to == PStatus::idle || to == PStatus::syscall;
    case PStatus::syscall: return to == PStatus::running || to == PStatus::idle;
  }
  return false;
}
[[noreturn]] void gstatus_bad(G* g, GStatus cur, GStatus from, GStatus to) noexcept;
[[noreturn]] void pstatus_bad(P* p, PStatus cur, PStatus to) noexcept;

// Scheduler latency sampling (metrics.cpp), on from the first read_metrics()
// of the process: every 16th transition of a G to runnable is stamped, and the time
// until it runs is counted on the P that runs it (Go's /sched/latencies).
extern std::atomic<bool> latency_on;
void latency_stamp(G* g) noexcept;   // G::runnable_since = now
void latency_record(G* g) noexcept;  // counts now - G::runnable_since on the current P

inline void casgstatus(G* g, [[maybe_unused]] GStatus from, GStatus to) noexcept {
#if defined(GORO_DCHECK)
  GStatus cur = g->status.load(std::memory_order_relaxed);
  if (cur != from || !gstatus_valid(from, to)) gstatus_bad(g, cur, from, to);
#endif
  // (from and to are constants at nearly every call: the test folds away
  // where neither end is runnable; elsewhere one relaxed load while off.)
  if (to == GStatus::runnable) {
    if (latency_on.load(std::memory_order_relaxed)) [[unlikely]] {
      // (An unstamped transition leaves runnable_since 0: every stamp is
      // consumed by the start that follows, and a new life clears it.)
      if ((++g->latency_seq & (kLatencyEvery - 1)) == 0) latency_stamp(g);
    }
  } else if (from == GStatus::runnable && to == GStatus::running) {
    if (latency_on.load(std::memory_order_relaxed) && g->runnable_since != 0) [[unlikely]]
      latency_record(g);
  }
  g->status.store(to, std::memory_order_relaxed);
}
// run()'s teardown only: a goroutine left in any state is discarded.
inline void gstatus_discard(G* g) noexcept { g->status.store(GStatus::dead, std::memory_order_relaxed); }

inline void set_pstatus(P* p, PStatus to) noexcept {
#if defined(GORO_DCHECK)
  PStatus cur = p->status.load(std::memory_order_relaxed);
  if (!pstatus_valid(cur, to)) pstatus_bad(p, cur, to);
#endif
  p->status.store(to, std::memory_order_release);
}
inline bool cas_pstatus(P* p, PStatus from, PStatus to) noexcept {
#if defined(GORO_DCHECK)
  if (!pstatus_valid(from, to)) pstatus_bad(p, from, to);
#endif
  return p->status.compare_exchange_strong(from, to, std::memory_order_acq_rel);
}

inline void tick(P* p) noexcept {
  p->schedtick.store(p->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Goroutine lifecycle (proc.cpp).
G* gfget(P* p);
void gfput(P* p, G* g) noexcept;
// Parks the current goroutine: `unlockf(g, arg)` runs after it is off its
// stack; if it returns false the goroutine is readied again at once.
void park(WaitReason reason, bool (*unlockf)(G*, void*), void* arg);
[[noreturn]] void fatal(const char* msg) noexcept;
[[noreturn]] void fatal_panic(G* g, const char* what) noexcept;

}  // namespace goro::rt
