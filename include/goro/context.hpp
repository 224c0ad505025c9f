// goro/context.hpp — Go's context package.
//
//   auto [ctx, cancel] = goro::with_timeout(goro::background(), 100ms);
//   goro::select(goro::case_recv(ctx.done()), goro::case_recv(results, ...));
//
// A context is a cheap shared handle onto an immutable node of a tree.
// Cancelling a node cancels every descendant; a cancelled child is detached
// from its parent, so a long-lived parent does not accumulate dead children.
// A tree nobody can reach is freed, cancelled or not, and so is a child
// whose handles are all dropped while nobody waits on its done() channel;
// its timer, if it has one, is stopped at once. Call cancel when done, as
// in Go: a child still held stays attached to its parent until cancelled.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include <goro/chan.hpp>
#include <goro/errc.hpp>
#include <goro/time.hpp>

namespace goro {

namespace detail {
struct ctx_node;    // what a context handle points to (context.cpp)
struct ctx_cancel;  // a cancelable context's done channel, error and children
}  // namespace detail

// A typed key for with_value; every key object is distinct by identity.
template <class T>
class context_key {
 public:
  context_key() noexcept = default;
  context_key(const context_key&) = delete;
  context_key& operator=(const context_key&) = delete;

 private:
  char tag_ = 0;  // gives the object an address of its own
};

class context {
 public:
  context() noexcept = default;  // like background()

  // Closed when the context is cancelled; nil for background().
  recv_chan<std::monostate> done() const;
  // Empty, errc::canceled or errc::deadline_exceeded.
  std::error_code err() const;
  std::optional<time_point> deadline() const;
  template <class T>
  const T* value(const context_key<T>& key) const noexcept {
    return static_cast<const T*>(find_value(&key));
  }

  explicit context(std::shared_ptr<detail::ctx_node> n) noexcept : n_(std::move(n)) {}
  const std::shared_ptr<detail::ctx_node>& node() const noexcept { return n_; }

 private:
  const void* find_value(const void* key) const noexcept;
  std::shared_ptr<detail::ctx_node> n_;
};

// Cancels its context (idempotent, noexcept).
class cancel_func {
 public:
  cancel_func() noexcept = default;
  explicit cancel_func(std::shared_ptr<detail::ctx_cancel> c) noexcept : c_(std::move(c)) {}
  void operator()() const noexcept;

 private:
  std::shared_ptr<detail::ctx_cancel> c_;
};

// What with_cancel / with_timeout / with_deadline return.
struct cancel_pair {
  context ctx;
  cancel_func cancel;
};

context background() noexcept;
context todo() noexcept;
[[nodiscard]] cancel_pair with_cancel(const context& parent);
[[nodiscard]] cancel_pair with_deadline(const context& parent, time_point deadline);
template <class Rep, class Period>
[[nodiscard]] cancel_pair with_timeout(const context& parent, std::chrono::duration<Rep, Period> d) {
  return with_deadline(
      parent, std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
}

namespace detail {
context with_value_erased(const context& parent, const void* key, std::shared_ptr<const void> v);
}

template <class T, class U>
[[nodiscard]] context with_value(const context& parent, const context_key<T>& key, U&& v) {
  return detail::with_value_erased(parent, &key, std::make_shared<const T>(std::forward<U>(v)));
}

}  // namespace goro
