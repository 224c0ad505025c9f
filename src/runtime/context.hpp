// context.hpp — the machine context of a goroutine: a saved stack pointer.
//
// A suspended goroutine's registers live in a frame on its own stack (the
// layouts are in src/arch/switch_*.S); the goroutine descriptor keeps only
// the stack pointer. make_context builds the frame a fresh goroutine resumes
// from, so that the first goro_switch to it enters goro_trampoline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" {
// Saves the current context in *save_sp and resumes to_sp; returns `pass` on
// the resumed side (the switcher's M).
void* goro_switch(void** save_sp, void* to_sp, void* pass);
void goro_trampoline();
}

namespace goro::rt {

using entry_fn = void (*)(void* m, void* arg);

#if defined(__x86_64__)
inline constexpr std::size_t kFrameWords = 8;  // fp control, r15..r12, rbx, rbp, resume
inline constexpr std::size_t kFrameResume = 7, kFrameEntry = 4 /* r12 */, kFrameArg = 3 /* r13 */;
inline void* make_context(void* top, entry_fn entry, void* arg) {
  auto* sp = reinterpret_cast<std::uint64_t*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15});
  sp -= kFrameWords;  // 64 bytes: after the frame is popped, sp is 16-aligned
  std::memset(sp, 0, kFrameWords * 8);
  std::uint32_t mxcsr;
  std::uint16_t fpcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  std::memcpy(reinterpret_cast<char*>(sp), &mxcsr, 4);
  std::memcpy(reinterpret_cast<char*>(sp) + 4, &fpcw, 2);
  sp[kFrameEntry] = reinterpret_cast<std::uint64_t>(entry);
  sp[kFrameArg] = reinterpret_cast<std::uint64_t>(arg);
  sp[kFrameResume] = reinterpret_cast<std::uint64_t>(&goro_trampoline);
  return sp;
}
#elif defined(__aarch64__)
inline constexpr std::size_t kFrameBytes = 176;
inline void* make_context(void* top, entry_fn entry, void* arg) {
  auto* base = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15});
  auto* sp = reinterpret_cast<std::uint64_t*>(base - kFrameBytes);
  std::memset(sp, 0, kFrameBytes);
  std::uint64_t fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  sp[0] = reinterpret_cast<std::uint64_t>(entry);              // x19
  sp[1] = reinterpret_cast<std::uint64_t>(arg);                // x20
  sp[11] = reinterpret_cast<std::uint64_t>(&goro_trampoline);  // x30 (lr)
  sp[20] = fpcr;
  return sp;
}
#else
#error "goro: no context switch for this architecture (add src/arch/switch_<arch>_<abi>_elf.S)"
#endif

}  // namespace goro::rt
