// context.cpp — the context tree.
//
// A cancelable node owns a `done` channel (closed on cancel), its error and
// the set of cancelable descendants registered with it, all guarded by its
// `mu`. A new cancelable node registers with its nearest cancelable
// ancestor (value nodes in between are skipped); cancelling a node takes its
// children out under its lock, then cancels them after unlocking (no two
// node locks are ever held at once), and finally unregisters itself from
// its ancestor, so cancelled children do not pile up in a long-lived parent.
// Registered children are held by shared_ptr, as Go's parent holds its
// children until they are cancelled.
#include <unordered_map>

#include "goro/context.hpp"
#include "runtime/lock.hpp"

namespace goro::detail {

struct ctx_node {
  std::shared_ptr<ctx_node> parent;
  bool cancelable = false;
  std::optional<time_point> deadline;
  // Value nodes.
  const void* key = nullptr;
  std::shared_ptr<const void> value;
  // Cancelable nodes.
  rt::Lock mu{rt::LockRank::ctx};
  chan<std::monostate> done;
  std::error_code err GORO_GUARDED_BY(mu);
  std::unordered_map<ctx_node*, std::shared_ptr<ctx_node>> children GORO_GUARDED_BY(mu);
  ctx_node* registered_with = nullptr;                            // set once, before sharing
  timer_state* timer GORO_GUARDED_BY(mu) = nullptr;

  ~ctx_node() {
    if (timer) timer_drop(timer);
  }
};

namespace {

ctx_node* canceler_of(ctx_node* n) noexcept {
  while (n && !n->cancelable) n = n->parent.get();
  return n;
}

void cancel(ctx_node* n, std::error_code e, bool unregister) noexcept {
  std::unordered_map<ctx_node*, std::shared_ptr<ctx_node>> kids;
  timer_state* t;
  {
    rt::LockGuard l(n->mu);
    if (n->err) return;
    n->err = e;
    kids.swap(n->children);
    t = std::exchange(n->timer, nullptr);
  }
  n->done.close();
  for (auto& [k, child] : kids) cancel(k, e, false);
  if (unregister && n->registered_with) {
    ctx_node* p = n->registered_with;
    std::shared_ptr<ctx_node> self;  // keep n alive past the erase
    {
      rt::LockGuard l(p->mu);
      auto it = p->children.find(n);
      if (it != p->children.end()) {
        self = std::move(it->second);
        p->children.erase(it);
      }
    }
  }
  if (t) timer_drop(t);
}

std::shared_ptr<ctx_node> new_cancelable(const context& parent) {
  auto n = std::make_shared<ctx_node>();
  n->parent = parent.node();
  n->cancelable = true;
  n->done = make_chan<std::monostate>();
  if (parent.node()) n->deadline = parent.node()->deadline;
  if (ctx_node* a = canceler_of(parent.node().get())) {
    std::error_code e;
    {
      rt::LockGuard l(a->mu);
      e = a->err;
      if (!e) {
        n->registered_with = a;
        a->children.emplace(n.get(), n);
      }
    }
    if (e) cancel(n.get(), e, false);
  }
  return n;
}

}  // namespace

context with_value_erased(const context& parent, const void* key, std::shared_ptr<const void> v) {
  auto n = std::make_shared<ctx_node>();
  n->parent = parent.node();
  if (parent.node()) n->deadline = parent.node()->deadline;
  n->key = key;
  n->value = std::move(v);
  return context(std::move(n));
}

}  // namespace goro::detail

namespace goro {

using detail::ctx_node;

recv_chan<std::monostate> context::done() const {
  if (ctx_node* c = detail::canceler_of(n_.get())) return c->done;
  return {};
}

std::error_code context::err() const {
  ctx_node* c = detail::canceler_of(n_.get());
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
  if (n_) detail::cancel(n_.get(), make_error_code(errc::canceled), true);
}

context background() noexcept { return context(); }
context todo() noexcept { return context(); }

cancel_pair with_cancel(const context& parent) {
  auto n = detail::new_cancelable(parent);
  return {context(n), cancel_func(n)};
}

cancel_pair with_deadline(const context& parent, time_point d) {
  if (auto pd = parent.deadline(); pd && *pd <= d) return with_cancel(parent);  // the parent's comes first
  auto n = detail::new_cancelable(parent);
  n->deadline = d;
  auto left = d - std::chrono::steady_clock::now();
  if (left <= left.zero()) {
    detail::cancel(n.get(), make_error_code(errc::deadline_exceeded), true);
  } else {
    std::weak_ptr<ctx_node> w = n;
    auto* t = detail::timer_new(detail::timer_kind::func, detail::to_ns(left), [w] {
      if (auto s = w.lock()) detail::cancel(s.get(), make_error_code(errc::deadline_exceeded), true);
    });
    bool cancelled;
    {
      rt::LockGuard l(n->mu);
      cancelled = static_cast<bool>(n->err);
      if (!cancelled) n->timer = t;
    }
    if (cancelled) detail::timer_drop(t);
  }
  return {context(n), cancel_func(n)};
}

}  // namespace goro
