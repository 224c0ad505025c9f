// select.cpp — Go's selectgo.
//
// 1. Cases on nil channels are dropped; the rest are polled in a random
//    order (uniform choice among ready cases) and locked in address order
//    (a global order, so selects over overlapping channels cannot deadlock;
//    a channel named twice is locked once).
// 2. With every lock held, the first ready case in poll order completes.
// 3. Otherwise (and without default) a Sudog per case is queued on its
//    channel, all sharing one SelectState, and the goroutine parks; the
//    locks are released after it is off its stack. The first partner to win
//    the CAS on SelectState::done completes that case and wakes it; partners
//    that lose skip the record.
// 4. Awake, it relocks everything and withdraws the losing records.
// The after-park unlock reads the lock list on the parked goroutine's stack
// while it unlocks; that is safe because the woken goroutine must retake
// every lock before it can leave this frame.
#include <algorithm>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "chan/chan_impl.hpp"
#include "goro/panic.hpp"
#include "goro/select.hpp"
#include "runtime/sanitizer.hpp"

namespace goro::detail {

namespace {

constexpr std::size_t kSmall = 8;
static_assert(std::is_trivially_destructible_v<Sudog>, "select's records are never destroyed");

std::uint32_t select_rand() noexcept {
  if (rt::M* m = rt::current_m()) return rt::fastrand(m);
  static std::atomic<std::uint64_t> seed{0x853c49e6748fea9bULL};
  std::uint64_t x = seed.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<std::uint32_t>(x);
}

struct LockList {
  chan_core** locks;  // distinct channels, ascending address
  std::size_t n;
};

// The locks of a select are an array chosen at run time, which the
// thread-safety analysis cannot name: they are taken and released with the
// unannotated rt::acquire_word / release_word, and code that touches a
// channel under them says so with rt::held_by_construction (thread_safety.hpp).
void lock_all(const LockList& l) noexcept {
  for (std::size_t i = 0; i < l.n; ++i) {
    rt::acquire_word(l.locks[i]->lock, rt::LockRank::chan);
    rt::san::acquire(l.locks[i]);
  }
}
void unlock_all(const LockList& l) noexcept {
  for (std::size_t i = l.n; i-- > 0;) {
    rt::san::release(l.locks[i]);
    rt::release_word(l.locks[i]->lock);
  }
}
// The after-switch unlock of a parked select (thread_safety.hpp, escape 1).
void unlock_all_raw(chan_core** locks, std::size_t n) noexcept {
  for (std::size_t i = n; i-- > 0;) rt::release_word(locks[i]->lock);
}

bool unlock_all_after_park(rt::G*, void* arg) {
  auto* l = static_cast<LockList*>(arg);
  unlock_all_raw(l->locks, l->n);  // released before parking
  return true;
}

struct SelectWait {
  Sudog* sudogs;
  std::size_t n;
};

void select_unlink(rt::G* g) {
  auto* w = static_cast<SelectWait*>(g->wait_obj);
  for (std::size_t i = 0; i < w->n; ++i) {
    Sudog* s = &w->sudogs[i];
    lock_chan(s->c);
    SudogQueue::unlink(s);
    unlock_chan(s->c);
  }
}

// Tries case i (every lock held). Returns true if it completed; wakes
// nobody itself but reports the partner to wake through *wake.
bool try_case(scase& k, Sudog** wake, bool* ok) {
  chan_core* c = k.c;
  rt::held_by_construction(c->lock);  // lock_all
  if (k.kind == case_kind::recv) {
    if (Sudog* s = c->sendq.dequeue()) {
      recv_from_sender(c, s, k.elem);
      *wake = s;
      *ok = true;
      return true;
    }
    std::size_t q = c->qcount.load(std::memory_order_relaxed);
    if (q > 0) {
      buf_take(c, k.elem, q);
      *ok = true;
      return true;
    }
    if (c->closed.load(std::memory_order_relaxed)) {
      *ok = false;
      return true;
    }
    return false;
  }
  // send
  if (c->closed.load(std::memory_order_relaxed)) throw panic_error("send on closed channel");
  if (Sudog* r = c->recvq.dequeue()) {
    send_to_receiver(c, r, k.elem);
    *wake = r;
    *ok = true;
    return true;
  }
  std::size_t q = c->qcount.load(std::memory_order_relaxed);
  if (q < c->cap) {
    buf_put(c, k.elem, q);
    *ok = true;
    return true;
  }
  return false;
}

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// select_impl's phases, in order.

// 1. Poll order: a uniformly random permutation of the non-nil cases into
// order; returns how many there are. dflt gets the default case's index.
std::size_t plan_order(const scase* cases, std::size_t n, std::size_t* order, std::size_t& dflt) noexcept {
  std::size_t np = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (cases[i].kind == case_kind::dflt) {
      dflt = i;
      continue;
    }
    if (!cases[i].c) continue;
    std::size_t j = select_rand() % (np + 1);
    order[np] = order[j];
    order[j] = i;
    ++np;
  }
  return np;
}

// 2. Lock order: the distinct channels of the cases, by address.
LockList plan_locks(const scase* cases, const std::size_t* order, std::size_t np, chan_core** locks) noexcept {
  for (std::size_t i = 0; i < np; ++i) locks[i] = cases[order[i]].c;
  std::sort(locks, locks + np, std::less<chan_core*>());
  return LockList{locks, static_cast<std::size_t>(std::unique(locks, locks + np) - locks)};
}

// 3. Every channel locked, the cases in poll order: the first that can
// complete does, the locks are released and its partner woken (true).
bool poll_cases(scase* cases, const std::size_t* order, std::size_t np, const LockList& ll, select_result& res) {
  lock_all(ll);
  for (std::size_t k = 0; k < np; ++k) {
    std::size_t i = order[k];
    Sudog* partner = nullptr;
    bool ok = false;
    bool done;
    try {
      done = try_case(cases[i], &partner, &ok);
    } catch (...) {
      unlock_all(ll);
      throw;
    }
    if (done) {
      unlock_all(ll);
      if (partner) rt::wake(partner);
      res = {i, ok};
      return true;
    }
  }
  return false;  // (every lock still held)
}

// 4. Enqueue a record on every case's channel (every lock held), all
// sharing st and the first record's futex word.
void enqueue_cases(scase* cases, const std::size_t* order, std::size_t np, Sudog* sg, SelectState& st) noexcept {
  rt::G* self = rt::current_g();
  for (std::size_t k = 0; k < np; ++k) {
    std::size_t i = order[k];
    Sudog& s = *::new (&sg[k]) Sudog;
    s.g = self;
    s.elem = cases[i].elem;
    s.c = cases[i].c;
    s.sel = &st;
    s.case_index = i;
    s.notify = &sg[0];
    rt::held_by_construction(s.c->lock);  // lock_all
    if (cases[i].kind == case_kind::recv) s.c->recvq.push(&s);
    else s.c->sendq.push(&s);
  }
}

// 5. Sleep until a partner completes one case: the locks are released
// after the switch (a goroutine) or before the futex wait (a plain thread).
void park_select(Sudog* sg, std::size_t np, LockList& ll) {
  SelectWait sw{sg, np};
  for (std::size_t i = 0; i < ll.n; ++i) rt::san::release(ll.locks[i]);
  if (rt::G* g = sg[0].g) {
    g->wait_obj = &sw;
    g->unlink = &select_unlink;
    rt::park(rt::WaitReason::select, &unlock_all_after_park, &ll);
    g->unlink = nullptr;
    g->wait_obj = nullptr;
  } else {
    unlock_all_raw(ll.locks, ll.n);
    while (sg[0].woken.load(std::memory_order_acquire) == 0) rt::futex_wait(&sg[0].woken, 0);
  }
}

// 6. Withdraw the records of the cases that lost.
void withdraw_losers(const LockList& ll, Sudog* sg, std::size_t np, std::size_t winner) noexcept {
  lock_all(ll);
  for (std::size_t k = 0; k < np; ++k) {
    Sudog& s = sg[k];
    if (s.case_index == winner) continue;
    SudogQueue::unlink(&s);
  }
  unlock_all(ll);
}

}  // namespace

select_result select_impl(scase* cases, std::size_t n, bool block) {
  std::size_t dflt = npos;
  std::size_t small_order[kSmall];
  chan_core* small_locks[kSmall];
  std::vector<std::size_t> big_order;
  std::vector<chan_core*> big_locks;
  std::size_t* order = small_order;
  chan_core** locks = small_locks;
  if (n > kSmall) {
    big_order.resize(n);
    big_locks.resize(n);
    order = big_order.data();
    locks = big_locks.data();
  }
  const std::size_t np = plan_order(cases, n, order, dflt);
  if (np == 0) {
    if (!block) return {dflt, false};
    rt::block_forever(n == 0 ? rt::WaitReason::select_no_cases : rt::WaitReason::select);
  }
  LockList ll = plan_locks(cases, order, np, locks);
  select_result res{npos, false};
  if (poll_cases(cases, order, np, ll, res)) return res;
  if (!block) {
    unlock_all(ll);
    return {dflt, false};
  }

  SelectState st;
  // Records for the np cases only (constructed here, not for all kSmall).
  alignas(Sudog) unsigned char small_sg[kSmall * sizeof(Sudog)];
  std::unique_ptr<unsigned char[]> big_sg;
  Sudog* sg = reinterpret_cast<Sudog*>(small_sg);
  if (np > kSmall) {
    big_sg.reset(new unsigned char[np * sizeof(Sudog) + alignof(Sudog)]);
    void* p = big_sg.get();
    std::size_t space = np * sizeof(Sudog) + alignof(Sudog);
    sg = static_cast<Sudog*>(std::align(alignof(Sudog), np * sizeof(Sudog), p, space));
  }
  enqueue_cases(cases, order, np, sg, st);
  park_select(sg, np, ll);
  withdraw_losers(ll, sg, np, st.winner);
  scase& w = cases[st.winner];
  if (w.kind == case_kind::send && !st.success) throw panic_error("send on closed channel");
  return {st.winner, st.success};
}

}  // namespace goro::detail
