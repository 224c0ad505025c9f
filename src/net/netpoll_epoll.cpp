// netpoll_epoll.cpp — the poller backend for Linux: epoll, edge-triggered.
// An eventfd registered with a null PollDesc breaks a blocking wait.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <mutex>

#include "net/netpoll.hpp"
#include "runtime/trace.hpp"

namespace goro::rt {

namespace {
int epfd = -1;     // written once, under init_once
int breakfd = -1;  // likewise
std::atomic<bool> inited{false};
std::once_flag init_once;
std::atomic<bool> breaking{false};
// Set when epoll_pwait2 is missing (ENOSYS): epoll_wait from then on.
std::atomic<bool> no_pwait2{false};
}  // namespace

bool netpoll_inited() noexcept { return inited.load(std::memory_order_acquire); }

// Once per process, by the first run() or the first socket (which may be
// created before any run(), on a plain thread: it is registered at once).
void netpoll_init() {
  if (netpoll_inited()) return;
  std::call_once(init_once, [] {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    breakfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epfd < 0 || breakfd < 0) fatal("netpoll: cannot create epoll or eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    epoll_ctl(epfd, EPOLL_CTL_ADD, breakfd, &ev);
    inited.store(true, std::memory_order_release);
  });
}

void netpoll_teardown() noexcept {}

bool netpoll_open(int fd, PollDesc* pd) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = pd;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void netpoll_close(int fd) noexcept {
  epoll_event ev{};
  epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

void netpoll_break() noexcept {
  if (!netpoll_inited() || breaking.exchange(true, std::memory_order_acq_rel)) return;
  std::uint64_t one = 1;
  ssize_t r = ::write(breakfd, &one, sizeof one);
  (void)r;
}

G* netpoll(std::int64_t delay_ns, int* n) noexcept {
  *n = 0;
  if (!netpoll_inited()) return nullptr;
  epoll_event events[128];
  timespec ts{}, *tsp = nullptr;
  if (delay_ns >= 0) {
    ts.tv_sec = delay_ns / 1'000'000'000;
    ts.tv_nsec = delay_ns % 1'000'000'000;
    tsp = &ts;
  }
  int k = -1;
  bool fallback = no_pwait2.load(std::memory_order_relaxed);
  if (!fallback) {
    k = epoll_pwait2(epfd, events, 128, tsp, nullptr);
    if (k < 0 && errno == ENOSYS) {
      no_pwait2.store(true, std::memory_order_relaxed);
      fallback = true;
    }
  }
  if (fallback) {
    // Kernels before 5.11 and qemu-user have no epoll_pwait2: epoll_wait
    // takes milliseconds; a shorter wait rounds up to 1 ms, as Go's netpoll.
    int ms = delay_ns < 0           ? -1
             : delay_ns == 0        ? 0
             : delay_ns < 1'000'000 ? 1
                                    : static_cast<int>(std::min<std::int64_t>(delay_ns / 1'000'000, 1'000'000'000));
    k = epoll_wait(epfd, events, 128, ms);
  }
  sched.lastpoll.store(nanotime(), std::memory_order_relaxed);
  if (k < 0) return nullptr;  // EINTR: the caller loops
  G* list = nullptr;
  for (int i = 0; i < k; ++i) {
    auto* pd = static_cast<PollDesc*>(events[i].data.ptr);
    if (!pd) {
      // Only a blocking poll consumes a break: the break is meant for the
      // sleeper, and a non-blocking poll on another M (which saw no sleeper
      // just before one appeared) must not swallow it. A break that finds
      // `breaking` still set before the store below is not lost either:
      // this poll is the sleeper, and it is returning.
      if (delay_ns != 0) {
        std::uint64_t v;
        ssize_t r = ::read(breakfd, &v, sizeof v);
        (void)r;
        breaking.store(false, std::memory_order_release);
      }
      continue;
    }
    std::uint32_t e = events[i].events;
    bool rd = e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
    bool wr = e & (EPOLLOUT | EPOLLHUP | EPOLLERR);
    if (rd) {
      if ((e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !pd->hup.load(std::memory_order_relaxed))
        pd->hup.store(true, std::memory_order_seq_cst);  // before the slot's load (see poll_wait)
      if (G* g = poll_unblock(pd, PollMode::read, true)) {
        g->schedlink = list;
        list = g;
        ++*n;
      }
    }
    if (wr) {
      if (G* g = poll_unblock(pd, PollMode::write, true)) {
        g->schedlink = list;
        list = g;
        ++*n;
      }
    }
  }
  if (trace_on.load(std::memory_order_relaxed)) [[unlikely]]
    for (G* g = list; g; g = g->schedlink) trace_wake(g);  // (the callers queue them without ready())
  return list;
}

}  // namespace goro::rt
