// thread_safety.hpp — Clang thread-safety analysis inside the runtime.
//
// The attributes are goro's public GORO_* macros (goro/thread_annotations.hpp);
// they expand to nothing except under Clang, where goro's own targets build
// with -Wthread-safety -Werror=thread-safety (CMake option
// GORO_THREAD_SAFETY_ANALYSIS). rt::Lock, the bare lock words
// (detail::lock_word) and goro::mutex / rw_mutex are capabilities; fields
// they guard are GORO_GUARDED_BY; functions entered with a lock held are
// GORO_REQUIRES.
//
// The analysis is per function and cannot follow three things the runtime
// does. Each has a named escape below instead of a blanket
// GORO_NO_THREAD_SAFETY_ANALYSIS on the function:
//   1. A lock released by the scheduler after a switch: block_on and select
//      park with a queue lock held, and after_park's unlockf (another
//      function, reached through a pointer) releases it on the next context's
//      stack. The parking function says so with released_by_scheduler(l)
//      after park() returns; the unlockf uses unlock_after_switch(l) (marl's
//      unlock_no_tsa).
//   2. Locks chosen at run time, held through an array or a pointer the
//      analysis cannot name: select's address-ordered channel locks, the heap
//      lock_owner returns. The code that holds one by construction says so
//      with held_by_construction(l), which in GORO_DCHECK builds checks that
//      the word is locked.
//   3. Single-threaded phases: run()'s teardown, after every M has been
//      joined, touches scheduler state without its locks; quiescent(l) says
//      so.
#pragma once

#include <goro/thread_annotations.hpp>

namespace goro::rt {

// (1) The analysis' view of a lock handed to the scheduler: park() returned,
// so after_park released l on this thread before anything else ran.
template <class L>
inline void released_by_scheduler(L& l) noexcept GORO_RELEASE(l) GORO_NO_THREAD_SAFETY_ANALYSIS {
  (void)l;
}

// unlock_after_switch (1) and held_by_construction (2) are in lock.hpp.

// (3) A lock no other thread can take now (asserted: it need not be released
// in the function that asserts it).
template <class L>
inline void quiescent(L& l) noexcept GORO_ASSERT_CAPABILITY(l) GORO_NO_THREAD_SAFETY_ANALYSIS {
  (void)l;
}

}  // namespace goro::rt
