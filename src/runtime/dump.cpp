// dump.cpp — goroutine dumps from the registry of every G descriptor.
#include <ostream>
#include <string>

#include "goro/debug.hpp"
#include "runtime/debug.hpp"
#include "runtime/sched.hpp"

namespace goro {

void dump_goroutines(std::ostream& out) {
  using namespace rt;
  std::string s;
  LockGuard l(sched.allg_lock);
  for (G* g = sched.allg; g; g = g->allnext) {
    GStatus st = g->status.load(std::memory_order_acquire);
    const char* state = "";
    switch (st) {
      case GStatus::dead: continue;
      case GStatus::idle: continue;
      case GStatus::runnable: state = "runnable"; break;
      case GStatus::running: state = "running"; break;
      case GStatus::waiting: state = wait_reason_string(g->reason); break;
    }
    if (!s.empty()) s += '\n';
    append_goroutine_header(s, g, state);
    append_created_by(s, g);
  }
  out << s;
}

}  // namespace goro
