// goro/thread_annotations.hpp — Clang thread-safety analysis attributes.
//
// goro::mutex and goro::rw_mutex are capabilities: with Clang and
// -Wthread-safety, a field declared GORO_GUARDED_BY(mu) may be touched only
// while mu is held (std::lock_guard<goro::mutex>, std::unique_lock and
// goro's own calls are all understood). Under other compilers every macro
// expands to nothing. See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html.
//
//   goro::mutex mu;
//   int balance GORO_GUARDED_BY(mu) = 0;
//   void deposit(int n) GORO_EXCLUDES(mu) { std::lock_guard g(mu); balance += n; }
//   void audit() GORO_REQUIRES(mu);
#pragma once

#if defined(__clang__)
#define GORO_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define GORO_THREAD_ANNOTATION_(x)
#endif

#define GORO_CAPABILITY(x) GORO_THREAD_ANNOTATION_(capability(x))
#define GORO_SCOPED_CAPABILITY GORO_THREAD_ANNOTATION_(scoped_lockable)
#define GORO_GUARDED_BY(x) GORO_THREAD_ANNOTATION_(guarded_by(x))
#define GORO_PT_GUARDED_BY(x) GORO_THREAD_ANNOTATION_(pt_guarded_by(x))
#define GORO_ACQUIRED_BEFORE(...) GORO_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define GORO_ACQUIRED_AFTER(...) GORO_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))
#define GORO_REQUIRES(...) GORO_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define GORO_REQUIRES_SHARED(...) GORO_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
#define GORO_ACQUIRE(...) GORO_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define GORO_ACQUIRE_SHARED(...) GORO_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define GORO_RELEASE(...) GORO_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define GORO_RELEASE_SHARED(...) GORO_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
#define GORO_RELEASE_GENERIC(...) GORO_THREAD_ANNOTATION_(release_generic_capability(__VA_ARGS__))
#define GORO_TRY_ACQUIRE(...) GORO_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
#define GORO_TRY_ACQUIRE_SHARED(...) GORO_THREAD_ANNOTATION_(try_acquire_shared_capability(__VA_ARGS__))
#define GORO_EXCLUDES(...) GORO_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define GORO_ASSERT_CAPABILITY(x) GORO_THREAD_ANNOTATION_(assert_capability(x))
#define GORO_ASSERT_SHARED_CAPABILITY(x) GORO_THREAD_ANNOTATION_(assert_shared_capability(x))
#define GORO_RETURN_CAPABILITY(x) GORO_THREAD_ANNOTATION_(lock_returned(x))
#define GORO_NO_THREAD_SAFETY_ANALYSIS GORO_THREAD_ANNOTATION_(no_thread_safety_analysis)
