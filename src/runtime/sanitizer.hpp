// sanitizer.hpp — telling ThreadSanitizer and AddressSanitizer about
// goroutine switches and about the synchronization goro implements.
//
// TSan: every goroutine is a TSan fiber, switched with
// __tsan_switch_to_fiber(f, no_sync) right before the assembly switch, so a
// switch is not a happens-before edge (two goroutines that ran one after the
// other on one thread can still race). The edges come from explicit
// acquire/release annotations on goro's objects (a channel, a mutex, a wait
// group, a goroutine's creation), as Go's -race runtime annotates its own.
// The runtime's sources are compiled without TSan instrumentation (CMake
// adds -fno-sanitize=thread to them, as Go's runtime is not instrumented):
// its per-P caches are touched by many goroutines of one thread without
// edges between them, and only the annotations should speak for it.
// These hooks are always_inline: a hook in its own instrumented frame would
// push on one fiber's shadow stack and pop on another's.
//
// ASan: __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber
// around every switch, so ASan knows which stack is current (and keeps each
// goroutine's fake stack), plus unpoisoning the part of a stack that a
// finished goroutine's frames, which never return, leave poisoned. And for
// LeakSanitizer, a copy of what each goroutine discarded by run() still
// referenced (keep_discarded, stack.cpp).
#pragma once

#include <cstddef>

#include "runtime/sched.hpp"

#if !defined(GORO_TSAN)
#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif
#endif
#if !defined(GORO_ASAN)
#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#endif
#endif

extern "C" {
#if defined(GORO_TSAN)
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_set_fiber_name(void* fiber, const char* name);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#endif
#if defined(GORO_ASAN)
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old, std::size_t* size_old);
void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
void* __asan_addr_is_in_fake_stack(void* fake_stack, void* addr, void** beg, void** end);
#endif
}

namespace goro::rt::san {

#define GORO_SAN_INLINE [[gnu::always_inline]] inline

GORO_SAN_INLINE void thread_start(M* m) noexcept {
#if defined(GORO_TSAN)
  m->tsan_g0 = __tsan_get_current_fiber();
#endif
  (void)m;
}

// TSan: the current fiber's memory accesses, intercepted calls' included
// (clock_gettime, memcpy), are not checked in this scope; its
// synchronization still is. For runtime code that may run on a stack
// already handed to the next goroutine (the exit path's tracer hooks).
struct IgnoreAccesses {
#if defined(GORO_TSAN)
  IgnoreAccesses() noexcept { __tsan_ignore_thread_begin(); }
  ~IgnoreAccesses() { __tsan_ignore_thread_end(); }
#endif
  IgnoreAccesses(const IgnoreAccesses&) = delete;
  IgnoreAccesses& operator=(const IgnoreAccesses&) = delete;
#if !defined(GORO_TSAN)
  IgnoreAccesses() noexcept = default;
#endif
};

#if defined(GORO_TSAN)
// The quarantine of exited goroutines (tsan_reuse.cpp): hold_exited keeps
// g (with its stack and fiber) and returns the G it lets go, the oldest
// once kQuarantine are held, or null; release_held lets the oldest go
// (teardown). Then the fiber pool: fibers of goroutines that returned.
G* hold_exited(G* g) noexcept;
G* release_held() noexcept;
// f(g) for every G in the quarantine, under its lock (the scavenger: their
// stacks are not in use).
void for_each_held(void (*f)(G*)) noexcept;
void* fiber_take() noexcept;
void fiber_give(void* fiber) noexcept;
void fibers_drain() noexcept;  // run()'s teardown
#endif

// after_exit: the exited G to cache for reuse now (g itself outside TSan
// builds; under TSan one that exited kQuarantine exits ago, or null).
GORO_SAN_INLINE G* reusable_after_exit(G* g) noexcept {
#if defined(GORO_TSAN)
  return hold_exited(g);
#else
  return g;
#endif
}

// Teardown: the next exited G still held back (null when none).
GORO_SAN_INLINE G* next_held() noexcept {
#if defined(GORO_TSAN)
  return release_held();
#else
  return nullptr;
#endif
}

GORO_SAN_INLINE void fiber_create(G* g) {
#if defined(GORO_TSAN)
  if (!g->tsan_fiber) g->tsan_fiber = fiber_take();
#endif
  (void)g;
}

// A goroutine that returned (goexit), off its fiber: the fiber goes back
// to the pool.
GORO_SAN_INLINE void fiber_retire(G* g) noexcept {
#if defined(GORO_TSAN)
  if (g->tsan_fiber) {
    fiber_give(g->tsan_fiber);
    g->tsan_fiber = nullptr;
  }
#endif
#if defined(GORO_ASAN)
  g->asan_fake_stack = nullptr;
#endif
  (void)g;
}

GORO_SAN_INLINE void teardown_fibers() noexcept {
#if defined(GORO_TSAN)
  fibers_drain();
#endif
}

// run() teardown, for a goroutine discarded while parked: its fiber never
// reached goexit's releases, so perform them on its behalf (switching TSan
// to its fiber and back, without touching any stack), before its stack and
// descriptor are reused.
GORO_SAN_INLINE void release_discarded(G* g) noexcept {
#if defined(GORO_TSAN)
  if (g->tsan_fiber) {
    void* self = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(g->tsan_fiber, 0);
    __tsan_release(g);
    if (g->stack_lo) __tsan_release(g->stack_lo);
    __tsan_switch_to_fiber(self, 0);
  }
#endif
  (void)g;
}

// A discarded goroutine (run()'s teardown): its frames never returned, so
// its fiber is destroyed, not pooled.
GORO_SAN_INLINE void fiber_destroy(G* g) noexcept {
#if defined(GORO_TSAN)
  if (g->tsan_fiber) {
    __tsan_destroy_fiber(g->tsan_fiber);
    g->tsan_fiber = nullptr;
  }
#endif
#if defined(GORO_ASAN)
  g->asan_fake_stack = nullptr;
#endif
  (void)g;
}

// Right before goro_switch from `from` (null: g0) to `to` (null: g0).
// `exiting`: `from` will never run again.
// `sync`: the switch is a happens-before edge (blocking() running its
// function on the thread's stack is the same goroutine, not another).
GORO_SAN_INLINE void switch_to(M* m, G* from, G* to, bool exiting = false, bool sync = false) noexcept {
#if defined(GORO_TSAN)
  __tsan_switch_to_fiber(to ? to->tsan_fiber : m->tsan_g0, sync ? 0 : 1 /* __tsan_switch_to_fiber_no_sync */);
#endif
#if defined(GORO_ASAN)
  void** save = exiting ? nullptr : (from ? &from->asan_fake_stack : &m->asan_g0_fake);
  if (to) __sanitizer_start_switch_fiber(save, to->stack_lo, to->stack_size);
  else __sanitizer_start_switch_fiber(save, m->g0_stack_lo, m->g0_stack_size);
#endif
  (void)m, (void)from, (void)to, (void)exiting, (void)sync;
}

// First thing after a switch lands in `self` (null: g0) on m.
GORO_SAN_INLINE void switched(M* m, G* self) noexcept {
#if defined(GORO_ASAN)
  __sanitizer_finish_switch_fiber(self ? self->asan_fake_stack : m->asan_g0_fake, nullptr, nullptr);
#endif
  (void)m, (void)self;
}

// ASan: clears poison that frames which never returned left in [from, to).
GORO_SAN_INLINE void unpoison(const void* from, const void* to) noexcept {
#if defined(GORO_ASAN)
  if (from && to > from)
    __asan_unpoison_memory_region(
        from, static_cast<std::size_t>(static_cast<const char*>(to) - static_cast<const char*>(from)));
#endif
  (void)from, (void)to;
}

// run() teardown, for a discarded goroutine, before its stack and closure
// buffer are reused: LeakSanitizer checks at process exit, and what the
// goroutine's frames and closure referenced must stay reachable then, as
// when a Go program exits with goroutines blocked. ASan builds only.
#if defined(GORO_ASAN)
void keep_discarded(const G* g);
#else
GORO_SAN_INLINE void keep_discarded(const G* g) noexcept { (void)g; }
#endif

GORO_SAN_INLINE void acquire(const void* addr) noexcept {
#if defined(GORO_TSAN)
  __tsan_acquire(const_cast<void*>(addr));
#endif
  (void)addr;
}

GORO_SAN_INLINE void release(const void* addr) noexcept {
#if defined(GORO_TSAN)
  __tsan_release(const_cast<void*>(addr));
#endif
  (void)addr;
}

}  // namespace goro::rt::san
