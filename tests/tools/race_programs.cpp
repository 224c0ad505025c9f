// race_programs.cpp — goro_race_programs: programs for the race detector
// (Go's `go test -race`), built only in a ThreadSanitizer build.
//
//   goro_race_programs <program> <procs>
//
// The racy ones (the seeds' racy counter and WithdrawUnsafe) must be
// reported; the others synchronize through goro (mutex, atomics, channels,
// select, wait_group, once, context, ...) and must not be. A racy program
// prints "line <N>" for each source line whose accesses race, so that the
// test can look for them in both stacks of the report.
#include <goro/goro.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

int g_procs = 1;

void print_line(int line) { std::printf("line %d\n", line); }

// The racy line of racy_counter, noted on that very line (a relaxed atomic:
// no happens-before edge for TSan).
std::atomic<int> g_racy_line{0};

// ---------------------------------------------------------------------------
// Racy: goroutines increment a shared int (seeds 001 and 002, "counter++ //
// Data race!"), yielding between increments so that they interleave even on
// one processor.

void racy_counter() {
  int counter = 0;
  constexpr int kGoroutines = 4;
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&] {
      for (int i = 0; i < 100; ++i) {
        counter++, g_racy_line.store(__LINE__, std::memory_order_relaxed);  // Data race!
        goro::yield();
      }
      wg.done();
    });
  wg.wait();
  print_line(g_racy_line.load());
  std::printf("Counter: %d\n", counter);
}

// Seed 001, "Real-World Example: Bank Account Race Condition".
struct BankAccount {
  int balance = 0;
  goro::mutex mu;  // Protects balance

  // Unsafe withdrawal - demonstrates race condition
  [[gnu::noinline]] void WithdrawUnsafe(int amount) {
    if (balance >= amount) {
      // Race condition: another goroutine might withdraw here
      goro::yield();
      balance -= amount;
    }
  }
  static constexpr int kUnsafeLines[] = {__LINE__ - 6, __LINE__ - 3};  // the read and the write

  // Safe withdrawal - uses mutex for synchronization
  [[gnu::noinline]] void WithdrawSafe(int amount) {
    std::lock_guard<goro::mutex> l(mu);
    if (balance >= amount) {
      goro::yield();  // holding the lock: the others wait
      balance -= amount;
      std::printf("Withdrew $%d, new balance: $%d\n", amount, balance);
    } else {
      std::printf("Insufficient funds for $%d withdrawal\n", amount);
    }
  }
};

void bank(bool safe) {
  BankAccount account;
  account.balance = 1000;
  goro::wait_group wg;
  // Simulate 10 concurrent withdrawals
  for (int i = 0; i < 10; ++i) {
    wg.add(1);
    goro::go(
        [&, safe](int /*id*/) {
          if (safe) account.WithdrawSafe(150);
          else account.WithdrawUnsafe(150);
          wg.done();
        },
        i);
  }
  wg.wait();
  std::printf("Final balance: $%d\n", account.balance);
  if (!safe)
    for (int l : BankAccount::kUnsafeLines) print_line(l);
  if (safe && account.balance != 100) std::exit(1);
}

void bank_unsafe() { bank(false); }
void bank_safe() { bank(true); }

// ---------------------------------------------------------------------------
// The counter, synchronized.

constexpr int kGoroutines = 8;
constexpr int kRounds = 200;

void mutex_counter() {
  int counter = 0;
  goro::mutex mu;
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&] {
      for (int i = 0; i < kRounds; ++i) {
        {
          std::lock_guard<goro::mutex> l(mu);
          counter++;
        }
        goro::yield();
      }
      wg.done();
    });
  wg.wait();
  if (counter != kGoroutines * kRounds) std::exit(1);
}

void atomic_counter() {
  std::atomic<int> counter{0};
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&] {
      for (int i = 0; i < kRounds; ++i) {
        counter.fetch_add(1, std::memory_order_relaxed);
        goro::yield();
      }
      wg.done();
    });
  wg.wait();
  if (counter.load() != kGoroutines * kRounds) std::exit(1);
}

// The counter itself travels through a channel: whoever holds the token
// owns it ("share memory by communicating").
void chan_counter() {
  int counter = 0;
  auto token = goro::make_chan<int*>(1);
  token.send(&counter);
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&] {
      for (int i = 0; i < kRounds; ++i) {
        int* c = *token.recv();
        (*c)++;
        token.send(c);
        goro::yield();
      }
      wg.done();
    });
  wg.wait();
  if (**token.recv() != kGoroutines * kRounds) std::exit(1);
}

// Seed 002's fix, option 3: each goroutine sends its contribution.
void chan_sum() {
  auto results = goro::make_chan<int>(100);
  for (int i = 0; i < 100; ++i) goro::go([results] { results.send(1); });
  int total = 0;
  for (int i = 0; i < 100; ++i) total += *results.recv();
  if (total != 100) std::exit(1);
}

// ---------------------------------------------------------------------------
// Write, then a goro operation; the operation's partner, then read.

struct payload {
  int values[16];
};

// Write-before-send, read-after-receive, in both directions.
void chan_handoff(std::size_t cap) {
  std::vector<payload> data(64);
  auto to = goro::make_chan<int>(cap);
  auto back = goro::make_chan<int>(cap);
  // (Channels by value: main may return while a sender is still inside
  // its last send or close.)
  goro::go([&data, to, back] {
    for (int v : to) {
      auto& p = data[static_cast<std::size_t>(v)];
      int sum = 0;
      for (int x : p.values) sum += x;  // read after receive
      p.values[0] = sum;                // write before send
      back.send(v);
    }
    back.close();
  });
  goro::go([&data, to] {
    for (int i = 0; i < 64; ++i) {
      for (int& x : data[static_cast<std::size_t>(i)].values) x = i;  // write before send
      to.send(i);
    }
    to.close();
  });
  int n = 0;
  for (int v : back) {
    if (data[static_cast<std::size_t>(v)].values[0] != 16 * v) std::exit(1);  // read after receive
    ++n;
  }
  if (n != 64) std::exit(1);
}

void chan_unbuffered() { chan_handoff(0); }
void chan_buffered() { chan_handoff(4); }

// Write-before-close, read after the receive that saw the close.
void chan_close() {
  std::vector<int> data;
  auto done = goro::make_chan<int>();
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&] {
      done.recv();  // closed
      long sum = 0;
      for (int x : data) sum += x;
      if (sum != 4950) std::exit(1);
      wg.done();
    });
  goro::yield();
  for (int i = 0; i < 100; ++i) data.push_back(i);
  done.close();
  wg.wait();
}

// Write-before-send, read-after-receive through select on both sides.
void select_handoff() {
  std::vector<int> slots(100);
  auto ca = goro::make_chan<int>();
  auto cb = goro::make_chan<int>(1);
  auto quit = goro::make_chan<int>();
  goro::go([&] {
    for (int i = 0; i < 100; ++i) {
      slots[static_cast<std::size_t>(i)] = 3 * i;  // write before send
      goro::select(goro::case_send(i % 2 ? ca : cb, i), goro::case_recv(quit));
    }
  });
  for (int i = 0; i < 100; ++i) {
    std::optional<int> v;
    goro::select(goro::case_recv(ca, v), goro::case_recv(cb, v));
    if (slots[static_cast<std::size_t>(*v)] != 3 * *v) std::exit(1);  // read after receive
  }
  quit.close();
}

void wait_group_handoff() {
  std::vector<long> results(kGoroutines * 4);
  goro::wait_group wg;
  for (std::size_t i = 0; i < results.size(); ++i) {
    wg.add(1);
    goro::go([&, i] {
      goro::yield();
      results[i] = static_cast<long>(i) * 2;  // write before done
      wg.done();
    });
  }
  wg.wait();
  for (std::size_t i = 0; i < results.size(); ++i)
    if (results[i] != static_cast<long>(i) * 2) std::exit(1);  // read after wait
}

void once_handoff() {
  goro::once once;
  std::map<std::string, int>* config = nullptr;
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&] {
      once.call([&] {
        goro::yield();  // the others wait for the running call
        config = new std::map<std::string, int>{{"procs", g_procs}};
      });
      if (config->at("procs") != g_procs) std::exit(1);
      wg.done();
    });
  wg.wait();
  delete config;
}

void context_cancel() {
  auto root = goro::with_cancel(goro::background());
  auto child = goro::with_cancel(root.ctx);
  int shared = 0;
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&, ctx = (g % 2 ? root.ctx : child.ctx)] {
      ctx.done().recv();
      if (shared != 42) std::exit(1);  // read after done
      wg.done();
    });
  goro::yield();
  shared = 42;  // write before cancel
  root.cancel();
  wg.wait();
  child.cancel();
}

void go_statement() {
  int before = 7;  // written before the go statement
  int after = 0;
  auto done = goro::make_chan<int>();
  goro::go([&before, &after, done] {
    after = before * 2;
    done.send(1);
  });
  done.recv();
  if (after != 14) std::exit(1);
}

void rw_mutex_handoff() {
  goro::rw_mutex rw;
  std::vector<int> data(16, 0);
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&, g] {
      for (int i = 0; i < 50; ++i) {
        if (g % 4 == 0) {
          std::lock_guard<goro::rw_mutex> l(rw);
          for (int& x : data) ++x;
        } else {
          std::shared_lock<goro::rw_mutex> l(rw);
          int first = data[0];
          for (int x : data)
            if (x != first) std::exit(1);
        }
        goro::yield();
      }
      wg.done();
    });
  wg.wait();
}

void cond_handoff() {
  goro::mutex mu;
  goro::condition_variable cv;
  int value = 0;
  bool ready = false;
  auto done = goro::make_chan<int>();
  goro::go([&mu, &cv, &value, &ready, done] {
    std::unique_lock<goro::mutex> l(mu);
    cv.wait(l, [&] { return ready; });
    int v = value;
    l.unlock();
    done.send(v);
  });
  goro::yield();
  {
    std::lock_guard<goro::mutex> l(mu);
    value = 99;
    ready = true;
  }
  cv.notify_all();
  if (*done.recv() != 99) std::exit(1);
}

void semaphore_counter() {
  goro::semaphore sem(1);
  int counter = 0;
  goro::wait_group wg;
  wg.add(kGoroutines);
  for (int g = 0; g < kGoroutines; ++g)
    goro::go([&] {
      for (int i = 0; i < 50; ++i) {
        sem.acquire();
        counter++;
        sem.release();
        goro::yield();
      }
      wg.done();
    });
  wg.wait();
  if (counter != kGoroutines * 50) std::exit(1);
}

void errgroup_handoff() {
  std::vector<int> out(16);
  {
    goro::errgroup g;
    for (std::size_t i = 0; i < out.size(); ++i) g.go([&out, i] { out[i] = static_cast<int>(i) + 1; });
    g.wait();
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] != static_cast<int>(i) + 1) std::exit(1);
}

// Goroutines come and go, stacks and descriptors are reused, channels carry
// pointers to heap data: the runtime's own reuse must not look like races.
void churn() {
  auto jobs = goro::make_chan<std::vector<int>*>(8);
  auto results = goro::make_chan<long>(8);
  for (int w = 0; w < 4; ++w)
    goro::go([jobs, results] {
      for (std::vector<int>* v : jobs) {
        long s = 0;
        for (int x : *v) s += x;
        delete v;
        results.send(s);
      }
    });
  constexpr int kJobs = 300;
  goro::go([jobs] {
    for (int j = 0; j < kJobs; ++j) jobs.send(new std::vector<int>(32, j));
    jobs.close();
  });
  long total = 0;
  for (int j = 0; j < kJobs; ++j) total += *results.recv();
  for (int wave = 0; wave < 10; ++wave) {
    goro::wait_group wg;
    std::vector<int> local(50);
    wg.add(50);
    for (int i = 0; i < 50; ++i)
      goro::go([&, i] {
        local[static_cast<std::size_t>(i)] = i;
        wg.done();
      });
    wg.wait();
    for (int i = 0; i < 50; ++i) total += local[static_cast<std::size_t>(i)];
  }
  if (total != 32L * kJobs * (kJobs - 1) / 2 + 10L * 1225) std::exit(1);
}

// Racy: goroutine A writes x and returns; only then is goroutine B started,
// and B reads x. Nothing orders A before B (main learns that A is done from
// a relaxed atomic, and yield is not an edge), so it is a race, although A
// and B never ran at the same time. An exited goroutine's descriptor, stack
// and TSan fiber are reused, each an edge to its next user (tsan_reuse.cpp):
// B must not get A's. `churn_first` goroutines come and go before A (0: with
// per-P LIFO caches, B is the next user of A's leftovers).
void race_with_finished(int churn_first) {
  for (int i = 0; i < churn_first; i += 100) {
    goro::wait_group wg;
    wg.add(100);
    for (int k = 0; k < 100; ++k) goro::go([&] { wg.done(); });
    wg.wait();
  }
  static int x = 0;
  static std::atomic<int> line{0};
  std::atomic<bool> a_done{false};
  goro::go([&] {
    x = 1, line.store(__LINE__, std::memory_order_relaxed);  // Data race!
    a_done.store(true, std::memory_order_relaxed);
  });
  while (!a_done.load(std::memory_order_relaxed)) goro::yield();
  for (int i = 0; i < 10; ++i) goro::yield();  // let A's exit finish on its thread
  auto done = goro::make_chan<int>();
  goro::go([done] { done.send(x + 1); });
  done.recv();
  print_line(line.load());
}
void race_with_finished_alone() { race_with_finished(0); }
void race_with_finished_after_churn() { race_with_finished(1000); }

// Many goroutines blocked at once: each has a TSan fiber while it lives.
// (GCC 12's libtsan allows 8128 fibers and threads at once; Clang's has
// no such limit.) A 10-ary tree of 20,000 leaves (skynet's shape), each
// inner goroutine waiting for its children, then the same again: the
// second tree reuses the first one's fibers.
long tree(long size) {
  if (size == 1) return 1;
  auto c = goro::make_chan<long>(10);
  for (int i = 0; i < 10; ++i) goro::go([c, size] { c.send(tree(size / 10)); });
  long s = 0;
  for (int i = 0; i < 10; ++i) s += *c.recv();
  return s;
}
void many_live() {
  goro::wait_group wg;
  auto gate = goro::make_chan<int>();
  constexpr int kBlocked = 20000;
  wg.add(kBlocked);
  for (int i = 0; i < kBlocked; ++i)
    goro::go([&, gate] {
      gate.recv();
      wg.done();
    });
  gate.close();
  wg.wait();
  for (int round = 0; round < 2; ++round)
    if (tree(100000) != 100000) std::exit(1);
}

const std::map<std::string_view, void (*)()> kPrograms = {
    {"racy_counter", racy_counter},
    {"bank_unsafe", bank_unsafe},
    {"bank_safe", bank_safe},
    {"mutex_counter", mutex_counter},
    {"atomic_counter", atomic_counter},
    {"chan_counter", chan_counter},
    {"chan_sum", chan_sum},
    {"chan_unbuffered", chan_unbuffered},
    {"chan_buffered", chan_buffered},
    {"chan_close", chan_close},
    {"select", select_handoff},
    {"wait_group", wait_group_handoff},
    {"once", once_handoff},
    {"context_cancel", context_cancel},
    {"go_statement", go_statement},
    {"rw_mutex", rw_mutex_handoff},
    {"cond", cond_handoff},
    {"semaphore", semaphore_counter},
    {"errgroup", errgroup_handoff},
    {"churn", churn},
    {"race_with_finished", race_with_finished_alone},
    {"race_with_finished_after_churn", race_with_finished_after_churn},
    {"many_live", many_live},
};

// Goroutines still parked when run() returns are discarded; what they did
// before parking happens before run() returns (run joins its threads), so
// the caller may then reuse the memory they touched.
int discarded() {
  int touched[6] = {};
  goro::mutex mu;
  goro::wait_group wg;
  goro::semaphore sem(0);
  int rc = goro::run(
      [&] {
        mu.lock();
        wg.add(1);
        auto parked = goro::make_chan<int>(6);
        for (int k = 0; k < 6; ++k)
          goro::go([&, k, parked] {
            parked.send(k);
            touched[k] = k + 1;  // written after the last edge to main, then it parks for good
            switch (k) {
              case 0: mu.lock(); break;
              case 1: wg.wait(); break;
              case 2: sem.acquire(); break;
              case 3: goro::select(); break;
              case 4: goro::sleep(1h); break;
              case 5: goro::make_chan<int>().recv(); break;
            }
          });
        for (int k = 0; k < 6; ++k) parked.recv();
        goro::sleep(20ms);  // let them park
      },
      goro::config{.procs = g_procs});
  // After run(): no goroutine runs any more.
  int sum = 0;
  for (int& t : touched) sum += std::exchange(t, 0);
  std::printf("sum %d\n", sum);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "discarded") {
    g_procs = std::atoi(argv[2]);
    return discarded();
  }
  if (argc < 3 || !kPrograms.count(argv[1])) {
    std::fprintf(stderr, "usage: %s <program> <procs>\n", argv[0]);
    return 3;
  }
  g_procs = std::atoi(argv[2]);
  void (*f)() = kPrograms.at(argv[1]);
  return goro::run([f] { f(); }, goro::config{.procs = g_procs});
}
