// goro/errgroup.hpp — golang.org/x/sync/errgroup.
//
//   auto [g, ctx] = goro::errgroup::with_context(parent);
//   for (auto& url : urls) g.go([&, url] { fetch(ctx, url); });
//   g.wait();  // rethrows the first exception
//
// An exception escaping a function started with go() is the group's error:
// the first one cancels the group's context and wait() rethrows it. A
// function may also return a std::error_code; a non-empty one counts as a
// std::system_error. wait() returning cancels the context, as in Go. The
// destructor waits, as std::jthread joins.
#pragma once

#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <type_traits>
#include <utility>

#include <goro/context.hpp>
#include <goro/runtime.hpp>
#include <goro/sync.hpp>
#include <goro/wait_group.hpp>

namespace goro {

class errgroup {
 public:
  struct with_context_result;

  errgroup() : errgroup(background()) {}
  explicit errgroup(const context& parent) : s_(std::make_shared<state>(parent)) {}
  errgroup(errgroup&&) noexcept = default;
  errgroup& operator=(errgroup&& o) noexcept {
    if (this != &o) {
      finish();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  ~errgroup() { finish(); }

  static with_context_result with_context(const context& parent);

  // The group's context: cancelled by the first error or when wait() returns.
  goro::context context() const { return s_->ctx; }

  // Starts f in a goroutine; with a limit set, waits for a free slot first.
  template <class F>
  void go(F&& f) {
    if (s_->limit) s_->limit->acquire();
    start(std::forward<F>(f));
  }
  // Starts f only if a slot is free now.
  template <class F>
  bool try_go(F&& f) {
    if (s_->limit && !s_->limit->try_acquire()) return false;
    start(std::forward<F>(f));
    return true;
  }
  // At most n goroutines at once (n < 0: no limit). Not while any runs.
  void set_limit(int n) {
    if (n < 0) s_->limit.reset();
    else s_->limit = std::make_unique<semaphore>(n);
  }
  // Waits for every goroutine, cancels the context, rethrows the first error.
  void wait() {
    s_->wg.wait();
    s_->cancel();
    if (s_->err) std::rethrow_exception(s_->err);
  }

 private:
  struct state {
    explicit state(const goro::context& parent) {
      auto r = with_cancel(parent);
      ctx = r.ctx;
      cancel = r.cancel;
    }
    wait_group wg;
    goro::context ctx;
    cancel_func cancel;
    mutex mu;
    std::exception_ptr err;  // guarded by mu
    std::unique_ptr<semaphore> limit;
  };

  template <class F>
  void start(F&& f) {
    s_->wg.add(1);
    std::shared_ptr<state> s = s_;
    goro::go([s, f = std::forward<F>(f)]() mutable {
      try {
        if constexpr (std::is_convertible_v<std::invoke_result_t<std::decay_t<F>&>, std::error_code>) {
          if (std::error_code ec = f()) throw std::system_error(ec);
        } else {
          f();
        }
      } catch (...) {
        std::lock_guard<mutex> l(s->mu);
        if (!s->err) {
          s->err = std::current_exception();
          s->cancel();
        }
      }
      if (s->limit) s->limit->release();
      s->wg.done();
    });
  }

  void finish() noexcept {
    if (!s_) return;
    try {
      s_->wg.wait();
    } catch (...) {
    }
    s_->cancel();
  }

  std::shared_ptr<state> s_;
};

struct errgroup::with_context_result {
  errgroup group;
  goro::context ctx;
};

inline errgroup::with_context_result errgroup::with_context(const goro::context& parent) {
  errgroup g(parent);
  goro::context c = g.context();
  return {std::move(g), std::move(c)};
}

}  // namespace goro
