// tsan_libstdcxx.hpp — force-included (-include) into every runtime source
// when goro is built for ThreadSanitizer (GORO_SANITIZER=thread).
//
// The runtime is compiled without TSan instrumentation, but it destroys
// objects that instrumented code shares: the last reference to a context's
// node (a std::shared_ptr or std::weak_ptr) is often dropped by a callback
// the runtime runs. libstdc++'s reference counts announce their ordering
// through these two hooks (bits/c++config: "be race-detector-friendly");
// left empty, TSan would see the free without the decrements before it and
// report a race between a goroutine's last use and the runtime's delete.
// Defined here as TSan's own acquire/release on the count's address, they
// join the edges the instrumented copies of the same counts produce.
#pragma once

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

#define _GLIBCXX_SYNCHRONIZATION_HAPPENS_BEFORE(A) \
  __tsan_release(const_cast<void*>(static_cast<const volatile void*>(A)))
#define _GLIBCXX_SYNCHRONIZATION_HAPPENS_AFTER(A) \
  __tsan_acquire(const_cast<void*>(static_cast<const volatile void*>(A)))
