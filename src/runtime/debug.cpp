// debug.cpp — fatal errors, panics, and stack-overflow detection.
//
// A panic (an exception escaping a goroutine) and a fatal error print Go's
// text to stderr and exit with status 2, as a Go program does. A stack
// overflow is a fault in a goroutine's guard page: the SIGSEGV handler runs
// on the thread's alternate signal stack (the goroutine's own stack is
// exhausted), recognises the address as the current goroutine's guard, and
// reports it with async-signal-safe code only. Other faults go to whatever
// handler was installed before goro's (the default one: a core dump).
#include "runtime/debug.hpp"
#include "runtime/sanitizer.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>

namespace goro::rt {

namespace {

struct sigaction old_segv, old_bus;
constexpr std::size_t kAltStack = 64 * 1024;

// Async-signal-safe formatting into a fixed buffer.
struct Buf {
  char data[1024];
  std::size_t n = 0;
  void put(const char* s) noexcept {
    while (*s && n < sizeof data) data[n++] = *s++;
  }
  void put_int(long long v) noexcept {
    char tmp[24];
    int i = 0;
    bool neg = v < 0;
    unsigned long long u = neg ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    do {
      tmp[i++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    if (neg) tmp[i++] = '-';
    while (i > 0 && n < sizeof data) data[n++] = tmp[--i];
  }
};

void chain(int sig, siginfo_t* si, void* uc, const struct sigaction& old) {
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) {
      old.sa_sigaction(sig, si, uc);
      return;
    }
  } else if (old.sa_handler == SIG_IGN) {
    return;
  } else if (old.sa_handler != SIG_DFL && old.sa_handler) {
    old.sa_handler(sig);
    return;
  }
  // Default action: restore it and return, so the fault happens again.
  signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* si, void* uc) {
  M* m = current_m();
  G* g = m ? m->curg : nullptr;
  if (g && stack_guard_fault(g, si->si_addr)) {
    Buf b;
    b.put("runtime: goroutine ");
    b.put_int(g->id);
    b.put(": stack overflow (");
    b.put_int(static_cast<long long>(g->stack_size));
    b.put("-byte stack)\nfatal error: stack overflow\n\ngoroutine ");
    b.put_int(g->id);
    b.put(" [running]:\n");
    if (g->id != 1) {
      b.put("created by ");
      b.put(g->create_func);
      b.put(" in goroutine ");
      b.put_int(g->parent_id);
      b.put("\n\t");
      b.put(g->create_file);
      b.put(":");
      b.put_int(g->create_line);
      b.put("\n");
    }
    write_stderr(b.data, b.n);
    _exit(2);
  }
  chain(sig, si, uc, sig == SIGSEGV ? old_segv : old_bus);
}

}  // namespace

void write_stderr(const char* s, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

const char* wait_reason_string(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::none: return "";
    case WaitReason::chan_receive: return "chan receive";
    case WaitReason::chan_send: return "chan send";
    case WaitReason::chan_receive_nil: return "chan receive (nil chan)";
    case WaitReason::chan_send_nil: return "chan send (nil chan)";
    case WaitReason::select: return "select";
    case WaitReason::select_no_cases: return "select (no cases)";
    case WaitReason::sleep: return "sleep";
    case WaitReason::io_wait: return "IO wait";
    case WaitReason::mutex_lock: return "sync.Mutex.Lock";
    case WaitReason::rwmutex_rlock: return "sync.RWMutex.RLock";
    case WaitReason::rwmutex_lock: return "sync.RWMutex.Lock";
    case WaitReason::waitgroup_wait: return "sync.WaitGroup.Wait";
    case WaitReason::cond_wait: return "sync.Cond.Wait";
    case WaitReason::semacquire: return "semacquire";
    case WaitReason::syscall: return "syscall";
    case WaitReason::once: return "sync.Once.Do";
    case WaitReason::timer_goroutine: return "timer goroutine (idle)";
  }
  return "unknown";
}

void append_created_by(std::string& out, G* g) {
  if (g->id == 1) return;
  // The spawn that wrote g's name released g (spawn_commit); copying the
  // name goes through libc's memcpy, which ThreadSanitizer watches even in
  // the uninstrumented runtime, so say what orders the two.
  san::acquire(g);
  out += "created by ";
  out += g->create_func;
  out += " in goroutine ";
  out += std::to_string(g->parent_id);
  if (!g->name.empty()) {
    out += " as \"";
    out += g->name;
    out += '"';
  }
  out += "\n\t";
  out += g->create_file;
  out += ':';
  out += std::to_string(g->create_line);
  out += '\n';
}

void append_goroutine_header(std::string& out, G* g, const char* state) {
  out += "goroutine ";
  out += std::to_string(g->id);
  out += " [";
  out += state;
  out += "]:\n";
}

[[noreturn]] void fatal(const char* msg) noexcept {
  std::string s = "fatal error: ";
  s += msg;
  s += '\n';
  write_stderr(s.data(), s.size());
  _exit(2);
}

[[noreturn]] void fatal_panic(G* g, const char* what) noexcept {
  std::string s = "panic: ";
  s += what;
  s += "\n\n";
  (void)g;
  append_dump(s, false);
  write_stderr(s.data(), s.size());
  _exit(2);
}

void install_signal_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = &on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
  });
}

void setup_thread_signals(M* m) {
  void* mem = mmap(nullptr, kAltStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  m->altstack = static_cast<char*>(mem);
  stack_t ss{};
  ss.ss_sp = mem;
  ss.ss_size = kAltStack;
  ss.ss_flags = 0;
  sigaltstack(&ss, nullptr);
}

void teardown_thread_signals(M* m) noexcept {
  if (!m->altstack) return;
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  munmap(m->altstack, kAltStack);
  m->altstack = nullptr;
}

}  // namespace goro::rt
