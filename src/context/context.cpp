// context.cpp — the context tree, and who owns what.
//
// A context is two objects when it can be cancelled:
//
//   ctx_node    what a `context` handle points to, immutable once shared:
//               its parent node (held), a value or a deadline, and for a
//               cancelable context its canceler (held).
//   ctx_cancel  the canceler: `done`, `err`, the cancelers registered as its
//               children (held), the deadline timer, and a weak link to the
//               canceler it registered with. A `cancel_func` holds it.
//
// Held edges go up between nodes, down between cancelers, and across from a
// node to its own canceler; none leads from a canceler to a node, so there
// is no cycle, and a tree nobody can reach is freed as Go's collector frees
// it. What a parent reaches is what Go's parent reaches through its
// `children` map: a registered child's canceler, which is all a parent's
// cancellation needs. The child's node (its values, its parent) stays with
// whoever holds the child. One cycle is deliberate: a pending deadline
// timer holds its canceler, as Go's timer holds its context, until it
// fires or is dropped.
//
// A canceler nobody can observe is detached at once rather than kept until
// its parent is cancelled: when its node is dropped (it is an orphan) and it
// has no registered children and nobody else holds its `done` channel, its
// cancellation could change nothing anyone sees, so it leaves its parent and
// its timer is stopped. Go keeps such a child until the parent ends; freeing
// it sooner is a difference no program can observe.
//
// Locking: each canceler's `mu` guards err, children, timer and orphan. No
// two are ever held at once: cancellation takes children out under the
// lock and cancels them after unlocking, and leaving a parent takes only
// the parent's lock. No canceler is destroyed under a lock.
#include <unordered_map>
#include <vector>

#include "chan/chan_impl.hpp"
#include "goro/context.hpp"
#include "runtime/lock.hpp"

namespace goro::detail {

struct ctx_cancel {
  rt::Lock mu{rt::LockRank::ctx};
  chan<std::monostate> done = make_chan<std::monostate>();
  std::weak_ptr<ctx_cancel> parent;  // the canceler it registered with; set once, before sharing
  std::error_code err GORO_GUARDED_BY(mu);
  std::unordered_map<ctx_cancel*, std::shared_ptr<ctx_cancel>> children GORO_GUARDED_BY(mu);
  timer_state* timer GORO_GUARDED_BY(mu) = nullptr;
  bool orphan GORO_GUARDED_BY(mu) = false;  // its node is gone

  // Nothing but the canceler itself could see it cancelled.
  bool unobserved() const GORO_REQUIRES(mu) { return children.empty() && !chan_shared(done.core()); }

  ~ctx_cancel();
};

struct ctx_node {
  std::shared_ptr<ctx_node> parent;
  std::shared_ptr<ctx_cancel> canceler;  // its own (cancelable) or the nearest ancestor's; null: never done
  bool cancelable = false;               // the canceler is its own
  std::optional<time_point> deadline;
  // Value nodes.
  const void* key = nullptr;
  std::shared_ptr<const void> value;

  ~ctx_node();
};

namespace {

using cancel_list = std::vector<std::shared_ptr<ctx_cancel>>;

// A canceler's timer taken out under its lock and dropped after it: declare
// it before the lock guard, so it is destroyed after the guard unlocks
// (timer_drop takes the timers' lock, which nests outside ctx_cancel::mu).
struct taken_timer {
  timer_state* t = nullptr;
  taken_timer() = default;
  taken_timer(const taken_timer&) = delete;
  taken_timer& operator=(const taken_timer&) = delete;
  ~taken_timer() {
    if (t) timer_drop(t);
  }
  void take(ctx_cancel* c) GORO_REQUIRES(c->mu) { t = std::exchange(c->timer, nullptr); }
};

// Cancels c alone: sets err, closes done, stops the timer, and appends its
// registered children to `kids`. False if it was cancelled already.
bool finish(ctx_cancel* c, std::error_code e, cancel_list& kids) noexcept {
  taken_timer t;
  {
    rt::LockGuard l(c->mu);
    if (c->err) return false;
    c->err = e;
    for (auto& kid : c->children) kids.push_back(std::move(kid.second));
    c->children.clear();
    t.take(c);
  }
  c->done.close();
  return true;
}

// Takes c out of its parent's children. If that leaves the parent an
// unobserved orphan, the parent leaves its own parent too, and so on up.
void leave_parent(std::shared_ptr<ctx_cancel> c) noexcept {
  while (c) {
    std::shared_ptr<ctx_cancel> p = c->parent.lock();
    if (!p) return;
    std::shared_ptr<ctx_cancel> held;  // p's reference to c, released after unlocking
    bool up;
    {
      taken_timer t;
      rt::LockGuard l(p->mu);
      auto it = p->children.find(c.get());
      if (it == p->children.end()) return;  // p's cancellation took it out already
      held = std::move(it->second);
      p->children.erase(it);
      up = p->orphan && !p->err && p->unobserved();
      if (up) t.take(p.get());
    }
    if (!up) return;
    c = std::move(p);
  }
}

// Cancels c and every registered descendant (iteratively: a deep chain does
// not recurse on a goroutine's small stack); `leave`: c also leaves its parent.
void cancel(const std::shared_ptr<ctx_cancel>& c, std::error_code e, bool leave) noexcept {
  cancel_list kids;
  if (!finish(c.get(), e, kids)) return;
  while (!kids.empty()) {
    std::shared_ptr<ctx_cancel> k = std::move(kids.back());
    kids.pop_back();
    finish(k.get(), e, kids);
  }
  if (leave) leave_parent(c);
}

std::shared_ptr<ctx_node> new_cancelable(const context& parent) {
  auto n = std::make_shared<ctx_node>();
  auto c = std::make_shared<ctx_cancel>();
  n->parent = parent.node();
  n->canceler = c;
  n->cancelable = true;
  if (parent.node()) n->deadline = parent.node()->deadline;
  if (ctx_cancel* a = parent.node() ? parent.node()->canceler.get() : nullptr) {
    c->parent = parent.node()->canceler;
    std::error_code e;
    {
      rt::LockGuard l(a->mu);
      e = a->err;
      if (!e) a->children.emplace(c.get(), c);
    }
    if (e) cancel(c, e, /*leave=*/false);
  }
  return n;
}

}  // namespace

ctx_cancel::~ctx_cancel() {
  // Descendants nobody else holds are freed here; a deep tree is flattened
  // first so that freeing it does not recurse once per level.
  cancel_list doomed;
  for (auto& kid : children) doomed.push_back(std::move(kid.second));
  children.clear();
  while (!doomed.empty()) {
    std::shared_ptr<ctx_cancel> k = std::move(doomed.back());
    doomed.pop_back();
    if (k.use_count() == 1) {  // the last strong reference: k's children are ours to free
      rt::LockGuard l(k->mu);  // (a child leaving k may still reach it through its weak link)
      for (auto& kid : k->children) doomed.push_back(std::move(kid.second));
      k->children.clear();
    }
  }
  if (timer) timer_drop(timer);
}

ctx_node::~ctx_node() {
  if (cancelable) {
    ctx_cancel* c = canceler.get();
    bool detach;
    {
      taken_timer t;
      rt::LockGuard l(c->mu);
      c->orphan = true;
      detach = !c->err && c->unobserved();
      if (detach) t.take(c);
    }
    if (detach) leave_parent(std::move(canceler));
  }
  // A long chain of nodes is freed in a loop, not by recursion.
  std::shared_ptr<ctx_node> p = std::move(parent);
  while (p && p.use_count() == 1) {
    std::shared_ptr<ctx_node> next = std::move(p->parent);
    p = std::move(next);
  }
}

context with_value_erased(const context& parent, const void* key, std::shared_ptr<const void> v) {
  auto n = std::make_shared<ctx_node>();
  n->parent = parent.node();
  if (parent.node()) {
    n->deadline = parent.node()->deadline;
    n->canceler = parent.node()->canceler;
  }
  n->key = key;
  n->value = std::move(v);
  return context(std::move(n));
}

}  // namespace goro::detail

namespace goro {

using detail::ctx_cancel;
using detail::ctx_node;

recv_chan<std::monostate> context::done() const {
  if (ctx_cancel* c = n_ ? n_->canceler.get() : nullptr) return c->done;
  return {};
}

std::error_code context::err() const {
  ctx_cancel* c = n_ ? n_->canceler.get() : nullptr;
  if (!c) return {};
  rt::LockGuard l(c->mu);
  return c->err;
}

std::optional<time_point> context::deadline() const { return n_ ? n_->deadline : std::nullopt; }

const void* context::find_value(const void* key) const noexcept {
  for (ctx_node* n = n_.get(); n; n = n->parent.get())
    if (n->key == key) return n->value.get();
  return nullptr;
}

void cancel_func::operator()() const noexcept {
  if (c_) detail::cancel(c_, make_error_code(errc::canceled), /*leave=*/true);
}

context background() noexcept { return context(); }
context todo() noexcept { return context(); }

cancel_pair with_cancel(const context& parent) {
  auto n = detail::new_cancelable(parent);
  cancel_func f(n->canceler);
  return {context(std::move(n)), std::move(f)};
}

cancel_pair with_deadline(const context& parent, time_point d) {
  if (auto pd = parent.deadline(); pd && *pd <= d) return with_cancel(parent);  // the parent's comes first
  auto n = detail::new_cancelable(parent);
  n->deadline = d;
  const std::shared_ptr<ctx_cancel>& c = n->canceler;
  auto left = d - std::chrono::steady_clock::now();
  if (left <= left.zero()) {
    detail::cancel(c, make_error_code(errc::deadline_exceeded), /*leave=*/true);
  } else {
    // The pending timer holds the canceler, as Go's timer holds its
    // context: dropped handles do not stop a deadline someone still waits
    // for. Cancelling, or dropping a canceler nobody observes, drops the
    // timer and with it this reference.
    auto* t = detail::timer_new(detail::timer_kind::func, detail::to_ns(left),
                                [c] { detail::cancel(c, make_error_code(errc::deadline_exceeded), /*leave=*/true); });
    bool cancelled;
    {
      rt::LockGuard l(c->mu);
      cancelled = static_cast<bool>(c->err);
      if (!cancelled) c->timer = t;
    }
    if (cancelled) detail::timer_drop(t);
  }
  cancel_func f(c);
  return {context(std::move(n)), std::move(f)};
}

}  // namespace goro
