// goro/chan.hpp — Go channels: chan<T>, send_chan<T>, recv_chan<T>.
//
//   auto ch = goro::make_chan<int>(16);   // make(chan int, 16)
//   ch.send(1);                           // ch <- 1
//   std::optional<int> v = ch.recv();     // v, ok := <-ch  (nullopt: closed and drained)
//   ch.close();                           // close(ch)
//   for (int x : ch) { ... }              // for x := range ch
//
// A chan<T> is a shared handle: copies refer to the same channel, == compares
// identity, and a default-constructed one is the nil channel (send and
// receive block forever; close panics). The channel itself is Go's hchan: one
// lock, a ring buffer, and FIFO queues of parked senders and receivers with
// direct hand-off (src/chan/chan.cpp).
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace goro {

namespace detail {

// How the type-erased channel moves and destroys its elements.
struct elem_ops {
  std::size_t size;
  std::size_t align;
  void (*move)(void* dst, void* src) noexcept;  // construct *dst from std::move(*src)
  void (*destroy)(void* p) noexcept;
};

template <class T>
inline constexpr elem_ops elem_ops_for{sizeof(T), alignof(T),
                                       [](void* dst, void* src) noexcept {
                                         if constexpr (std::is_trivially_copyable_v<T>)
                                           __builtin_memcpy(dst, src, sizeof(T));
                                         else ::new (dst) T(std::move(*static_cast<T*>(src)));
                                       },
                                       [](void* p) noexcept {
                                         if constexpr (!std::is_trivially_destructible_v<T>) static_cast<T*>(p)->~T();
                                       }};

class chan_core;
chan_core* chan_make(const elem_ops* ops, std::size_t cap);
void chan_retain(chan_core* c) noexcept;
void chan_release(chan_core* c) noexcept;
// Sends *src (moved from only on success). block=false: returns false
// instead of blocking. Throws panic_error on a closed channel.
bool chan_send(chan_core* c, void* src, bool block);
enum class recv_result { received, closed, would_block };
// Receives into the uninitialized storage dst.
recv_result chan_recv(chan_core* c, void* dst, bool block);
void chan_close(chan_core* c);
std::size_t chan_size(const chan_core* c) noexcept;
std::size_t chan_capacity(const chan_core* c) noexcept;

// The counted reference every handle holds.
class chan_ref {
 public:
  chan_ref() noexcept = default;
  explicit chan_ref(chan_core* c) noexcept : c_(c) {}  // adopts
  chan_ref(const chan_ref& o) noexcept : c_(o.c_) {
    if (c_) chan_retain(c_);
  }
  chan_ref(chan_ref&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  chan_ref& operator=(const chan_ref& o) noexcept {
    chan_ref(o).swap(*this);
    return *this;
  }
  chan_ref& operator=(chan_ref&& o) noexcept {
    chan_ref(std::move(o)).swap(*this);
    return *this;
  }
  ~chan_ref() {
    if (c_) chan_release(c_);
  }
  void swap(chan_ref& o) noexcept { std::swap(c_, o.c_); }
  static chan_ref share(chan_core* c) noexcept {
    if (c) chan_retain(c);
    return chan_ref(c);
  }
  chan_core* get() const noexcept { return c_; }

 private:
  chan_core* c_ = nullptr;
};

template <class T>
struct raw_storage {
  alignas(T) unsigned char bytes[sizeof(T)];
  T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
};

template <class T>
std::optional<T> take(raw_storage<T>& s) {
  T* p = s.ptr();
  std::optional<T> out(std::move(*p));
  p->~T();
  return out;
}

template <class T>
class chan_ops {
 public:
  static void send(chan_core* c, T&& v) { chan_send(c, std::addressof(v), true); }
  static void send_copy(chan_core* c, const T& v) {
    T tmp(v);
    chan_send(c, std::addressof(tmp), true);
  }
  static bool try_send(chan_core* c, T& v) { return chan_send(c, std::addressof(v), false); }
  static std::optional<T> recv(chan_core* c) {
    raw_storage<T> s;
    if (chan_recv(c, s.bytes, true) != recv_result::received) return std::nullopt;
    return take(s);
  }
  static std::optional<T> try_recv(chan_core* c) {
    raw_storage<T> s;
    if (chan_recv(c, s.bytes, false) != recv_result::received) return std::nullopt;
    return take(s);
  }
};

struct chan_access;

}  // namespace detail

template <class T>
class chan;
template <class T>
class send_chan;
// make(chan T) / make(chan T, n).
template <class T>
[[nodiscard]] chan<T> make_chan(std::size_t cap = 0);
template <class T>
class recv_chan;

// Range-for over a receiving channel: begin() receives the first element and
// ++ the next one, only when the loop asks for it.
template <class T>
class chan_iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = T*;
  using reference = T&;

  chan_iterator() = default;
  explicit chan_iterator(detail::chan_core* c) : c_(c) { ++*this; }
  T& operator*() { return *v_; }
  T* operator->() { return &*v_; }
  chan_iterator& operator++() {
    v_ = detail::chan_ops<T>::recv(c_);
    if (!v_) c_ = nullptr;
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const chan_iterator& a, const chan_iterator& b) noexcept { return a.c_ == b.c_; }

 private:
  detail::chan_core* c_ = nullptr;
  std::optional<T> v_;
};

// chan<T>: the bidirectional channel handle (Go's `chan T`).
template <class T>
class chan {
 public:
  using value_type = T;
  chan() noexcept = default;  // the nil channel

  void send(const T& v) const { detail::chan_ops<T>::send_copy(core(), v); }
  void send(T&& v) const { detail::chan_ops<T>::send(core(), std::move(v)); }
  [[nodiscard]] bool try_send(T& v) const { return detail::chan_ops<T>::try_send(core(), v); }
  [[nodiscard]] bool try_send(T&& v) const { return detail::chan_ops<T>::try_send(core(), v); }
  std::optional<T> recv() const { return detail::chan_ops<T>::recv(core()); }
  [[nodiscard]] std::optional<T> try_recv() const { return detail::chan_ops<T>::try_recv(core()); }
  void close() const { detail::chan_close(core()); }
  std::size_t size() const noexcept { return core() ? detail::chan_size(core()) : 0; }
  std::size_t capacity() const noexcept { return core() ? detail::chan_capacity(core()) : 0; }
  bool is_nil() const noexcept { return core() == nullptr; }
  explicit operator bool() const noexcept { return core() != nullptr; }

  chan_iterator<T> begin() const { return chan_iterator<T>(core()); }
  chan_iterator<T> end() const { return chan_iterator<T>(); }

  friend bool operator==(const chan& a, const chan& b) noexcept { return a.core() == b.core(); }

  detail::chan_core* core() const noexcept { return ref_.get(); }

 private:
  template <class U>
  friend chan<U> make_chan(std::size_t);
  friend struct detail::chan_access;
  explicit chan(detail::chan_ref r) noexcept : ref_(std::move(r)) {}
  detail::chan_ref ref_;
};

// send_chan<T>: the send-only half (Go's `chan<- T`).
template <class T>
class send_chan {
 public:
  using value_type = T;
  send_chan() noexcept = default;
  send_chan(const chan<T>& c) noexcept : ref_(detail::chan_ref::share(c.core())) {}
  send_chan(chan<T>&& c) noexcept : send_chan(static_cast<const chan<T>&>(c)) { c = chan<T>(); }

  void send(const T& v) const { detail::chan_ops<T>::send_copy(core(), v); }
  void send(T&& v) const { detail::chan_ops<T>::send(core(), std::move(v)); }
  [[nodiscard]] bool try_send(T& v) const { return detail::chan_ops<T>::try_send(core(), v); }
  [[nodiscard]] bool try_send(T&& v) const { return detail::chan_ops<T>::try_send(core(), v); }
  void close() const { detail::chan_close(core()); }
  std::size_t size() const noexcept { return core() ? detail::chan_size(core()) : 0; }
  std::size_t capacity() const noexcept { return core() ? detail::chan_capacity(core()) : 0; }
  bool is_nil() const noexcept { return core() == nullptr; }
  explicit operator bool() const noexcept { return core() != nullptr; }
  friend bool operator==(const send_chan& a, const send_chan& b) noexcept { return a.core() == b.core(); }
  detail::chan_core* core() const noexcept { return ref_.get(); }

 private:
  friend struct detail::chan_access;
  explicit send_chan(detail::chan_ref r) noexcept : ref_(std::move(r)) {}
  detail::chan_ref ref_;
};

// recv_chan<T>: the receive-only half (Go's `<-chan T`).
template <class T>
class recv_chan {
 public:
  using value_type = T;
  recv_chan() noexcept = default;
  recv_chan(const chan<T>& c) noexcept : ref_(detail::chan_ref::share(c.core())) {}
  recv_chan(chan<T>&& c) noexcept : recv_chan(static_cast<const chan<T>&>(c)) { c = chan<T>(); }

  std::optional<T> recv() const { return detail::chan_ops<T>::recv(core()); }
  [[nodiscard]] std::optional<T> try_recv() const { return detail::chan_ops<T>::try_recv(core()); }
  std::size_t size() const noexcept { return core() ? detail::chan_size(core()) : 0; }
  std::size_t capacity() const noexcept { return core() ? detail::chan_capacity(core()) : 0; }
  bool is_nil() const noexcept { return core() == nullptr; }
  explicit operator bool() const noexcept { return core() != nullptr; }
  chan_iterator<T> begin() const { return chan_iterator<T>(core()); }
  chan_iterator<T> end() const { return chan_iterator<T>(); }
  friend bool operator==(const recv_chan& a, const recv_chan& b) noexcept { return a.core() == b.core(); }
  detail::chan_core* core() const noexcept { return ref_.get(); }

 private:
  friend struct detail::chan_access;
  explicit recv_chan(detail::chan_ref r) noexcept : ref_(std::move(r)) {}
  detail::chan_ref ref_;
};

namespace detail {
// Handles onto an existing channel core (for the runtime's own channels).
struct chan_access {
  template <class T>
  static recv_chan<T> recv(chan_core* c) noexcept {
    return recv_chan<T>(chan_ref::share(c));
  }
  template <class T>
  static chan<T> bidi(chan_core* c) noexcept {
    return chan<T>(chan_ref::share(c));
  }
};
}  // namespace detail

template <class T>
[[nodiscard]] chan<T> make_chan(std::size_t cap) {
  static_assert(std::is_move_constructible_v<T>, "goro::chan<T>: T must be move-constructible");
  return chan<T>(detail::chan_ref(detail::chan_make(&detail::elem_ops_for<T>, cap)));
}

}  // namespace goro

template <class T>
struct std::hash<goro::chan<T>> {
  std::size_t operator()(const goro::chan<T>& c) const noexcept { return std::hash<const void*>()(c.core()); }
};
template <class T>
struct std::hash<goro::send_chan<T>> {
  std::size_t operator()(const goro::send_chan<T>& c) const noexcept { return std::hash<const void*>()(c.core()); }
};
template <class T>
struct std::hash<goro::recv_chan<T>> {
  std::size_t operator()(const goro::recv_chan<T>& c) const noexcept { return std::hash<const void*>()(c.core()); }
};
