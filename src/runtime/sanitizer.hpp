// sanitizer.hpp — telling ThreadSanitizer and AddressSanitizer about
// goroutine switches (see sanitizer.cpp). Without a sanitizer every hook is
// an empty inline function.
#pragma once

#include "runtime/sched.hpp"

#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#endif

namespace goro::rt::san {

#if defined(GORO_TSAN) || defined(GORO_ASAN)
void fiber_create(G* g);
void fiber_destroy(G* g) noexcept;
// Before goro_switch from `from` (null: g0) to `to` (null: g0) on m.
void switch_to(M* m, G* from, G* to) noexcept;
// First thing after a switch lands in `self` (null: g0) on m.
void switched(M* m, G* self) noexcept;
void acquire(void* addr) noexcept;
void release(void* addr) noexcept;
#else
inline void fiber_create(G*) {}
inline void fiber_destroy(G*) noexcept {}
inline void switch_to(M*, G*, G*) noexcept {}
inline void switched(M*, G*) noexcept {}
inline void acquire(void*) noexcept {}
inline void release(void*) noexcept {}
#endif

}  // namespace goro::rt::san
