// stack.cpp — goroutine stacks.
//
// A stack is a fixed reservation (config.stack_size, 256 KiB by default)
// with a guard page below it. Memory is reserved, never committed up front:
// a page becomes resident when the goroutine first touches it, so a
// goroutine that parks at once costs about one page.
//
// Mappings are the scarce resource (vm.max_map_count is 65,530 by default),
// so default-size stacks are carved from chunks of kChunkStacks slots, one
// mapping each. Guard pages cost no mapping where the kernel has
// MADV_GUARD_INSTALL (Linux 6.13+). Elsewhere a guard is an mprotect'ed page,
// which splits the mapping (two mappings per guarded stack); at most a
// quarter of vm.max_map_count guards are made that way, after which further
// stacks go unguarded: an overflow there is not detected (DESIGN.md,
// "Stacks"; on Linux 6.13+ this never happens).
//
// Free stacks are cached per P (warm: reused without a page fault) and
// spill to a global pool. Trimming (madvise DONTNEED, adjacent stacks in
// one call) is kept off the hot path: it costs a TLB shoot-down on every
// CPU, so an M about to go idle trims the warm stacks the pool holds beyond
// kPoolWarmMax (stacks_trim_idle), and run()'s teardown trims them all.
// Trimmed stacks are reused after the warm ones. A G gets its
// stack when it first runs, not when it is spawned, so spawn-heavy code that
// finishes goroutines quickly keeps reusing a few warm stacks.
//
// The scavenger. Warm stacks are kept for the pages near their top, which
// every goroutine touches; the pages below were touched by whichever
// goroutine once ran deep there, and a cache that only grows would keep
// them for good: a service whose rare deep requests land on ever more
// pooled stacks grows its RSS for minutes (bench/soak saw +1.4 MiB). So
// every kScavengeNs sysmon calls scavenge(). It releases whole the pool's
// warm stacks that nobody took during the whole interval (below the warm
// list's low-water mark, free_low: a burst's stacks, between bursts) and
// everything below the top kWarmTop bytes of the others (under the pool's
// lock: no goroutine runs on a pooled stack), and it advances
// scavenge_gen; a P trims its own cache the same way the next time it
// frees a stack in a new generation (only the P touches its cache), and
// the scavenger itself trims the caches of idle Ps (under sched.lock, which
// keeps any M from taking them). A
// madvise over pages that are not resident unmaps nothing and sends no
// TLB shoot-down, so a pass over shallow stacks costs a few microseconds
// per stack; a workload that runs deep all the time faults its deep pages
// in again once per pass. scavenge() also hands free malloc memory back
// (glibc's malloc_trim: free chunks inside the arenas, which a new
// thread's arena otherwise keeps beside the old one's).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <fstream>
#include <vector>

#include "runtime/sanitizer.hpp"
#include "runtime/sched.hpp"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace goro::rt {

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kChunkStacks = 256;
constexpr int kLocalMax = 64, kLocalKeep = 32;
constexpr std::size_t kPoolWarmMax = 256, kTrimBatch = 4096;
constexpr std::size_t kWarmTop = 16 * 1024;  // resident top a scavenge leaves to a pooled stack

std::atomic<std::uint32_t> scavenge_gen{0};

enum class GuardMode { unknown, madvise, mprotect };

struct Pool {
  Lock lock{LockRank::stack_pool};
  // The stack size the pool serves: written under lock by reset_locked,
  // which only a run with another stack size calls (before any of its
  // goroutines has a stack); stack_free and trim_cache compare without it.
  std::size_t size = 0;
  std::vector<char*> free GORO_GUARDED_BY(lock);   // warm stack lows, the most recently freed last
  std::size_t free_low GORO_GUARDED_BY(lock) = 0;  // the least free.size() since the last scavenge
  std::vector<char*> cold GORO_GUARDED_BY(lock);   // trimmed stack lows
  GuardMode mode GORO_GUARDED_BY(lock) = GuardMode::unknown;
  long guards_budget GORO_GUARDED_BY(lock) = 0;  // mprotect guards still allowed
  // Every chunk ever mapped: [base, base + len) (for the overflow check).
  std::vector<std::pair<char*, std::size_t>> chunks GORO_GUARDED_BY(lock);
};

Pool pool;

long map_budget() {
  long max = 65530;
  std::ifstream f("/proc/sys/vm/max_map_count");
  if (f) f >> max;
  return max / 4;
}

// Installs a guard page at `page`; returns false if none could be made.
bool install_guard(char* page) GORO_REQUIRES(pool.lock) {
  if (pool.mode == GuardMode::madvise) return madvise(page, kPage, MADV_GUARD_INSTALL) == 0;
  if (pool.guards_budget > 0 && mprotect(page, kPage, PROT_NONE) == 0) {
    --pool.guards_budget;
    return true;
  }
  return false;
}

// Maps a new chunk and appends its stacks to pool.free (pool.lock held).
void grow_locked() GORO_REQUIRES(pool.lock) {
  std::size_t slot = pool.size + kPage;
  std::size_t len = slot * kChunkStacks;
  void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) fatal("out of memory: cannot reserve goroutine stacks");
  auto* base = static_cast<char*>(mem);
  madvise(base, len, MADV_NOHUGEPAGE);
  if (pool.mode == GuardMode::unknown) {
    pool.mode = madvise(base, kPage, MADV_GUARD_INSTALL) == 0 ? GuardMode::madvise : GuardMode::mprotect;
    pool.guards_budget = map_budget();
    if (pool.mode == GuardMode::madvise) madvise(base, kPage, 102 + 1 /* MADV_GUARD_REMOVE */);
  }
  pool.chunks.emplace_back(base, len);
  for (std::size_t i = kChunkStacks; i-- > 0;) {
    char* guard = base + i * slot;
    char* lo = guard + kPage;
    install_guard(guard);  // false: this stack stays unguarded (see above)
    pool.free.push_back(lo);
  }
}

std::size_t round_page(std::size_t n) { return (n + kPage - 1) & ~(kPage - 1); }

// A stack of a non-default size: its own mapping, freed with munmap.
char* alloc_private(std::size_t size) {
  std::size_t len = size + kPage;
  void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) fatal("out of memory: cannot reserve a goroutine stack");
  auto* base = static_cast<char*>(mem);
  madvise(base, len, MADV_NOHUGEPAGE);
  if (madvise(base, kPage, MADV_GUARD_INSTALL) != 0) mprotect(base, kPage, PROT_NONE);
  return base + kPage;
}

void trim(std::vector<char*>& v, std::size_t size) {
  std::sort(v.begin(), v.end());
  std::size_t slot = size + kPage;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i + 1;
    while (j < v.size() && v[j] == v[j - 1] + slot) ++j;
    // [v[i], v[j-1] + size): the guards between stay installed.
    madvise(v[i], static_cast<std::size_t>(v[j - 1] + size - v[i]), MADV_DONTNEED);
    i = j;
  }
}

// Releases the pages of an unused stack below its warm top.
void trim_deep(char* lo, std::size_t size) noexcept {
  if (size > kWarmTop) madvise(lo, size - kWarmTop, MADV_DONTNEED);
}

// One pooled stack (pool.lock held), growing the pool if it is empty.
char* take_locked() GORO_REQUIRES(pool.lock) {
  if (pool.free.empty() && pool.cold.empty()) grow_locked();
  std::vector<char*>& v = pool.free.empty() ? pool.cold : pool.free;
  char* lo = v.back();
  v.pop_back();
  pool.free_low = std::min(pool.free_low, pool.free.size());
  return lo;
}

void reset_locked(std::size_t def) GORO_REQUIRES(pool.lock) {
  if (pool.size != def) {
    pool.free.clear();
    pool.cold.clear();
    pool.free_low = 0;
    pool.size = def;
  }
}

// Trims p's cache for generation gen (by its holder, or by the scavenger
// under sched.lock while p is idle: nobody can take it meanwhile).
void trim_cache(P* p, std::uint32_t gen) noexcept {
  p->stacks_gen = gen;
  if (p->stacks_clean) return;
  p->stacks_clean = true;
  std::size_t size = sched.stack_size;
  if (size != pool.size) return;  // the cache is refilled from a pool of this size only
  for (int i = 0; i < p->nstacks; ++i) trim_deep(p->stacks[i], size);
}

// The P's own cache, once per scavenge generation (the P is held).
void stacks_scavenge_local(P* p) noexcept {
  std::uint32_t gen = scavenge_gen.load(std::memory_order_relaxed);
  if (p->stacks_gen == gen) [[likely]]
    return;
  trim_cache(p, gen);
}

}  // namespace

void stack_alloc(P* p, G* g) {
  std::size_t def = sched.stack_size;
  std::size_t want = g->want_stack ? round_page(g->want_stack) : def;
  if (want != def || !p) {
    if (want == def) {
      LockGuard l(pool.lock);
      reset_locked(def);
      g->stack_lo = take_locked();
    } else {
      g->stack_lo = alloc_private(want);
    }
    g->stack_size = want;
    return;
  }
  if (p->nstacks == 0) {
    LockGuard l(pool.lock);
    reset_locked(def);
    while (p->nstacks < kLocalKeep) p->stacks[p->nstacks++] = take_locked();
    // Warm stacks freed to the pool since the last scavenge still have
    // their deep pages: the cache is no longer clean, or a P that only
    // takes stacks from here on (its goroutines exit on other Ps) would
    // keep them resident for good (the scavenger skips clean caches).
    p->stacks_clean = false;
  }
  g->stack_lo = p->stacks[--p->nstacks];
  g->stack_size = def;
}

void stack_free(P* p, G* g) noexcept {
  char* lo = g->stack_lo;
  std::size_t size = g->stack_size;
  if (lo) {
    // Frames that never returned (the exit path, a discarded goroutine)
    // leave ASan poison behind: clear it from the lowest saved sp up.
    auto sp = reinterpret_cast<std::uintptr_t>(g->sp);
    auto from = reinterpret_cast<std::uintptr_t>(lo);
    if (sp > from + 512) from = sp - 512;
    san::unpoison(reinterpret_cast<char*>(from), lo + size);
  }
  g->stack_lo = nullptr;
  g->stack_size = 0;
  if (!lo) return;
  if (size != sched.stack_size || size != pool.size) {
    if (size == pool.size) {
      LockGuard l(pool.lock);
      pool.free.push_back(lo);
      return;
    }
    munmap(lo - kPage, size + kPage);
    return;
  }
  if (!p) {
    LockGuard l(pool.lock);
    pool.free.push_back(lo);
    return;
  }
  p->stacks[p->nstacks++] = lo;
  p->stacks_clean = false;
  stacks_scavenge_local(p);
  if (p->nstacks < kLocalMax) return;
  LockGuard l(pool.lock);
  // An element-wise loop, not a range insert: under TSan the range insert
  // becomes an intercepted memmove that reads the P, which goroutines of
  // many fibers use without edges between them (the runtime is not
  // instrumented; only its annotations should speak for it).
  for (int i = kLocalKeep; i < p->nstacks; ++i) pool.free.push_back(p->stacks[i]);
  p->nstacks = kLocalKeep;
}

namespace {

// Takes the n least recently freed warm stacks (the bottom of the list)
// out of the pool (pool.lock held); release() gives them back trimmed.
std::vector<char*> take_bottom_locked(std::size_t n) GORO_REQUIRES(pool.lock) {
  auto end = pool.free.begin() + static_cast<std::ptrdiff_t>(std::min(n, pool.free.size()));
  std::vector<char*> batch(pool.free.begin(), end);
  pool.free.erase(pool.free.begin(), end);
  pool.free_low = std::min(pool.free_low, pool.free.size());
  return batch;
}

// Releases the pages of a batch taken from a pool of `size` stacks (the
// madvise outside pool.lock) and files it on the cold list.
void release(std::vector<char*>& batch, std::size_t size) noexcept {
  if (batch.empty()) return;
  trim(batch, size);
  LockGuard l(pool.lock);
  if (pool.size == size) pool.cold.insert(pool.cold.end(), batch.begin(), batch.end());
}

}  // namespace

// An M about to sleep: trims warm stacks beyond kPoolWarmMax, a batch at a time.
void stacks_trim_idle() noexcept {
  std::vector<char*> batch;
  std::size_t size;
  {
    LockGuard l(pool.lock);
    if (pool.free.size() <= kPoolWarmMax) return;
    batch = take_bottom_locked(std::min(pool.free.size() - kPoolWarmMax, kTrimBatch));
    size = pool.size;
  }
  release(batch, size);
}

void scavenge() noexcept {
  const std::uint32_t gen = scavenge_gen.fetch_add(1, std::memory_order_relaxed) + 1;
  {
    // Idle Ps (on the idle list, retired by a gomaxprocs shrink, or spare
    // ones waiting to be lent) do not run to trim their own caches; under
    // sched.lock nobody can take them.
    // A cache trimmed before and untouched since costs nothing here.
    LockGuard l(sched.lock);
    for (P* p : sched.allp)
      if (p && (p->listed.load(std::memory_order_relaxed) || p->retired) && p->stacks_gen != gen) trim_cache(p, gen);
    for (P* p = sched.spare_free; p; p = p->link)  // spare Ps waiting to be lent
      if (p->stacks_gen != gen) trim_cache(p, gen);
  }
  std::vector<char*> unused;
  std::size_t size;
  {
    LockGuard l(pool.lock);
    // The bottom free_low stacks of the warm list were not taken during
    // the whole interval: they go whole, the rest keep their tops.
    unused = take_bottom_locked(pool.free_low);
    for (char* lo : pool.free) trim_deep(lo, pool.size);
    pool.free_low = pool.free.size();
    size = pool.size;
  }
  release(unused, size);
#if defined(GORO_TSAN)
  // Exited goroutines wait in TSan's quarantine with their stacks (256
  // exits), and a spawn-and-exit loop cycles every stack through it.
  san::for_each_held([](G* g) noexcept {
    if (g->stack_lo && g->stack_size == sched.stack_size) trim_deep(g->stack_lo, g->stack_size);
  });
#endif
#if defined(__GLIBC__) && !defined(GORO_ASAN) && !defined(GORO_TSAN)
  malloc_trim(0);
#endif
}

void stacks_pool_bytes(std::uint64_t* warm, std::uint64_t* released) noexcept {
  LockGuard l(pool.lock);
  *warm = pool.free.size() * pool.size;
  *released = pool.cold.size() * pool.size;
}

// Releases the memory of every pooled stack (run teardown).
void stacks_trim() noexcept {
  LockGuard l(pool.lock);
  trim(pool.free, pool.size);
  pool.cold.insert(pool.cold.end(), pool.free.begin(), pool.free.end());
  pool.free.clear();
  pool.free_low = 0;
}

// Diagnostics: reads P caches without their owners' consent (a test
// calls it after the fact, when nothing should move).
std::string stack_whereabouts(const void* addr) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::size_t size = sched.stack_size;
  auto holds = [&](const char* lo, std::size_t sz) {
    auto l = reinterpret_cast<std::uintptr_t>(lo);
    return a >= l && a < l + sz;
  };
  std::string out;
  char line[200];
  std::uint32_t gen = scavenge_gen.load(std::memory_order_relaxed);
  {
    LockGuard l(sched.lock);
    for (std::size_t i = 0; i < sched.allp.size(); ++i) {
      P* p = sched.allp[i];
      if (!p) continue;
      for (int k = 0; k < p->nstacks; ++k)
        if (holds(p->stacks[k], size)) {
          std::snprintf(line, sizeof line,
                        "P %d cache[%d/%d] status=%u listed=%d retired=%d spare=%d gen=%u/%u clean=%d; ", p->id, k,
                        p->nstacks, static_cast<unsigned>(p->status.load(std::memory_order_relaxed)),
                        int(p->listed.load(std::memory_order_relaxed)), int(p->retired), int(p->spare), p->stacks_gen,
                        gen, int(p->stacks_clean));
          out += line;
        }
    }
  }
  {
    LockGuard l(pool.lock);
    for (std::size_t k = 0; k < pool.free.size(); ++k)
      if (holds(pool.free[k], pool.size)) {
        std::snprintf(line, sizeof line, "pool warm[%zu/%zu] free_low=%zu; ", k, pool.free.size(), pool.free_low);
        out += line;
      }
    for (std::size_t k = 0; k < pool.cold.size(); ++k)
      if (holds(pool.cold[k], pool.size)) {
        std::snprintf(line, sizeof line, "pool cold[%zu/%zu]; ", k, pool.cold.size());
        out += line;
      }
  }
  {
    LockGuard l(sched.allg_lock);
    for (G* g = sched.allg; g; g = g->allnext)
      if (g->stack_lo && holds(g->stack_lo, g->stack_size)) {
        std::snprintf(line, sizeof line, "G %lld status=%d started=%d; ", static_cast<long long>(g->id),
                      static_cast<int>(g->status.load(std::memory_order_relaxed)), int(g->started));
        out += line;
      }
  }
  return out.empty() ? "nowhere (not a pooled stack)" : out;
}

// Is addr in the guard page (or just below the bottom) of g's stack?
bool stack_guard_fault(G* g, const void* addr) noexcept {
  if (!g || !g->stack_lo) return false;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  auto lo = reinterpret_cast<std::uintptr_t>(g->stack_lo);
  return a < lo + 256 && a + 64 * 1024 >= lo;
}

#if defined(GORO_ASAN)
namespace {

// What the goroutines discarded by run() referenced, for LeakSanitizer,
// which checks at process exit. The blocks are never freed and hang off a
// global, which LSan scans as a root, so everything a kept word points to
// stays reachable, and a later run() reusing the stack or the descriptor
// changes nothing. A few KiB per discarded goroutine.
struct KeptWords {
  KeptWords* next;
  std::vector<std::uintptr_t> words;
};
[[gnu::used]] KeptWords* kept_words = nullptr;

void append(std::vector<std::uintptr_t>& w, const void* from, const void* to) {
  std::size_t at = w.size(),
              n = static_cast<std::size_t>(static_cast<const char*>(to) - static_cast<const char*>(from)) / sizeof w[0];
  w.resize(at + n);
  std::memcpy(w.data() + at, from, n * sizeof w[0]);
}

}  // namespace

void san::keep_discarded(const G* g) {
  if (!g->started || !g->stack_lo) return;
  char* top = g->stack_lo + g->stack_size;
  auto* sp = static_cast<char*>(g->sp);
  if (sp < g->stack_lo || sp >= top) return;
  std::vector<std::uintptr_t> w;
  // The live part of its stack: the registers goro_switch saved at sp, and
  // the frames above. Their redzones are still poisoned (stack_free clears
  // them anyway).
  unpoison(sp, top);
  append(w, sp, top);
  // Its closure's captures: in the descriptor's buffer, which the next go
  // statement reuses, or on the heap.
  if (g->closure == g->buf) append(w, g->buf, g->buf + sizeof g->buf);
  else if (g->closure) w.push_back(reinterpret_cast<std::uintptr_t>(g->closure));
  // With detect_stack_use_after_return, locals whose address is taken live
  // in fake frames of the goroutine's fake stack instead (never freed for a
  // discarded goroutine): keep the frames the kept words point to, and the
  // frames those point to.
  if (void* fake = g->asan_fake_stack) {
    std::vector<void*> seen;
    for (std::size_t i = 0; i < w.size(); ++i) {
      void *beg, *end;
      if (!__asan_addr_is_in_fake_stack(fake, reinterpret_cast<void*>(w[i]), &beg, &end)) continue;
      if (std::find(seen.begin(), seen.end(), beg) != seen.end()) continue;
      seen.push_back(beg);
      unpoison(beg, end);
      append(w, beg, end);
    }
  }
  kept_words = new KeptWords{kept_words, std::move(w)};
}
#endif

}  // namespace goro::rt
