// time.cpp — sleep, timer, ticker, after_func on the runtime's timers.
//
// A goro::timer / ticker / func_timer handle owns a reference to a
// timer_state; a pending timer's heap entry owns another, and a firing
// callback holds one while it runs, so the state outlives whichever of
// them ends last. `mu` serializes a firing with stop/reset: the callback
// delivers only if the timer's seq is still the one it was popped with, and
// stop/reset bump seq (rt::timer_del) and drain the channel while holding
// mu, so no stale value can be received after they return.
#include <thread>

#include "goro/panic.hpp"
#include "goro/runtime.hpp"
#include "goro/time.hpp"
#include "runtime/park.hpp"
#include "runtime/sanitizer.hpp"
#include "runtime/sched.hpp"

namespace goro::detail {

using rt::nanotime;

struct timer_state {
  rt::Timer t;
  std::atomic<int> refs{1};
  rt::Lock mu{rt::LockRank::timer_state};
  timer_kind kind = timer_kind::once;
  chan_core* ch = nullptr;  // once / ticker: capacity 1
  std::function<void()> fn;
};

namespace {

std::int64_t deadline_after(std::int64_t ns) {
  std::int64_t now = nanotime();
  if (ns > std::numeric_limits<std::int64_t>::max() - now) return std::numeric_limits<std::int64_t>::max();
  return now + (ns > 0 ? ns : 0);
}

void retain(timer_state* s) noexcept { s->refs.fetch_add(1, std::memory_order_relaxed); }
void release(timer_state* s) noexcept {
  rt::san::release(s);  // (TSan: the runtime's atomics are not instrumented)
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    rt::san::acquire(s);
    if (s->ch) chan_release(s->ch);
    delete s;
  }
}

bool drain(timer_state* s) {
  if (!s->ch) return false;
  time_point tp;
  return chan_recv(s->ch, &tp, false) == recv_result::received;
}

void fire(rt::Timer* t, std::uint64_t seq) {
  // Runs with a reference of its own: a ticker's pin, taken by run_timers
  // under the heap lock, or a one-shot timer's heap reference.
  auto* s = static_cast<timer_state*>(t->arg);
  s->mu.lock();
  bool current = s->t.seq == seq;
  // One-shot: decided under mu; from here stop/reset see "not pending".
  if (s->t.counted) s->t.running.fetch_sub(1, std::memory_order_release);
  if (current && s->kind == timer_kind::func) {
    s->mu.unlock();
    retain(s);
    goro::go([s] {
      struct done {
        timer_state* s;
        ~done() { release(s); }
      } d{s};
      s->fn();
    });
  } else {
    if (current) {
      time_point tp = std::chrono::steady_clock::now();
      chan_send(s->ch, &tp, false);  // a full channel drops the tick, as in Go
    }
    s->mu.unlock();
  }
  release(s);
}

void arm(timer_state* s, std::int64_t ns) { rt::timer_add(&s->t, deadline_after(ns)); }

}  // namespace

void sleep_ns(std::int64_t ns) {
  if (ns <= 0) return;
  rt::G* g = rt::current_g();
  if (!g) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
    return;
  }
  rt::Timer t;
  t.f = [](rt::Timer* tm, std::uint64_t) { rt::ready(static_cast<rt::G*>(tm->arg)); };
  t.arg = g;
  t.when = deadline_after(ns);
  // The timer is armed after the goroutine is off its stack, so its firing
  // cannot ready a goroutine that is still running.
  rt::park(
      rt::WaitReason::sleep,
      [](rt::G*, void* a) {
        auto* tm = static_cast<rt::Timer*>(a);
        rt::timer_add(tm, tm->when);
        return true;
      },
      &t);
}

timer_state* timer_new(timer_kind kind, std::int64_t ns, std::function<void()> fn) {
  if (kind == timer_kind::ticker && ns <= 0) throw panic_error("non-positive interval for NewTicker");
  auto* s = new timer_state;
  s->kind = kind;
  s->fn = std::move(fn);
  s->t.f = &fire;
  s->t.arg = s;
  s->t.forget = [](rt::Timer* t) { release(static_cast<timer_state*>(t->arg)); };
  s->t.counted = kind != timer_kind::ticker;
  s->t.pin = [](rt::Timer* t) { retain(static_cast<timer_state*>(t->arg)); };
  if (kind != timer_kind::func) s->ch = chan_make(&elem_ops_for<time_point>, 1);
  if (kind == timer_kind::ticker) s->t.period = ns;
  retain(s);  // the heap's reference
  arm(s, ns);
  return s;
}

chan_core* timer_chan(timer_state* s) noexcept { return s->ch; }

// A one-shot timer popped by run_timers whose fire has not yet taken mu is
// still pending for stop/reset: timer_del's seq bump makes that fire a
// no-op (no value sent, no function started), so the call did stop it.
static bool firing(timer_state* s) { return s->t.counted && s->t.running.load(std::memory_order_acquire) != 0; }

bool timer_stop(timer_state* s) noexcept {
  s->mu.lock();
  bool in_heap = rt::timer_del(&s->t);
  bool stopped = in_heap || firing(s);
  bool drained = drain(s);
  s->mu.unlock();
  if (in_heap) release(s);  // the heap's reference (the handle still holds one)
  return stopped || drained;
}

bool timer_reset(timer_state* s, std::int64_t ns) {
  if (s->kind == timer_kind::ticker && ns <= 0) throw panic_error("non-positive interval for Ticker.Reset");
  s->mu.lock();
  bool in_heap = rt::timer_del(&s->t);
  bool stopped = in_heap || firing(s);
  bool drained = drain(s);
  if (!in_heap) retain(s);  // the heap's reference again (a popped fire keeps the old one)
  if (s->kind == timer_kind::ticker) s->t.period = ns;
  arm(s, ns);
  s->mu.unlock();
  return stopped || drained;
}

void timer_drop(timer_state* s) noexcept {
  timer_stop(s);
  release(s);
}

void timer_release(timer_state* s) noexcept { release(s); }

}  // namespace goro::detail
