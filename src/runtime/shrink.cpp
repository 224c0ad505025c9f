// shrink.cpp — stacks of parked goroutines shrink (API.md: a goroutine that
// once ran deep and is now parked gives the pages below its stack pointer
// back to the OS within a few seconds).
//
// goro cannot move a stack (C++ frames hold pointers into it), so shrinking
// is giving back the pages below a parked goroutine's saved sp: nothing
// lives there, and the kernel hands out zeroed pages again if it ever runs
// that deep again. sysmon calls shrink_parked_stacks() every kShrinkNs. A
// pass looks at up to kShrinkScan descriptors of the registry (a cursor
// walks it round the passes, so a million goroutines cost a bounded slice
// per pass) and picks those parked for at least shrink_after_ns (1 s) whose
// current park has not been shrunk yet (G::shrunk_since: the wait_since of
// the last park it shrank), and which have a resident page below their sp
// (mincore: most never ran deep). It costs nothing on the park path.
//
// The danger is a goroutine that is resumed while the pages below its sp are
// being discarded: madvise would zero frames it has just pushed. So the
// scavenger claims each candidate and the resumer respects the claim — the
// asymmetric handshake of a store and a load on either side, ordered by a
// process-wide memory barrier (membarrier) on the scavenger's side only:
//
//   resumer (stack_resume, every switch into a G)   scavenger (here)
//   G::sp = null (the G is on its stack now)        claim = 1
//   compiler barrier                                membarrier()
//   if claim: wait until it is 0                    still waiting, same sp,
//                                                   same wait_since? madvise
//                                                   claim = 0, wake a resumer
//
// membarrier makes every thread of the process execute a full barrier, so
// for any resume either its store of sp = null is visible to the recheck
// (the candidate is skipped) or its load of the claim sees 1 (it waits until
// the pages are discarded). A G whose sp is not null has finished switching
// out: goro_switch stores it last, and the resumer clears it before it
// switches in — so a goroutine still on its way off the CPU (its status is
// already waiting) is never taken for parked. wait_since is a fresh stamp
// at every park, so "same wait_since" means the same park, not a later one
// at the same sp. Without membarrier (an old kernel, qemu-user) nothing is
// shrunk. sysmon runs only while run() does, so teardown (which frees the
// stacks of discarded goroutines) never overlaps a pass.
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "runtime/debug.hpp"
#include "runtime/sched.hpp"

namespace goro::rt {

extern std::atomic<std::int64_t> shrink_hold_ns;

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kShrinkScan = 65536;    // descriptors looked at per pass
constexpr std::size_t kShrinkBatch = 256;     // claims held at once
constexpr std::uintptr_t kShrinkSlack = 256;  // kept below sp (a red zone's worth, and more)

int membarrier_cmd() noexcept {
  static const int cmd = [] {
    long mask = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (mask < 0) return -1;
    if ((mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
      return static_cast<int>(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
    if (mask & MEMBARRIER_CMD_GLOBAL) return static_cast<int>(MEMBARRIER_CMD_GLOBAL);
    return -1;
  }();
  return cmd;
}

struct Candidate {
  G* g;
  void* sp;
  char* lo;
  std::int64_t since;
};

void* saved_sp(G* g) noexcept { return __atomic_load_n(&g->sp, __ATOMIC_RELAXED); }

// Whether g is parked with pages below its sp worth giving back, as last seen.
bool candidate(G* g, std::int64_t now, std::int64_t after, Candidate* c) noexcept {
  if (g->status.load(std::memory_order_relaxed) != GStatus::waiting) return false;
  std::int64_t since = __atomic_load_n(&g->wait_since, __ATOMIC_RELAXED);
  if (since == 0 || now - since < after || since == g->shrunk_since) return false;
  void* sp = saved_sp(g);
  char* lo = g->stack_lo;
  if (!sp || !lo) return false;
  auto s = reinterpret_cast<std::uintptr_t>(sp), l = reinterpret_cast<std::uintptr_t>(lo);
  if (s < l + kShrinkSlack + kPage || s > l + g->stack_size) return false;
  *c = {g, sp, lo, since};
  return true;
}

// The pages a shrink of c would give back: [lo, below sp less the slack).
std::size_t region_bytes(const Candidate& c) noexcept {
  auto hi = (reinterpret_cast<std::uintptr_t>(c.sp) - kShrinkSlack) & ~(kPage - 1);
  return hi - reinterpret_cast<std::uintptr_t>(c.lo);
}

// Whether any page of c's region is resident: most parked goroutines never
// ran deep, and need no claim, barrier or madvise (a hint: read unclaimed).
bool any_resident(const Candidate& c) noexcept {
  unsigned char v[256];
  char* at = c.lo;
  for (std::size_t left = region_bytes(c) / kPage; left > 0;) {
    std::size_t n = left < sizeof v ? left : sizeof v;
    if (mincore(at, n * kPage, v) != 0) return true;  // let the claimed recheck decide
    for (std::size_t i = 0; i < n; ++i)
      if (v[i] & 1) return true;
    at += n * kPage;
    left -= n;
  }
  return false;
}

void release_claim(G* g) noexcept {
  if (g->shrink_claim.exchange(0, std::memory_order_release) == 2) futex_wake(&g->shrink_claim, 1);
}

void shrink_batch(Candidate* c, std::size_t n, int cmd) noexcept {
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (any_resident(c[i])) c[k++] = c[i];
    else c[i].g->shrunk_since = c[i].since;  // nothing to give back in this park
  }
  n = k;
  if (n == 0) return;
  for (std::size_t i = 0; i < n; ++i) c[i].g->shrink_claim.store(1, std::memory_order_relaxed);
  bool fenced = syscall(SYS_membarrier, cmd, 0, 0) == 0;
  for (std::size_t i = 0; i < n; ++i) {
    G* g = c[i].g;
    if (fenced && g->status.load(std::memory_order_relaxed) == GStatus::waiting && saved_sp(g) == c[i].sp &&
        __atomic_load_n(&g->wait_since, __ATOMIC_RELAXED) == c[i].since && g->stack_lo == c[i].lo) {
      // Parked, and any resume waits for the claim: the pages below sp are dead.
      if (std::int64_t hold = shrink_hold_ns.load(std::memory_order_relaxed)) [[unlikely]]
        std::this_thread::sleep_for(std::chrono::nanoseconds(hold));
      madvise(c[i].lo, region_bytes(c[i]), MADV_DONTNEED);
      g->shrunk_since = c[i].since;
      stacks_shrunk.fetch_add(1, std::memory_order_relaxed);
    }
    release_claim(g);
  }
}

}  // namespace

std::atomic<std::int64_t> shrink_after_ns{1'000'000'000};
std::atomic<std::int64_t> shrink_hold_ns{0};
std::atomic<std::uint64_t> stacks_shrunk{0}, shrink_waits{0};

bool shrink_supported() noexcept { return membarrier_cmd() >= 0; }

void shrink_wait(G* g) noexcept {
  shrink_waits.fetch_add(1, std::memory_order_relaxed);
  std::uint32_t one = 1;
  g->shrink_claim.compare_exchange_strong(one, 2, std::memory_order_acquire, std::memory_order_acquire);
  while (g->shrink_claim.load(std::memory_order_acquire) != 0) futex_wait(&g->shrink_claim, 2);
}

void shrink_parked_stacks(G*& cursor) noexcept {
  // One pass at a time: a claim is one shrinker's (a second one's release
  // would let a resumer run while the first still discards).
  static std::atomic<bool> busy{false};
  int cmd = membarrier_cmd();
  if (cmd < 0 || busy.exchange(true, std::memory_order_acquire)) return;
  std::int64_t now = coarse_now(), after = shrink_after_ns.load(std::memory_order_relaxed);
  Candidate batch[kShrinkBatch];
  std::size_t scanned = 0;
  while (scanned < kShrinkScan) {
    std::size_t n = 0;
    {
      // Descriptors are never freed (the registry only grows), so the
      // cursor stays valid between passes and outside the lock.
      LockGuard l(sched.allg_lock);
      if (!cursor) cursor = sched.allg;
      for (; cursor && n < kShrinkBatch && scanned < kShrinkScan; cursor = cursor->allnext, ++scanned)
        if (candidate(cursor, now, after, &batch[n])) ++n;
    }
    if (n) shrink_batch(batch, n, cmd);
    if (!cursor) break;  // the end of the registry: the next pass starts over
  }
  busy.store(false, std::memory_order_release);
}

}  // namespace goro::rt
