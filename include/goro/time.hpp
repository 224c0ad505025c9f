// goro/time.hpp — Go's time package: sleep, after, timer, ticker, after_func.
//
// Timers live in the scheduler's per-processor heaps and wake goroutines
// without a thread of their own. Go 1.23 semantics: after stop() or reset()
// returns, no stale value is received from c(); a timer that fired but
// whose value was never received counts as still pending (stop() returns
// true). Destroying a timer or ticker stops it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <utility>

#include <goro/chan.hpp>

namespace goro {

using time_point = std::chrono::steady_clock::time_point;

namespace detail {

template <class Rep, class Period>
std::int64_t to_ns(std::chrono::duration<Rep, Period> d) noexcept {
  using namespace std::chrono;
  if constexpr (std::is_floating_point_v<Rep>) {
    double ns = duration<double, std::nano>(d).count();
    if (ns >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
    if (ns <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(ns);
  } else {
    // Saturate instead of overflowing (e.g. hours::max()).
    using ns_t = duration<std::int64_t, std::nano>;
    if (d > duration_cast<duration<Rep, Period>>(ns_t::max())) return std::numeric_limits<std::int64_t>::max();
    if (d < duration_cast<duration<Rep, Period>>(ns_t::min())) return std::numeric_limits<std::int64_t>::min();
    return duration_cast<ns_t>(d).count();
  }
}

void sleep_ns(std::int64_t ns);
struct timer_state;
enum class timer_kind : unsigned char { once, ticker, func };
timer_state* timer_new(timer_kind kind, std::int64_t ns, std::function<void()> fn);
void timer_drop(timer_state* t) noexcept;     // stops it and releases the handle's reference
void timer_release(timer_state* t) noexcept;  // releases the handle's reference only
chan_core* timer_chan(timer_state* t) noexcept;
bool timer_stop(timer_state* t) noexcept;
bool timer_reset(timer_state* t, std::int64_t ns);

}  // namespace detail

// time.Sleep(d): parks the goroutine (on a plain thread: blocks the thread).
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
  detail::sleep_ns(detail::to_ns(d));
}

// time.NewTimer(d).
class timer {
 public:
  template <class Rep, class Period>
  explicit timer(std::chrono::duration<Rep, Period> d)
      : s_(detail::timer_new(detail::timer_kind::once, detail::to_ns(d), nullptr)) {}
  timer(timer&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  timer& operator=(timer&& o) noexcept {
    if (this != &o) {
      if (s_) detail::timer_drop(s_);
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~timer() {
    if (s_) detail::timer_drop(s_);
  }
  // The channel the expiry time is delivered on (capacity 1).
  recv_chan<time_point> c() const noexcept;
  // Stops the timer; true if it was pending (or fired but not received).
  bool stop() noexcept { return s_ && detail::timer_stop(s_); }
  // Restarts it to fire after d; returns what stop() would have.
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return detail::timer_reset(s_, detail::to_ns(d));
  }

 private:
  detail::timer_state* s_;
};

// time.NewTicker(d): delivers the time every d; a slow receiver misses ticks
// (the channel holds one). A non-positive interval panics.
class ticker {
 public:
  template <class Rep, class Period>
  explicit ticker(std::chrono::duration<Rep, Period> d)
      : s_(detail::timer_new(detail::timer_kind::ticker, detail::to_ns(d), nullptr)) {}
  ticker(ticker&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  ticker& operator=(ticker&& o) noexcept {
    if (this != &o) {
      if (s_) detail::timer_drop(s_);
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~ticker() {
    if (s_) detail::timer_drop(s_);
  }
  recv_chan<time_point> c() const noexcept;
  void stop() noexcept {
    if (s_) detail::timer_stop(s_);
  }
  template <class Rep, class Period>
  void reset(std::chrono::duration<Rep, Period> d) {
    detail::timer_reset(s_, detail::to_ns(d));
  }

 private:
  detail::timer_state* s_;
};

// The handle time.AfterFunc returns: stop() and reset(d). Dropping it does
// not cancel the call.
class func_timer {
 public:
  explicit func_timer(detail::timer_state* s) noexcept : s_(s) {}
  func_timer(const func_timer&) = delete;
  func_timer& operator=(const func_timer&) = delete;
  func_timer(func_timer&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  func_timer& operator=(func_timer&& o) noexcept;
  ~func_timer();
  // Prevents the call; true if it had not run yet.
  bool stop() noexcept { return s_ && detail::timer_stop(s_); }
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return detail::timer_reset(s_, detail::to_ns(d));
  }

 private:
  detail::timer_state* s_;
};

// time.AfterFunc(d, f): after d, runs f in its own goroutine.
template <class Rep, class Period, class F>
func_timer after_func(std::chrono::duration<Rep, Period> d, F&& f) {
  return func_timer(
      detail::timer_new(detail::timer_kind::func, detail::to_ns(d), std::function<void()>(std::forward<F>(f))));
}

// time.After(d): a channel that receives the time once, after d.
template <class Rep, class Period>
recv_chan<time_point> after(std::chrono::duration<Rep, Period> d) {
  detail::timer_state* s = detail::timer_new(detail::timer_kind::once, detail::to_ns(d), nullptr);
  auto c = detail::chan_access::recv<time_point>(detail::timer_chan(s));
  detail::timer_release(s);  // the pending timer keeps its state alive
  return c;
}

inline recv_chan<time_point> timer::c() const noexcept {
  return detail::chan_access::recv<time_point>(detail::timer_chan(s_));
}
inline recv_chan<time_point> ticker::c() const noexcept {
  return detail::chan_access::recv<time_point>(detail::timer_chan(s_));
}
inline func_timer& func_timer::operator=(func_timer&& o) noexcept {
  if (this != &o) {
    if (s_) detail::timer_release(s_);
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}
inline func_timer::~func_timer() {
  if (s_) detail::timer_release(s_);
}

}  // namespace goro
