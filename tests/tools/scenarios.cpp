// scenarios.cpp — goro_tools_scenarios: the small goro programs that
// deadlock_test and sigquit_test run as child processes.
//
//   goro_tools_scenarios <scenario> [procs]     (procs: goro::config::procs, default 0)
//
// Deadlock scenarios end in the runtime's report (exit status 2); the others
// print "ok" and exit 0 once something outside the goroutines (a timer, a
// plain thread, another process connecting or signalling, a blocking call)
// woke them. Two internal modes, run as grandchildren so that only the poller
// or the signal registration can keep the detector quiet:
//
//   goro_tools_scenarios connector <host:port> <delay_ms>   connects after the delay,
//                                                          writes "hello" after it again
//   goro_tools_scenarios killer <pid> <signal> <delay_ms>   kill(pid, signal) after the delay
#include <goro/goro.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;

int g_procs = 0;

goro::config cfg() { return goro::config{.procs = g_procs}; }

// One line on stdout, flushed at once (the tests read it while we run).
void say(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Blocks the calling goroutine for good on a fresh channel nobody knows.
void block_forever() {
  auto never = goro::make_chan<int>();
  never.recv();
}

// Starts this program again with `args` (a connector or a killer).
pid_t spawn_self(const std::vector<std::string>& args) {
  std::vector<std::string> store{"/proc/self/exe"};
  store.insert(store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "scenarios: posix_spawn failed\n");
    std::exit(3);
  }
  return pid;
}

int reap(pid_t pid) {
  return goro::blocking([pid] {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return st;
  });
}

// ---------------------------------------------------------------------------
// Deadlocks: the runtime must print its report and exit with status 2.

// Seed 002, "Self-deadlock": a send on an unbuffered channel nobody receives.
[[gnu::noinline]] void self_deadlock() {
  auto ch = goro::make_chan<int>();
  ch.send(1);  // blocks - no receiver
  std::optional<int> x = ch.recv();
  std::printf("%d\n", *x);
}

// Seed 002, "Circular dependency": each goroutine waits for the other. Main
// waits for the pair, so that the whole program is stuck.
void circular() {
  auto ch1 = goro::make_chan<int>();
  auto ch2 = goro::make_chan<int>();
  goro::wait_group wg;
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
  wg.wait();
}

// The same cycle entered from the other side: both goroutines send first.
void circular_send() {
  auto ch1 = goro::make_chan<int>();
  auto ch2 = goro::make_chan<int>();
  goro::wait_group wg;
  wg.add(2);
  goro::go([&] {
    ch1.send(1);
    ch2.recv();
    wg.done();
  });
  goro::go([&] {
    ch2.send(1);
    ch1.recv();
    wg.done();
  });
  wg.wait();
}

// A goroutine's send nobody receives, while main waits for it.
void goroutine_send() {
  auto ch = goro::make_chan<int>();
  goro::wait_group wg;
  wg.add(1);
  goro::go([&] {
    ch.send(1);
    wg.done();
  });
  wg.wait();
}

void nil_recv() {
  goro::chan<int> ch;
  ch.recv();
}

void nil_send() {
  goro::chan<int> ch;
  ch.send(1);
}

void select_no_cases() { goro::select(); }

void select_nobody() {
  auto a = goro::make_chan<int>();
  auto b = goro::make_chan<int>();
  goro::select(goro::case_recv(a), goro::case_send(b, 1));
}

void mutex_twice() {
  goro::mutex mu;
  mu.lock();
  mu.lock();
}

void wait_group_never() {
  goro::wait_group wg;
  wg.add(1);
  wg.wait();
}

// Every goroutine blocked in a different way, nothing to wake any of them.
void many_blocked() {
  auto a = goro::make_chan<int>();
  goro::mutex mu;
  mu.lock();
  goro::wait_group wg;
  wg.add(1);
  for (int i = 0; i < 20; ++i) goro::go([a] { a.recv(); });
  for (int i = 0; i < 20; ++i) goro::go([&mu] { mu.lock(); });
  for (int i = 0; i < 20; ++i) goro::go([] { goro::select(); });
  wg.wait();
}

// ---------------------------------------------------------------------------
// Something can still wake a goroutine: no report, exit 0.

void sleeping() {
  auto ch = goro::make_chan<int>();
  goro::go([ch] {
    goro::sleep(300ms);
    ch.send(7);
  });
  if (ch.recv() == 7) say("ok");
}

void timer_pending() {
  goro::timer t(300ms);
  t.c().recv();
  say("ok");
}

void after_pending() {
  goro::after(300ms).recv();
  say("ok");
}

void after_func_pending() {
  auto ch = goro::make_chan<int>();
  auto h = goro::after_func(300ms, [ch] { ch.send(1); });
  ch.recv();
  say("ok");
}

void ticker_pending() {
  goro::ticker t(100ms);
  for (int i = 0; i < 3; ++i) t.c().recv();
  say("ok");
}

void select_timeout() {
  auto never = goro::make_chan<int>();
  std::size_t i = goro::select(goro::case_recv(never), goro::case_recv(goro::after(300ms)));
  if (i == 1) say("ok");
}

void context_deadline() {
  auto [ctx, cancel] = goro::with_timeout(goro::background(), 300ms);
  ctx.done().recv();
  if (ctx.err() == goro::errc::deadline_exceeded) say("ok");
  cancel();
}

// A goroutine waits for a context whose deadline is pending; main waits for it.
void context_deadline_goroutine() {
  auto r = goro::with_timeout(goro::background(), 300ms);
  auto ch = goro::make_chan<int>();
  goro::go([ctx = r.ctx, ch] {
    ctx.done().recv();
    ch.send(1);
  });
  ch.recv();
  say("ok");
}

void plain_thread() {
  auto ch = goro::make_chan<int>();
  std::thread t([ch] {
    std::this_thread::sleep_for(300ms);
    ch.send(5);  // a plain thread blocks until main receives
  });
  int v = *ch.recv();
  t.join();
  if (v == 5) say("ok");
}

// A goroutine waits in accept, then in read, for another process that
// connects 300 ms later and writes 300 ms after that; main waits for it.
void accept_read() {
  auto ln = goro::net::listen("tcp", "127.0.0.1:0");
  auto got = goro::make_chan<std::string>();
  goro::go([&ln, got] {
    goro::net::conn c = ln.accept();
    std::string s;
    char buf[64];
    while (std::size_t n = c.read(std::as_writable_bytes(std::span<char>(buf, sizeof buf)))) s.append(buf, n);
    got.send(s);
  });
  pid_t pid = spawn_self({"connector", ln.addr(), "300"});
  std::optional<std::string> s = got.recv();
  reap(pid);
  if (s && *s == "hello") say("ok");
}

void blocking_call() {
  auto ch = goro::make_chan<int>();
  goro::go([ch] {
    goro::blocking([] { ::usleep(400'000); });
    ch.send(1);
  });
  ch.recv();
  say("ok");
}

// Another process sends SIGUSR1 300 ms later.
void signal_registered() {
  auto ch = goro::make_chan<int>(1);
  goro::notify_signals(ch, {SIGUSR1});
  pid_t pid = spawn_self({"killer", std::to_string(::getpid()), std::to_string(SIGUSR1), "300"});
  int sig = *ch.recv();
  reap(pid);
  goro::stop_signals(ch);
  if (sig == SIGUSR1) say("ok");
}

void notify_context_pending() {
  auto r = goro::notify_context(goro::background(), {SIGUSR2});
  pid_t pid = spawn_self({"killer", std::to_string(::getpid()), std::to_string(SIGUSR2), "300"});
  r.ctx.done().recv();
  reap(pid);
  if (r.ctx.err() == goro::errc::canceled) say("ok");
}

// ---------------------------------------------------------------------------
// The wake-up source goes away, then everything blocks: now it is a deadlock.
// (The detector must not be silenced for good by what it once saw.)

void sleep_then_deadlock() {
  sleeping();
  block_forever();
}

void after_then_deadlock() {
  goro::after(100ms).recv();
  say("ok");
  block_forever();
}

void thread_then_deadlock() {
  plain_thread();
  block_forever();
}

void blocking_then_deadlock() {
  blocking_call();
  block_forever();
}

void signal_then_deadlock() {
  auto ch = goro::make_chan<int>(1);
  goro::notify_signals(ch, {SIGUSR1});
  ::raise(SIGUSR1);
  ch.recv();
  goro::stop_signals(ch);
  say("ok");
  block_forever();
}

void accept_then_deadlock() {
  accept_read();
  block_forever();
}

// A timer that was stopped, and a context cancelled before its deadline, are
// not pending any more.
void stopped_timer_then_deadlock() {
  goro::timer t(1h);
  t.stop();
  say("ok");
  block_forever();
}

void cancelled_context_then_deadlock() {
  auto [ctx, cancel] = goro::with_timeout(goro::background(), 1h);
  cancel();
  ctx.done().recv();
  say("ok");
  block_forever();
}

// ---------------------------------------------------------------------------
// SIGQUIT: 1,000 goroutines in assorted states. Prints "g <id> <state>" for
// each, then "ready"; the test then sends SIGQUIT.

struct kind {
  const char* state;
  int count;
};
constexpr kind kKinds[] = {
    {"chan receive", 100},
    {"chan send", 100},
    {"chan receive (nil chan)", 80},
    {"chan send (nil chan)", 80},
    {"select", 80},
    {"select (no cases)", 80},
    {"sync.Mutex.Lock", 80},
    {"sleep", 80},
    {"sync.WaitGroup.Wait", 80},
    {"sync.Cond.Wait", 80},
    {"sync.RWMutex.RLock", 60},
    {"sync.RWMutex.Lock", 60},
    {"semacquire", 30},
    {"IO wait", 10},
};

// Under GORO_TEST_SCALE=small (sanitizer builds; the test's environment is
// inherited) a fifth of each kind, 200 in all: a sanitizer build takes ~100x
// longer per goroutine and per dumped stack, and the test must not depend on
// the machine's speed. sigquit_test.cpp expects the same total.
int kind_count(const kind& k) {
  const char* scale = std::getenv("GORO_TEST_SCALE");
  return scale && std::string_view(scale) == "small" ? (k.count + 4) / 5 : k.count;
}

void sigquit_1000() {
  constexpr int nkinds = sizeof kKinds / sizeof kKinds[0];
  int total = 0;
  for (const kind& k : kKinds) total += kind_count(k);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(total));
  std::vector<int> kind_of(static_cast<std::size_t>(total));
  std::atomic<int> started{0};

  auto rx = goro::make_chan<int>();
  auto tx = goro::make_chan<int>();
  auto s1 = goro::make_chan<int>();
  auto s2 = goro::make_chan<int>();
  goro::mutex mu;
  mu.lock();
  goro::wait_group wg;
  wg.add(1);
  goro::mutex cmu;
  goro::condition_variable cv;
  goro::rw_mutex rw;
  rw.lock();
  goro::semaphore sem(0);
  std::vector<goro::net::listener> listeners;
  for (int i = 0; i < kind_count(kKinds[nkinds - 1]); ++i) listeners.push_back(goro::net::listen("tcp", "127.0.0.1:0"));

  int slot = 0;
  for (int k = 0; k < nkinds; ++k) {
    for (int j = 0; j < kind_count(kKinds[k]); ++j, ++slot) {
      kind_of[static_cast<std::size_t>(slot)] = k;
      goro::go([&, k, j, slot] {
        ids[static_cast<std::size_t>(slot)] = goro::this_goroutine::id();
        started.fetch_add(1);
        switch (k) {
          case 0: rx.recv(); break;
          case 1: tx.send(1); break;
          case 2: goro::chan<int>().recv(); break;
          case 3: goro::chan<int>().send(1); break;
          case 4: goro::select(goro::case_recv(s1), goro::case_send(s2, 1)); break;
          case 5: goro::select(); break;
          case 6: mu.lock(); break;
          case 7: goro::sleep(1h); break;
          case 8: wg.wait(); break;
          case 9: {
            std::unique_lock<goro::mutex> l(cmu);
            cv.wait(l);
            break;
          }
          case 10: rw.lock_shared(); break;
          case 11: rw.lock(); break;
          case 12: sem.acquire(); break;
          case 13: listeners[static_cast<std::size_t>(j)].accept(); break;
        }
        block_forever();
      });
    }
  }
  while (started.load() < total) goro::sleep(5ms);
  // A goroutine that has announced itself has only its blocking call left
  // to make: wait until a dump shows none of them runnable or running (the
  // first header is main's own "[running]").
  for (int tries = 0;; ++tries) {
    goro::sleep(tries == 0 ? 200ms : 100ms);
    std::ostringstream os;
    goro::dump_goroutines(os);
    const std::string d = os.str();
    std::size_t busy = 0;
    for (const char* st : {" [runnable]:\n", " [running]:\n"}) {
      for (std::size_t at = d.find(st); at != std::string::npos; at = d.find(st, at + 1)) ++busy;
    }
    if (busy <= 1 || tries == 100) break;
  }
  std::string table;
  for (int i = 0; i < total; ++i)
    table += "g " + std::to_string(ids[static_cast<std::size_t>(i)]) + " " +
             kKinds[kind_of[static_cast<std::size_t>(i)]].state + "\n";
  table += "ready";
  say(table);
  wg.wait();  // main: [sync.WaitGroup.Wait] until SIGQUIT ends the process
}

// ---------------------------------------------------------------------------
// Helpers run as grandchildren.

int connector(const char* addr, int delay_ms) {
  std::string a(addr);
  auto colon = a.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(a.c_str() + colon + 1)));
  inet_pton(AF_INET, a.substr(0, colon).c_str(), &sa.sin_addr);
  ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return 1;
  ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
  if (::write(fd, "hello", 5) != 5) return 1;
  ::close(fd);
  return 0;
}

int killer(int pid, int sig, int delay_ms) {
  ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
  return ::kill(pid, sig) == 0 ? 0 : 1;
}

const std::map<std::string_view, void (*)()> kScenarios = {
    {"self_deadlock", self_deadlock},
    {"circular", circular},
    {"circular_send", circular_send},
    {"goroutine_send", goroutine_send},
    {"nil_recv", nil_recv},
    {"nil_send", nil_send},
    {"select_no_cases", select_no_cases},
    {"select_nobody", select_nobody},
    {"mutex_twice", mutex_twice},
    {"wait_group_never", wait_group_never},
    {"many_blocked", many_blocked},
    {"sleeping", sleeping},
    {"timer_pending", timer_pending},
    {"after_pending", after_pending},
    {"after_func_pending", after_func_pending},
    {"ticker_pending", ticker_pending},
    {"select_timeout", select_timeout},
    {"context_deadline", context_deadline},
    {"context_deadline_goroutine", context_deadline_goroutine},
    {"plain_thread", plain_thread},
    {"accept_read", accept_read},
    {"blocking_call", blocking_call},
    {"signal_registered", signal_registered},
    {"notify_context_pending", notify_context_pending},
    {"sleep_then_deadlock", sleep_then_deadlock},
    {"after_then_deadlock", after_then_deadlock},
    {"thread_then_deadlock", thread_then_deadlock},
    {"blocking_then_deadlock", blocking_then_deadlock},
    {"signal_then_deadlock", signal_then_deadlock},
    {"accept_then_deadlock", accept_then_deadlock},
    {"stopped_timer_then_deadlock", stopped_timer_then_deadlock},
    {"cancelled_context_then_deadlock", cancelled_context_then_deadlock},
    {"sigquit_1000", sigquit_1000},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <scenario> [procs]\n", argv[0]);
    return 3;
  }
  std::string_view name = argv[1];
  if (name == "connector" && argc == 4) return connector(argv[2], std::atoi(argv[3]));
  if (name == "killer" && argc == 5) return killer(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]));
  auto it = kScenarios.find(name);
  if (it == kScenarios.end()) {
    std::fprintf(stderr, "unknown scenario %s\n", argv[1]);
    return 3;
  }
  if (argc > 2) g_procs = std::atoi(argv[2]);
  void (*f)() = it->second;
  return goro::run([f] { f(); }, cfg());
}
