#include "runtime/park.hpp"

namespace goro::rt {

namespace {
bool unlock_after_park(G*, void* lockword) {
  unlock_word(*static_cast<std::atomic<std::uint32_t>*>(lockword));
  return true;
}
}  // namespace

void block_on(Waiter& w, std::atomic<std::uint32_t>& lockword, WaitReason reason) {
  if (w.g) {
    park(reason, &unlock_after_park, &lockword);
    return;
  }
  unlock_word(lockword);
  while (w.woken.load(std::memory_order_acquire) == 0) futex_wait(&w.woken, 0);
}

void wake(Waiter* w) noexcept {
  if (G* g = w->g) {
    ready(g);
    return;
  }
  w = w->notify;
  w->woken.store(1, std::memory_order_release);
  futex_wake(&w->woken, 1);
}

}  // namespace goro::rt
