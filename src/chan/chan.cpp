// chan.cpp — send, receive and close (Go's chan.go; invariants in chan_impl.hpp).
//
// Hand-off is direct: a sender that finds a parked receiver moves its value
// straight into the receiver's destination and readies it; a receiver that
// finds a parked sender takes its value (unbuffered) or, when the buffer is
// full, takes the head of the buffer and moves the sender's value into the
// freed slot, so FIFO order holds. A parked operation is completed entirely
// by its partner: when it wakes, its work is done and it does not retake the
// lock.
#include <cstdlib>
#include <new>

#include "chan/chan_impl.hpp"
#include "goro/panic.hpp"
#include "runtime/sanitizer.hpp"

namespace goro::detail {

namespace {

// Parks the caller on c (lock held) until a partner completes s.
void wait_on(chan_core* c, Sudog& s, rt::WaitReason r) GORO_RELEASE(c->lock) {
  rt::san::release(c);
  rt::block_on(s, c->lock, r);
  rt::san::acquire(c);
}

}  // namespace

void recv_from_sender(chan_core* c, Sudog* s, void* dst) noexcept {
  if (c->cap == 0) {
    if (dst) c->ops->move(dst, s->elem);
  } else {
    // Buffer is full: take the head, put the sender's value at the tail.
    void* head = c->at(c->recvx);
    if (dst) c->ops->move(dst, head);
    c->ops->destroy(head);
    c->ops->move(head, s->elem);
    if (++c->recvx == c->cap) c->recvx = 0;
    c->sendx = c->recvx;
  }
  s->success = true;
  if (s->sel) s->sel->success = true;
}

chan_core* chan_make(const elem_ops* ops, std::size_t cap) {
  std::size_t align = ops->align < alignof(std::max_align_t) ? alignof(std::max_align_t) : ops->align;
  std::size_t slot = (ops->size + ops->align - 1) / ops->align * ops->align;
  std::size_t header = (sizeof(chan_core) + align - 1) / align * align;
  if (cap > (static_cast<std::size_t>(-1) - header) / (slot ? slot : 1))
    throw std::length_error("makechan: size out of range");
  void* mem = ::operator new(header + cap * slot, std::align_val_t(align));
  auto* c = ::new (mem) chan_core;
  c->ops = ops;
  c->cap = cap;
  c->slot = slot;
  c->buf = static_cast<unsigned char*>(mem) + header;
  return c;
}

void chan_retain(chan_core* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }

void chan_release(chan_core* c) noexcept {
  rt::san::release(&c->refs);  // (TSan: the runtime's atomics are not instrumented)
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  rt::san::acquire(&c->refs);
  rt::quiescent(c->lock);  // the last reference: no other thread can reach c
  std::size_t n = c->qcount.load(std::memory_order_relaxed);
  for (std::size_t i = 0, x = c->recvx; i < n; ++i) {
    c->ops->destroy(c->at(x));
    if (++x == c->cap) x = 0;
  }
  std::size_t align = c->ops->align < alignof(std::max_align_t) ? alignof(std::max_align_t) : c->ops->align;
  c->~chan_core();
  ::operator delete(static_cast<void*>(c), std::align_val_t(align));
}

// A blocking send or receive that completes without blocking is a
// preemption point (sysmon's P::preempt, §7): a goroutine that only ever
// finds room or values would otherwise hold its P for ever. Non-blocking
// operations are not: timer callbacks use them inside the scheduler.
inline void preempt_point() {
  if (!rt::sched.any_preempt.load(std::memory_order_relaxed)) [[likely]]
    return;
  rt::M* m = rt::current_m();
  if (m && m->p && m->p->preempt.load(std::memory_order_relaxed)) [[unlikely]]
    rt::preempt_check();
}

bool chan_send(chan_core* c, void* src, bool block) {
  if (!c) {
    if (!block) return false;
    rt::block_forever(rt::WaitReason::chan_send_nil);
  }
  // Fast path for a failing non-blocking send (Go's ordering argument: a
  // not-closed, full channel observed at one moment is a valid outcome).
  if (!block && c->cap > 0 && !c->closed.load(std::memory_order_relaxed) &&
      c->qcount.load(std::memory_order_relaxed) == c->cap)
    return false;
  lock_chan(c);
  if (c->closed.load(std::memory_order_relaxed)) {
    unlock_chan(c);
    throw panic_error("send on closed channel");
  }
  if (Sudog* r = c->recvq.dequeue()) {
    send_to_receiver(c, r, src);
    unlock_chan(c);
    rt::wake(r);
    if (block) preempt_point();
    return true;
  }
  std::size_t q = c->qcount.load(std::memory_order_relaxed);
  if (q < c->cap) {
    buf_put(c, src, q);
    unlock_chan(c);
    if (block) preempt_point();
    return true;
  }
  if (!block) {
    unlock_chan(c);
    return false;
  }
  Sudog s;
  s.elem = src;
  s.c = c;
  c->sendq.push(&s);
  wait_on(c, s, rt::WaitReason::chan_send);
  if (!s.success) throw panic_error("send on closed channel");
  return true;
}

recv_result chan_recv(chan_core* c, void* dst, bool block) {
  if (!c) {
    if (!block) return recv_result::would_block;
    rt::block_forever(rt::WaitReason::chan_receive_nil);
  }
  if (!block && c->cap > 0 && !c->closed.load(std::memory_order_relaxed) &&
      c->qcount.load(std::memory_order_relaxed) == 0)
    return recv_result::would_block;
  lock_chan(c);
  if (Sudog* s = c->sendq.dequeue()) {
    recv_from_sender(c, s, dst);
    unlock_chan(c);
    rt::wake(s);
    if (block) preempt_point();
    return recv_result::received;
  }
  std::size_t q = c->qcount.load(std::memory_order_relaxed);
  if (q > 0) {
    buf_take(c, dst, q);
    unlock_chan(c);
    if (block) preempt_point();
    return recv_result::received;
  }
  if (c->closed.load(std::memory_order_relaxed)) {
    unlock_chan(c);
    return recv_result::closed;
  }
  if (!block) {
    unlock_chan(c);
    return recv_result::would_block;
  }
  Sudog s;
  s.elem = dst;
  s.c = c;
  c->recvq.push(&s);
  wait_on(c, s, rt::WaitReason::chan_receive);
  return s.success ? recv_result::received : recv_result::closed;
}

void chan_close(chan_core* c) {
  if (!c) throw panic_error("close of nil channel");
  lock_chan(c);
  if (c->closed.load(std::memory_order_relaxed)) {
    unlock_chan(c);
    throw panic_error("close of closed channel");
  }
  c->closed.store(true, std::memory_order_relaxed);
  // Every waiter is completed unsuccessfully: receivers see "closed",
  // senders panic.
  rt::Waiter* wake_list = nullptr;
  for (SudogQueue* q : {&c->recvq, &c->sendq}) {
    while (Sudog* s = q->dequeue()) {
      s->success = false;
      s->next = wake_list;
      wake_list = s;
    }
  }
  unlock_chan(c);
  while (rt::Waiter* w = wake_list) {
    wake_list = w->next;
    rt::wake(w);
  }
}

std::size_t chan_size(const chan_core* c) noexcept { return c->qcount.load(std::memory_order_relaxed); }
std::size_t chan_capacity(const chan_core* c) noexcept { return c->cap; }

bool chan_shared(const chan_core* c) noexcept {
  bool shared = c->refs.load(std::memory_order_acquire) > 1;
  rt::san::acquire(&c->refs);  // (pairs with chan_release's release)
  return shared;
}

}  // namespace goro::detail
