// signals.cpp — the signal thread: SIGQUIT dumps and signals on channels.
//
// Handlers do only async-signal-safe work: they write the signal number to
// a pipe. The runtime's signal thread (started by run(), joined before run
// returns) reads the pipe and does the rest on an ordinary stack: for
// SIGQUIT it prints "SIGQUIT: quit" and every goroutine's dump and exits
// with status 2, as Go does (unless the program asked to receive SIGQUIT);
// for signals registered with notify_signals it sends the number on each
// registered channel without blocking, and cancels notify_context contexts.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "goro/runtime.hpp"
#include "goro/signal.hpp"
#include "runtime/debug.hpp"
#include "runtime/sched.hpp"

namespace goro::rt {

namespace {

struct Registration {
  chan<int> ch;        // or
  cancel_func cancel;  // for notify_context
  std::vector<int> sigs;
  std::uint64_t id = 0;
};
std::uint64_t next_id = 1;  // guarded by signal_reg_mu

std::mutex signal_reg_mu;  // guards regs, installed (never held across a park)
std::vector<Registration> regs;
std::map<int, struct sigaction> installed;  // signal -> previous action
int pipe_fds[2] = {-1, -1};
std::thread signal_thread;

void on_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  ssize_t r = ::write(pipe_fds[1], &b, 1);
  (void)r;
  errno = saved;
}

void install(int sig) {  // signal_reg_mu held
  if (installed.count(sig)) return;
  struct sigaction sa {
  }, old{};
  sa.sa_handler = &on_signal;
  sa.sa_flags = SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, &old);
  installed.emplace(sig, old);
}

void uninstall_unused() {  // signal_reg_mu held
  for (auto it = installed.begin(); it != installed.end();) {
    int sig = it->first;
    bool used = sig == SIGQUIT && signal_thread.joinable();
    for (auto& r : regs)
      for (int s : r.sigs) used |= s == sig;
    if (used) {
      ++it;
      continue;
    }
    sigaction(sig, &it->second, nullptr);
    it = installed.erase(it);
  }
}

void deliver(int sig) {
  std::vector<chan<int>> chans;
  std::vector<cancel_func> cancels;
  {
    std::lock_guard<std::mutex> l(signal_reg_mu);
    for (auto& r : regs)
      for (int s : r.sigs)
        if (s == sig) {
          if (r.ch) chans.push_back(r.ch);
          else cancels.push_back(r.cancel);
        }
  }
  if (sig == SIGQUIT && chans.empty() && cancels.empty()) {
    std::string s = "SIGQUIT: quit\n\n";
    append_dump(s, true);
    write_stderr(s.data(), s.size());
    _exit(2);
  }
  for (auto& c : chans) {
    int v = sig;
    (void)c.try_send(v);
  }
  for (auto& c : cancels) c();
}

// The thread waits in poll() and only then reads: ThreadSanitizer runs a
// signal handler at once on a thread inside a call it treats as blocking,
// which poll is and read is not (it would hold the signal until the thread's
// next intercepted call, and with SA_RESTART the read never returns).
void signal_loop() {
  for (;;) {
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) continue;  // a handler ran
      return;
    }
    unsigned char b;
    ssize_t r = ::read(pipe_fds[0], &b, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || b == 0) return;
    deliver(b);
  }
}

}  // namespace

bool signals_registered() noexcept {
  std::lock_guard<std::mutex> l(signal_reg_mu);
  return !regs.empty();
}

void signals_start() {
  if (pipe_fds[0] < 0) {
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) fatal("cannot create the signal pipe");
  }
  signal_thread = std::thread(signal_loop);
  std::lock_guard<std::mutex> l(signal_reg_mu);
  install(SIGQUIT);
}

void signals_stop() noexcept {
  unsigned char b = 0;
  ssize_t r = ::write(pipe_fds[1], &b, 1);
  (void)r;
  if (signal_thread.joinable()) signal_thread.join();
  std::lock_guard<std::mutex> l(signal_reg_mu);
  regs.clear();
  uninstall_unused();
}

}  // namespace goro::rt

namespace goro {

void notify_signals(const chan<int>& ch, std::initializer_list<int> sigs) {
  if (!ch) return;
  std::lock_guard<std::mutex> l(rt::signal_reg_mu);
  rt::regs.push_back({ch, {}, std::vector<int>(sigs)});
  for (int s : sigs) rt::install(s);
}

void stop_signals(const chan<int>& ch) {
  std::lock_guard<std::mutex> l(rt::signal_reg_mu);
  std::erase_if(rt::regs, [&](const rt::Registration& r) { return r.ch && r.ch == ch; });
  rt::uninstall_unused();
}

cancel_pair notify_context(const context& parent, std::initializer_list<int> sigs) {
  auto r = with_cancel(parent);
  std::uint64_t id;
  {
    std::lock_guard<std::mutex> l(rt::signal_reg_mu);
    id = rt::next_id++;
    rt::regs.push_back({{}, r.cancel, std::vector<int>(sigs), id});
    for (int s : sigs) rt::install(s);
  }
  // Stop listening once the context ends (by signal, parent or cancel).
  recv_chan<std::monostate> done = r.ctx.done();
  goro::go([done, id] {
    done.recv();
    std::lock_guard<std::mutex> l(rt::signal_reg_mu);
    std::erase_if(rt::regs, [&](const rt::Registration& x) { return x.id == id; });
    rt::uninstall_unused();
  });
  return r;
}

}  // namespace goro
