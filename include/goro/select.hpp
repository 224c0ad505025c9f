// goro/select.hpp — Go's select statement.
//
//   goro::select(
//       goro::case_recv(in, [&](std::optional<int> v) { ... }),   // case v, ok := <-in
//       goro::case_send(out, x, [&] { ... }),                     // case out <- x
//       goro::case_default([&] { ... }));                         // default
//
// Returns the index of the case that ran. Among several ready cases one is
// chosen uniformly at random; without a default it blocks until one is
// ready; goro::select() with no cases blocks forever. Handlers run after
// the channels are unlocked. A nil channel's case is never ready.
// Runtime-sized lists (Go's reflect.Select) use type-erased goro::select_case
// values made by the same factories: goro::select(std::span<select_case>).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <goro/chan.hpp>

namespace goro {

namespace detail {

enum class case_kind : unsigned char { recv, send, dflt };
struct scase {
  chan_core* c;
  void* elem;
  case_kind kind;
};
struct select_result {
  std::size_t index;
  bool ok;  // receive: a value arrived (false: closed)
};
select_result select_impl(scase* cases, std::size_t n, bool block);

struct no_handler {};

template <class F, class T>
void call_recv_handler(F& f, std::optional<T>&& v) {
  if constexpr (std::is_same_v<F, no_handler>) {
  } else if constexpr (std::is_invocable_v<F&, std::optional<T>&&>) {
    std::invoke(f, std::move(v));
  } else {
    static_assert(std::is_invocable_v<F&>, "case_recv handler: takes std::optional<T> or nothing");
    std::invoke(f);
  }
}

template <class F>
void call_handler(F& f) {
  if constexpr (!std::is_same_v<F, no_handler>) std::invoke(f);
}

template <class T, class F>
struct recv_case {
  chan_core* c;
  F f;
  raw_storage<T> buf;
  scase prepare() noexcept { return {c, buf.bytes, case_kind::recv}; }
  void finish(bool ok) {
    std::optional<T> v;
    if (ok) v = take(buf);
    call_recv_handler(f, std::move(v));
  }
};

template <class T>
struct recv_into_case {
  chan_core* c;
  std::optional<T>* out;
  raw_storage<T> buf;
  scase prepare() noexcept { return {c, buf.bytes, case_kind::recv}; }
  void finish(bool ok) {
    if (ok) *out = take(buf);
    else out->reset();
  }
};

template <class T, class F>
struct send_case {
  chan_core* c;
  T* ref;                // the caller's value (moved from only if chosen)
  std::optional<T> own;  // or a value converted from a temporary
  F f;
  scase prepare() noexcept { return {c, own ? &*own : ref, case_kind::send}; }
  void finish(bool) { call_handler(f); }
};

template <class F>
struct default_case {
  F f;
  scase prepare() noexcept { return {nullptr, nullptr, case_kind::dflt}; }
  void finish(bool) { call_handler(f); }
};

template <class C>
struct is_case : std::false_type {};
template <class T, class F>
struct is_case<recv_case<T, F>> : std::true_type {};
template <class T>
struct is_case<recv_into_case<T>> : std::true_type {};
template <class T, class F>
struct is_case<send_case<T, F>> : std::true_type {};
template <class F>
struct is_case<default_case<F>> : std::true_type {};

template <class C>
struct is_default_case : std::false_type {};
template <class F>
struct is_default_case<default_case<F>> : std::true_type {};

template <class Ch>
using chan_value_t = typename std::remove_cvref_t<Ch>::value_type;

}  // namespace detail

// A type-erased case, for runtime-sized selects. Made implicitly from what
// the case_* factories return.
class select_case {
 public:
  template <class C, std::enable_if_t<detail::is_case<std::remove_cvref_t<C>>::value, int> = 0>
  select_case(C&& c) : p_(std::make_unique<model<std::remove_cvref_t<C>>>(std::forward<C>(c))) {}

  detail::scase prepare() { return p_->prepare(); }
  void finish(bool ok) { p_->finish(ok); }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual detail::scase prepare() = 0;
    virtual void finish(bool ok) = 0;
  };
  template <class C>
  struct model final : concept_t {
    explicit model(C&& c) : c(std::move(c)) {}
    detail::scase prepare() override { return c.prepare(); }
    void finish(bool ok) override { c.finish(ok); }
    C c;
  };
  std::unique_ptr<concept_t> p_;
};

namespace detail {
template <>
struct is_case<select_case> : std::true_type {};
}  // namespace detail

// case v := <-ch: the handler takes std::optional<T> (nullopt: closed) or nothing.
template <class Ch, class F>
auto case_recv(const Ch& ch, F&& f) -> detail::recv_case<detail::chan_value_t<Ch>, std::decay_t<F>>
requires(!std::is_same_v<std::remove_cvref_t<F>, std::optional<detail::chan_value_t<Ch>>>) {
  return {ch.core(), std::forward<F>(f), {}};
}
template <class Ch>
auto case_recv(const Ch& ch) -> detail::recv_case<detail::chan_value_t<Ch>, detail::no_handler> {
  return {ch.core(), {}, {}};
}
// case v, ok := <-ch storing into out (nullopt when closed).
template <class Ch>
auto case_recv(const Ch& ch, std::optional<detail::chan_value_t<Ch>>& out)
    -> detail::recv_into_case<detail::chan_value_t<Ch>> {
  return {ch.core(), &out, {}};
}

// case ch <- value: holds value by reference; moved from only if chosen.
template <class Ch, class U, class F = detail::no_handler>
auto case_send(const Ch& ch, U&& value, F&& f = {}) -> detail::send_case<detail::chan_value_t<Ch>, std::decay_t<F>> {
  using T = detail::chan_value_t<Ch>;
  if constexpr (std::is_lvalue_reference_v<U> && std::is_same_v<std::remove_cvref_t<U>, T> &&
                !std::is_const_v<std::remove_reference_t<U>>) {
    return {ch.core(), &value, std::nullopt, std::forward<F>(f)};
  } else {
    return {ch.core(), nullptr, std::optional<T>(std::in_place, std::forward<U>(value)), std::forward<F>(f)};
  }
}

// default:
template <class F = detail::no_handler>
auto case_default(F&& f = {}) -> detail::default_case<std::decay_t<F>> {
  return {std::forward<F>(f)};
}

// select { cases }: returns the index of the case that ran.
template <class... C>
requires(detail::is_case<std::remove_cvref_t<C>>::value&&...) std::size_t select(C&&... cases) {
  constexpr std::size_t n = sizeof...(C);
  if constexpr (n == 0) {
    detail::select_impl(nullptr, 0, true);  // blocks forever
    return 0;
  } else {
    detail::scase sc[n] = {cases.prepare()...};
    constexpr bool has_default = (detail::is_default_case<std::remove_cvref_t<C>>::value || ...);
    bool block = !has_default;
    if constexpr (!has_default) {
      // A type-erased case may be a default.
      for (auto& s : sc) block &= s.kind != detail::case_kind::dflt;
    }
    detail::select_result r = detail::select_impl(sc, n, block);
    std::size_t i = 0;
    ((i++ == r.index ? cases.finish(r.ok) : void()), ...);
    return r.index;
  }
}

// Runtime-sized select (Go's reflect.Select).
inline std::size_t select(std::span<select_case> cases) {
  std::vector<detail::scase> sc;
  sc.reserve(cases.size());
  bool block = true;
  for (auto& c : cases) {
    sc.push_back(c.prepare());
    block &= sc.back().kind != detail::case_kind::dflt;
  }
  detail::select_result r = detail::select_impl(sc.data(), sc.size(), block);
  cases[r.index].finish(r.ok);
  return r.index;
}
inline std::size_t select(std::vector<select_case>& cases) { return select(std::span<select_case>(cases)); }

}  // namespace goro
