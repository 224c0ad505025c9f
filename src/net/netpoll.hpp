// netpoll.hpp — the network poller: goroutines blocked on descriptors.
//
// Contract of a poller backend (netpoll_epoll.cpp on Linux):
//   netpoll_init()            idempotent and thread-safe; before any other call
//                             (run() and the first socket call it);
//   netpoll_open(fd, pd)      registers fd, edge-triggered, for read and write;
//   netpoll_close(fd)         deregisters it;
//   netpoll(delay_ns)         waits at most delay_ns (< 0: forever, 0: poll)
//                             and returns the goroutines it made ready;
//   netpoll_break()           makes a blocked netpoll return early;
//   netpoll_teardown()        at the end of run.
// A PollDesc holds, for reading and for writing, a semaphore-like slot:
//   0        nothing happened, nobody waits;
//   kPdReady readiness arrived that nobody has consumed;
//   kPdWait  a goroutine is about to park (it checks errors in between);
//   a G*     that goroutine is parked waiting for readiness.
// A waiter claims the slot (0 -> kPdWait), checks closing and its deadline,
// then parks with the CAS kPdWait -> G* in park's unlock function, after it
// is off its stack. The poller (or a deadline, or close) swaps the slot to
// kPdReady (readiness) or 0 (a wake-up) and readies the G it found; finding
// kPdWait, it lets the waiter's CAS fail, so the waiter does not sleep. A
// woken waiter re-checks everything and retries its non-blocking system
// call, so a spurious wake-up is harmless. PollDescs are never freed (they
// are reused), so a late timer or poller event on a reused one is only such
// a spurious wake-up.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/sched.hpp"

namespace goro::rt {

inline constexpr std::uintptr_t kPdReady = 1, kPdWait = 2;

struct PollDesc {
  PollDesc* link = nullptr;  // free list
  int fd = -1;
  std::atomic<std::uintptr_t> rg{0}, wg{0};
  std::atomic<bool> closing{false};
  // The poller saw the peer shut its side, or an error (RDHUP, HUP, ERR):
  // a read will not block again, and no new edge may come to say so. It
  // keeps conn::read's short-read rule (DESIGN §9) from waiting for one.
  std::atomic<bool> hup{false};
  // Deadlines (monotonic ns, 0: none) and their timers; guarded by lock.
  Lock lock{LockRank::poll_desc};
  std::atomic<std::int64_t> rd{0}, wd{0};
  Timer read_timer GORO_GUARDED_BY(lock), write_timer GORO_GUARDED_BY(lock);
};

void netpoll_init();
void netpoll_teardown() noexcept;
bool netpoll_open(int fd, PollDesc* pd) noexcept;
void netpoll_close(int fd) noexcept;
G* netpoll(std::int64_t delay_ns, int* n) noexcept;  // a schedlink list
void netpoll_break() noexcept;
bool netpoll_inited() noexcept;

// Which side of a descriptor: its readers', its writers', or (deadlines
// only) both.
enum class PollMode : char { read = 'r', write = 'w', both = 'b' };

// Parks until pd is ready for mode (read or write); returns 0, or
// errc::closed / errc::deadline_exceeded as an int for the caller.
int poll_wait(PollDesc* pd, PollMode mode);
// Wakes the waiters of pd (close, deadline): returns the G to ready, if any.
// io_ready: readiness arrived (the slot keeps it), not a wake-up.
G* poll_unblock(PollDesc* pd, PollMode mode, bool io_ready) noexcept;
void poll_set_deadline(PollDesc* pd, std::int64_t when, PollMode mode);
void poll_evict(PollDesc* pd) noexcept;  // close: wake both sides for good
PollDesc* poll_alloc();                  // a fresh (or reused) descriptor state
void poll_free(PollDesc* pd) noexcept;

}  // namespace goro::rt
