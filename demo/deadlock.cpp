// deadlock — the runtime detects "all goroutines are asleep". Seed 002,
// "Channel Deadlocks":
//
//   Self-deadlock:
//   func selfDeadlock() {
//       ch := make(chan int)
//       ch <- 1 // blocks - no receiver
//       x := <-ch // never reached
//       fmt.Println(x)
//   }
//
//   Circular dependency:
//   func deadlock() {
//       ch1 := make(chan int)
//       ch2 := make(chan int)
//       go func() {
//           <-ch1 // waits for ch1
//           ch2 <- 1 // then sends to ch2
//       }()
//       go func() {
//           <-ch2 // waits for ch2
//           ch1 <- 1 // then sends to ch1
//       }()
//       // Both goroutines wait forever
//   }
//
//   "Go's runtime detects some deadlocks ("all goroutines are asleep") but
//   not all — if there's any goroutine that could theoretically make
//   progress (even if it won't), no panic."
//
// A detected deadlock ends the program (fatal error, goroutine dump, exit
// status 2), so each example runs in a child process: goro-demo itself,
// started with a hidden argument (`goro-demo --deadlock-child self`). The
// parent reads the child's output and waits for it inside goro::blocking, as
// a goroutine should for blocking system calls. In the circular example main
// waits for the pair with a WaitGroup, so that the whole program is stuck
// (in the seed, deadlock() returns and only the two goroutines leak).
#include <goro/goro.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "demo.hpp"

extern char** environ;

namespace {

void selfDeadlock() {
  auto ch = goro::make_chan<int>();
  ch.send(1);                        // blocks - no receiver
  std::optional<int> x = ch.recv();  // never reached
  std::printf("%d\n", *x);
}

void deadlock() {
  auto ch1 = goro::make_chan<int>();
  auto ch2 = goro::make_chan<int>();
  goro::wait_group wg;  // not in the seed: main waits for the pair
  wg.add(2);
  goro::go([&] {
    ch1.recv();   // waits for ch1
    ch2.send(1);  // then sends to ch2
    wg.done();
  });
  goro::go([&] {
    ch2.recv();   // waits for ch2
    ch1.send(1);  // then sends to ch1
    wg.done();
  });
  // Both goroutines wait forever
  wg.wait();
}

struct child_result {
  int status = -1;  // exit status, or -1
  std::string output;
};

// Runs `goro-demo --deadlock-child which` and collects its stdout and stderr.
child_result run_child(const char* which) {
  child_result r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  char self[] = "/proc/self/exe";
  char flag[] = "--deadlock-child";
  std::string arg = which;
  char* argv[] = {self, flag, arg.data(), nullptr};
  pid_t pid;
  const int err = posix_spawn(&pid, self, &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    return r;
  }
  // Blocking system calls: goro::blocking hands this goroutine's processor
  // to another thread meanwhile.
  r.output = goro::blocking([fd = fds[0]] {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  });
  ::close(fds[0]);
  const int wstatus = goro::blocking([pid] {
    int s = 0;
    while (::waitpid(pid, &s, 0) < 0 && errno == EINTR) {
    }
    return s;
  });
  if (WIFEXITED(wstatus)) r.status = WEXITSTATUS(wstatus);
  return r;
}

bool expect_deadlock(const char* which) {
  std::printf("%s (in a child process):\n", which);
  const child_result r = run_child(which);
  // The child's report, indented; a goroutine's stack frames are left out.
  std::string_view out = r.output;
  while (!out.empty()) {
    const std::size_t nl = out.find('\n');
    std::string_view line = out.substr(0, nl);
    out = nl == std::string_view::npos ? std::string_view() : out.substr(nl + 1);
    if (line.starts_with("fatal error") || line.starts_with("goroutine ") || line.starts_with("created by"))
      std::printf("  | %.*s\n", static_cast<int>(line.size()), line.data());
  }
  return demo::check(
      r.status == 2 && r.output.find("fatal error: all goroutines are asleep - deadlock!") != std::string::npos,
      "%s: the runtime reported the deadlock and exited with status 2 (status %d)", which, r.status);
}

}  // namespace

int demo::deadlock_child(const char* which) {
  return goro::run([which] {
    if (std::strcmp(which, "self") == 0) selfDeadlock();
    if (std::strcmp(which, "circular") == 0) deadlock();
  });
}

bool demo::deadlock_main() {
  bool ok = expect_deadlock("self");
  ok &= expect_deadlock("circular");
  return ok;
}
