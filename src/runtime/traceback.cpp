// traceback.cpp — unwinding and symbolization with libdw (elfutils).
//
// Why libdw: it is maintained, packaged by Debian, unwinds with the DWARF
// CFI of every loaded module (so -O2 code without frame pointers unwinds),
// and symbolizes addresses to function, file and line. A parked goroutine
// is presented to libdw as a "thread" whose initial registers are the
// callee-saved set goro_switch left on its stack (rsp just above that
// frame, rip the resume address); memory is read with process_vm_readv on
// our own pid, so a bad address fails instead of faulting. The running
// goroutine's own stack is collected with _Unwind_Backtrace. Without libdw
// (GORO_HAVE_LIBDW undefined) frames are printed as bare addresses.
#include "runtime/traceback.hpp"

#include <cxxabi.h>
#include <sys/uio.h>
#include <unistd.h>
#include <unwind.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#if defined(GORO_HAVE_LIBDW)
#include <elfutils/libdwfl.h>

#include "arch/switch.hpp"  // the saved frame's layout
#endif

namespace goro::rt {

namespace {

constexpr int kMaxFrames = 64;

[[maybe_unused]] std::string demangle(const char* name) {
  if (!name) return "?";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || !d) return name;
  std::string s(d);
  std::free(d);
  return s;
}

[[maybe_unused]] bool is_runtime_internal(const std::string& fn) {
  return fn.rfind("goro::rt::", 0) == 0 || fn.rfind("goro_switch", 0) == 0;
}

[[maybe_unused]] bool is_entry(const std::string& fn) {
  return fn.find("goro::rt::(anonymous namespace)::g_entry") != std::string::npos ||
         fn.find("goro::rt::(anonymous namespace)::main_goroutine") != std::string::npos || fn == "goro_trampoline";
}

#if defined(GORO_HAVE_LIBDW)

char* debuginfo_path = nullptr;
const Dwfl_Callbacks kCallbacks = {
    dwfl_linux_proc_find_elf,
    dwfl_standard_find_debuginfo,
    nullptr,
    &debuginfo_path,
};

pid_t next_thread(Dwfl*, void*, void** thread_argp) {
  if (*thread_argp) return 0;
  *thread_argp = reinterpret_cast<void*>(1);
  return 1;
}

bool get_thread(Dwfl*, pid_t tid, void*, void** thread_argp) {
  *thread_argp = reinterpret_cast<void*>(1);
  return tid == 1;
}

bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void*) {
  iovec local{result, sizeof *result};
  iovec remote{reinterpret_cast<void*>(addr), sizeof *result};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == static_cast<ssize_t>(sizeof *result);
}

const void* sp_target = nullptr;  // the saved sp of the goroutine being unwound (session_lock)

bool set_regs(Dwfl_Thread* thread, void*) {
  const void* sp = sp_target;
  auto at = [sp](std::size_t offset) -> Dwarf_Word { return frame_word(sp, offset); };
  const Dwarf_Word after = reinterpret_cast<Dwarf_Word>(sp) + GORO_FRAME_BYTES;  // sp once the frame is popped
#if defined(__x86_64__)
  // DWARF numbering: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip.
  Dwarf_Word regs[17] = {};
  regs[3] = at(GORO_FRAME_RBX);
  regs[6] = at(GORO_FRAME_RBP);
  regs[7] = after;
  regs[12] = at(GORO_FRAME_R12), regs[13] = at(GORO_FRAME_R13);
  regs[14] = at(GORO_FRAME_R14), regs[15] = at(GORO_FRAME_R15);
  regs[16] = at(GORO_FRAME_RESUME);
  if (!dwfl_thread_state_registers(thread, 0, 17, regs)) return false;
  dwfl_thread_state_register_pc(thread, regs[16]);
#elif defined(__aarch64__)
  Dwarf_Word regs[32] = {};
  for (int i = 0; i < 10; ++i) regs[19 + i] = at(GORO_FRAME_X19 + 8 * static_cast<std::size_t>(i));  // x19..x28
  regs[29] = at(GORO_FRAME_FP);
  regs[30] = at(GORO_FRAME_LR);
  regs[31] = after;
  if (!dwfl_thread_state_registers(thread, 0, 32, regs)) return false;
  dwfl_thread_state_register_pc(thread, regs[30]);
#endif
  return true;
}

const Dwfl_Thread_Callbacks kThreadCallbacks = {
    next_thread, get_thread, memory_read, set_regs, nullptr, nullptr,
};

Dwfl* open_self() {
  Dwfl* d = dwfl_begin(&kCallbacks);
  if (!d) return nullptr;
  dwfl_report_begin(d);
  if (dwfl_linux_proc_report(d, getpid()) != 0) {
    dwfl_end(d);
    return nullptr;
  }
  dwfl_report_end(d, nullptr, nullptr);
  return d;
}

// A return address, symbolized: the function and where the call is.
struct Frame {
  std::string fn;     // demangled ("?" when unknown)
  std::string where;  // "file:line", or "module pc=0x..." without line info
};

// A session's modules, and the addresses it has symbolized: the goroutines
// of a dump mostly wait at the same few call sites, and libdw finds a
// symbol by a linear search of its module's symbol table.
struct Symbols {
  Dwfl* d = nullptr;
  std::unordered_map<Dwarf_Addr, Frame> cache;

  const Frame& at(Dwarf_Addr pc) {
    auto it = cache.find(pc);
    if (it != cache.end()) return it->second;
    Frame f;
    Dwarf_Addr lookup = pc - 1;  // a return address: look up the call
    Dwfl_Module* mod = d ? dwfl_addrmodule(d, lookup) : nullptr;
    f.fn = demangle(mod ? dwfl_module_addrname(mod, lookup) : nullptr);
    Dwfl_Line* line = mod ? dwfl_module_getsrc(mod, lookup) : nullptr;
    int lineno = 0;
    const char* file = line ? dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr) : nullptr;
    char buf[64];
    if (file) {
      f.where = file;
      std::snprintf(buf, sizeof buf, ":%d", lineno);
    } else {
      const char* modname =
          mod ? dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr) : nullptr;
      f.where = modname ? modname : "?";
      std::snprintf(buf, sizeof buf, " pc=%#lx", static_cast<unsigned long>(pc));
    }
    f.where += buf;
    return cache.emplace(pc, std::move(f)).first->second;
  }
};

// Appends "fn\n\twhere\n", skipping the runtime's own frames above the first user frame.
void append_frame(std::string& out, const Frame& f, bool* seen_user) {
  if (!*seen_user && is_runtime_internal(f.fn)) return;
  *seen_user = true;
  out += f.fn;
  out += "\n\t";
  out += f.where;
  out += '\n';
}

struct FrameWalk {
  std::string* out;
  Symbols* sym;
  int n = 0;
  bool seen_user = false;
};

int on_frame(Dwfl_Frame* f, void* arg) {
  auto* fw = static_cast<FrameWalk*>(arg);
  Dwarf_Addr pc;
  bool act;
  if (!dwfl_frame_pc(f, &pc, &act)) return DWARF_CB_ABORT;
  const Frame& fr = fw->sym->at(pc);
  if (is_entry(fr.fn) || ++fw->n > kMaxFrames) return DWARF_CB_ABORT;
  append_frame(*fw->out, fr, &fw->seen_user);
  return DWARF_CB_OK;
}

#endif  // GORO_HAVE_LIBDW

struct PcList {
  void* pcs[kMaxFrames];
  int n = 0;
};

_Unwind_Reason_Code collect(struct _Unwind_Context* ctx, void* arg) {
  auto* l = static_cast<PcList*>(arg);
  if (l->n >= kMaxFrames) return _URC_END_OF_STACK;
  l->pcs[l->n++] = reinterpret_cast<void*>(_Unwind_GetIP(ctx));
  return _URC_NO_REASON;
}

}  // namespace

#if defined(GORO_HAVE_LIBDW)
struct Traceback::State {
  Symbols sym;
  bool opened = false;
  bool attached = false;

  Dwfl* dwfl() {
    if (!opened) {
      opened = true;
      sym.d = open_self();
    }
    return sym.d;
  }
  ~State() {
    if (sym.d) dwfl_end(sym.d);
  }
};
#else
struct Traceback::State {};
#endif

Traceback::Traceback() : st_(std::make_unique<State>()) {}
Traceback::~Traceback() = default;

void Traceback::parked(std::string& out, G* g) {
  // One read: a goroutine resumed meanwhile clears it (stack_resume).
  const void* sp = __atomic_load_n(&g->sp, __ATOMIC_RELAXED);
  if (!sp || !g->stack_lo) return;
#if defined(GORO_HAVE_LIBDW)
  Dwfl* d = st_->dwfl();
  if (!d) return;
  static Lock session_lock{LockRank::session};
  LockGuard l(session_lock);  // sp_target, and libdw's process state
  if (!st_->attached) {
    st_->attached = dwfl_attach_state(d, nullptr, getpid(), &kThreadCallbacks, nullptr);
    if (!st_->attached) return;
  }
  sp_target = sp;
  FrameWalk fw{&out, &st_->sym};
  dwfl_getthread_frames(d, 1, on_frame, &fw);
  sp_target = nullptr;
#else
  char buf[64];
  std::snprintf(buf, sizeof buf, "\t(stack at sp=%p; build with libdw for frames)\n", sp);
  out += buf;
#endif
}

void Traceback::symbolize(std::uintptr_t pc, std::string* function, std::string* where) {
#if defined(GORO_HAVE_LIBDW)
  st_->dwfl();
  const Frame& f = st_->sym.at(static_cast<Dwarf_Addr>(pc));
  *function = f.fn;
  *where = f.where;
#else
  // Constructed, then moved: GCC 12 (aarch64) warns -Wrestrict on assigning a char*.
  char buf[32];
  std::snprintf(buf, sizeof buf, "pc=%#lx", static_cast<unsigned long>(pc));
  *function = std::string(1, '?');
  *where = std::string(buf);
#endif
}

void Traceback::current(std::string& out) {
  PcList l;
  _Unwind_Backtrace(collect, &l);
#if defined(GORO_HAVE_LIBDW)
  st_->dwfl();
  bool seen_user = false;
  bool past_self = false;
  for (int i = 0; i < l.n; ++i) {
    const Frame& f = st_->sym.at(reinterpret_cast<Dwarf_Addr>(l.pcs[i]));
    if (!past_self) {  // skip the dumping machinery itself
      if (f.fn.find("goro::rt::") == 0 || f.fn.find("goro::dump_goroutines") == 0) continue;
      past_self = true;
    }
    if (is_entry(f.fn)) break;
    append_frame(out, f, &seen_user);
  }
#else
  for (int i = 0; i < l.n; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "?\n\tpc=%p\n", l.pcs[i]);
    out += buf;
  }
#endif
}

}  // namespace goro::rt
