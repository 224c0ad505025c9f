// introspect.cpp — what a program can ask the runtime about itself:
// goroutine counts and ids, processors, threads, spare processors, pending
// timers (goro/introspect.hpp, goro/runtime.hpp). Readers that take no lock
// read only what the scheduler has published (made_count, spare_count).
#include "goro/introspect.hpp"
#include "goro/runtime.hpp"
#include "runtime/sched.hpp"

namespace goro {

using namespace rt;

int num_goroutine() {
  std::int64_t n =
      sched.extra_created.load(std::memory_order_relaxed) - sched.extra_exited.load(std::memory_order_relaxed);
  // No lock: only the entries made_count and spare_count have published.
  auto count = [&n](const P* p) {
    n += p->created.load(std::memory_order_relaxed) - p->exited.load(std::memory_order_relaxed);
  };
  for (int i = 0, made = made_count(); i < made; ++i) count(sched.allp[i]);
  for (int i = 0, spare = spare_count(); i < spare; ++i) count(spare_at(i));
  return static_cast<int>(n);
}

namespace this_goroutine {
std::int64_t id() noexcept {
  G* g = current_g();
  return g ? g->id : 0;
}
}  // namespace this_goroutine

}  // namespace goro

namespace goro::introspect {

std::vector<std::uint64_t> processor_run_counts() {
  std::vector<std::uint64_t> out;
  if (!rt::sched.running.load()) return out;
  for (int i = 0, made = rt::made_count(); i < made; ++i)  // published entries only
    out.push_back(rt::sched.allp[static_cast<std::size_t>(i)]->ran.load(std::memory_order_relaxed));
  return out;
}

int current_processor() noexcept {
  rt::M* m = rt::current_m();
  return (m && m->p) ? m->p->id : -1;
}

std::size_t os_threads() {
  rt::LockGuard l(rt::sched.lock);
  return rt::sched.allm.size();
}

std::size_t default_stack_size() noexcept { return rt::sched.stack_size; }

spare_processors_info spare_processors() {
  spare_processors_info info;
  if (!rt::sched.running.load()) return info;
  rt::LockGuard l(rt::sched.lock);
  info.made = rt::spare_count();
  int idle = 0;
  for (rt::P* p = rt::sched.spare_free; p; p = p->link) ++idle;
  info.lent = info.made - idle;
  return info;
}

std::size_t pending_timers() {
  std::size_t n = 0;
  if (!rt::sched.running.load()) return n;
  rt::LockGuard s(rt::sched.lock);  // (Ps are made under it; sched.lock comes before a heap lock)
  for (rt::P* p : rt::sched.allp) {
    if (!p) continue;
    rt::LockGuard l(p->timers_lock);
    n += p->timers.size();
  }
  return n;
}

}  // namespace goro::introspect
