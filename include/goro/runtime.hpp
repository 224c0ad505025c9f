// goro/runtime.hpp — goroutines: run, go, yield and the runtime's queries.
//
//   int main() { return goro::run([] { goro::go([] { ... }); }); }
//
// goro::run starts a fresh runtime (P processors, OS threads on demand),
// runs its function as goroutine 1 and returns when it returns. goro::go
// starts a goroutine: the callable and its arguments are decay-copied at the
// call, as std::thread does, and the call site is recorded for dumps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <functional>
#include <new>
#if __has_include(<source_location>)
#include <source_location>
#endif
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace goro {

// Options of goro::run.
struct config {
  // Number of processors (Go's GOMAXPROCS). 0: the GOMAXPROCS environment
  // variable if set, else the number of CPUs this process may run on.
  int procs = 0;
  // Stack reservation of every goroutine, in bytes (0: 256 KiB). Physical
  // pages are committed only as they are touched.
  std::size_t stack_size = 0;
  // When the run's function returns while other goroutines are still blocked
  // (after a short grace for those about to exit): their report (the format
  // of goro::find_leaks) goes to stderr, headed "goro: N goroutine(s)
  // leaked", and run returns 1 if it would have returned 0.
  bool fail_on_leak = false;
};

// Options of one goroutine: goro::go(goro::spawn_options{.name = "x"}, f).
struct spawn_options {
  std::string_view name = {};  // shown in dumps and traces (copied)
  std::size_t stack_size = 0;  // 0: the runtime's default
};

// Where a goroutine was created. The same as std::source_location, which
// libstdc++ 12 does not offer to Clang 14; current() as a default argument
// captures the caller's file, line and function.
struct source_location {
  const char* file = "";
  const char* function = "";
  std::uint_least32_t line_number = 0;

#if defined(__cpp_lib_source_location)
  // The standard one names the function fully ("main()::<lambda()>").
  static constexpr source_location current(std::source_location l = std::source_location::current()) noexcept {
    return {l.file_name(), l.function_name(), l.line()};
  }
#else
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE()) noexcept {
    return {file, function, line};
  }
#endif
  constexpr const char* file_name() const noexcept { return file; }
  constexpr const char* function_name() const noexcept { return function; }
  constexpr std::uint_least32_t line() const noexcept { return line_number; }
};

namespace detail {

// A goroutine under construction: the runtime hands out memory for the
// closure (inside the goroutine descriptor when it fits), the template code
// constructs the closure there, then commits.
struct spawn_slot {
  void* g;
  void* mem;
};
spawn_slot spawn_begin(std::size_t size, std::size_t align);
void spawn_commit(spawn_slot s, void (*run)(void*), void (*destroy)(void*) noexcept, const spawn_options* opts,
                  const source_location& loc);
void spawn_abort(spawn_slot s) noexcept;

int run_main(void (*fn)(void*), void* arg, const config& cfg);

template <class F, class... Args>
struct closure {
  std::decay_t<F> f;
  std::tuple<std::decay_t<Args>...> args;

  static void run(void* p) {
    auto* c = static_cast<closure*>(p);
    std::apply([&](auto&... a) { std::invoke(std::move(c->f), std::move(a)...); }, c->args);
  }
  static void destroy(void* p) noexcept { static_cast<closure*>(p)->~closure(); }
};

template <class F, class... Args>
void spawn(const spawn_options* opts, const source_location& loc, F&& f, Args&&... args) {
  static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                "goro::go: the function cannot be called with these arguments");
  using C = closure<F, Args...>;
  spawn_slot s = spawn_begin(sizeof(C), alignof(C));
  try {
    ::new (s.mem) C{std::forward<F>(f), std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)};
  } catch (...) {
    spawn_abort(s);
    throw;
  }
  spawn_commit(s, &C::run, &C::destroy, opts, loc);
}

}  // namespace detail

// goro::go(f, args...) — Go's `go f(args...)`: starts f(args...) in a new
// goroutine. f and the arguments are decay-copied at the call, as
// std::thread does; the call site is recorded for dumps. go(spawn_options,
// f, args...) names the goroutine or sets its stack size. Throws
// std::logic_error when no runtime is running. (Function templates, one per
// argument count up to 10, so that the call site can be a default argument
// after the arguments, and `goro::go(worker);` is a call, not a declaration.)

template <class F>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f));
}

template <class F>
void go(const spawn_options& opts, F&& f, const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f));
}

template <class F, class A0>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0));
}

template <class F, class A0>
void go(const spawn_options& opts, F&& f, A0&& a0, const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0));
}

template <class F, class A0, class A1>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1));
}

template <class F, class A0, class A1>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1));
}

template <class F, class A0, class A1, class A2>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2));
}

template <class F, class A0, class A1, class A2>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2,
        const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2));
}

template <class F, class A0, class A1, class A2, class A3>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3));
}

template <class F, class A0, class A1, class A2, class A3>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3,
        const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3));
}

template <class F, class A0, class A1, class A2, class A3, class A4>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4));
}

template <class F, class A0, class A1, class A2, class A3, class A4>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4,
        const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5,
    const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5,
        const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6,
    const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6,
        const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6, class A7>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7,
    const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6, class A7>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7,
        const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6, class A7, class A8>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7, A8&& a8,
    const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7), std::forward<A8>(a8));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6, class A7, class A8>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7,
        A8&& a8, const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7), std::forward<A8>(a8));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6, class A7, class A8, class A9>
requires(!std::is_same_v<std::remove_cvref_t<F>, spawn_options>) void go(
    F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7, A8&& a8, A9&& a9,
    const source_location& loc = source_location::current()) {
  detail::spawn(nullptr, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7), std::forward<A8>(a8), std::forward<A9>(a9));
}

template <class F, class A0, class A1, class A2, class A3, class A4, class A5, class A6, class A7, class A8, class A9>
void go(const spawn_options& opts, F&& f, A0&& a0, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7,
        A8&& a8, A9&& a9, const source_location& loc = source_location::current()) {
  detail::spawn(&opts, loc, std::forward<F>(f), std::forward<A0>(a0), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7), std::forward<A8>(a8), std::forward<A9>(a9));
}

// Runs fn as goroutine 1 of a fresh runtime and returns when it returns: its
// int result if it has one, else 0. Goroutines still alive then are
// discarded (reported first with config::fail_on_leak, which makes a result
// of 0 into 1). May be called again later; never two at once.
template <class F>
int run(F&& fn, const config& cfg = {}) {
  struct call {
    std::decay_t<F> f;
    int result = 0;
    static void invoke(void* p) {
      auto* c = static_cast<call*>(p);
      if constexpr (std::is_convertible_v<std::invoke_result_t<std::decay_t<F>&>, int>) {
        c->result = static_cast<int>(std::invoke(c->f));
      } else {
        std::invoke(c->f);
      }
    }
  };
  call c{std::forward<F>(fn)};
  int rc = detail::run_main(&call::invoke, &c, cfg);  // 1 when fail_on_leak found leaks
  return c.result != 0 ? c.result : rc;
}

namespace detail {
void blocking_run(void (*fn)(void*), void* arg);
}

// Runs f (a blocking system call, a C library call that may block) on its
// thread's own full-size stack and returns its result, or rethrows. While f
// blocks, the scheduler hands this goroutine's processor to another thread,
// so the other goroutines keep running.
template <class F>
std::invoke_result_t<F&> blocking(F&& f) {
  using R = std::invoke_result_t<F&>;
  struct state {
    F* f;
    std::exception_ptr ex;
    std::conditional_t<std::is_void_v<R>, char,
                       std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, std::optional<R>>>
        r{};
  } s{&f, nullptr};
  detail::blocking_run(
      [](void* p) {
        auto* st = static_cast<state*>(p);
        try {
          if constexpr (std::is_void_v<R>) std::invoke(*st->f);
          else if constexpr (std::is_reference_v<R>) st->r = &std::invoke(*st->f);
          else st->r.emplace(std::invoke(*st->f));
        } catch (...) {
          st->ex = std::current_exception();
        }
      },
      &s);
  if (s.ex) std::rethrow_exception(s.ex);
  if constexpr (std::is_void_v<R>) return;
  else if constexpr (std::is_reference_v<R>) return static_cast<R>(*s.r);
  else return std::move(*s.r);
}

// runtime.Gosched(): lets other goroutines run. On a plain thread it yields
// the thread.
void yield();

// runtime.NumGoroutine(): goroutines that exist now.
int num_goroutine();

// runtime.GOMAXPROCS(n): sets the number of processors when n > 0 and
// returns the previous value.
int gomaxprocs(int n = 0);

// runtime.LockOSThread(): the calling goroutine runs only on its current
// thread, and that thread runs no other goroutine, until the matching
// unlock_os_thread() (calls nest). For thread-affine libraries.
void lock_os_thread();
void unlock_os_thread() noexcept;

namespace this_goroutine {
// The goroutine's id (1 for the main goroutine); 0 on a plain thread.
std::int64_t id() noexcept;
}  // namespace this_goroutine

}  // namespace goro
