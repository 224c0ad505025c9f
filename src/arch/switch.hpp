// switch.hpp — the machine context of a goroutine: a saved stack pointer.
//
// A suspended goroutine's registers live in a frame on its own stack, laid
// out as src/arch/frame_<arch>.h says (the .S files save and restore through
// the same names); the goroutine descriptor keeps only the stack pointer.
// make_context builds the frame a fresh goroutine resumes from, so that the
// first goro_switch to it enters goro_trampoline with its entry function and
// argument in the registers the trampoline reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include "arch/frame_x86_64.h"
#elif defined(__aarch64__)
#include "arch/frame_aarch64.h"
#else
#error "goro: no context switch for this architecture (add src/arch/switch_<arch>_<abi>_elf.S and frame_<arch>.h)"
#endif

extern "C" {
// Saves the current context in *save_sp and resumes to_sp; returns `pass` on
// the resumed side (the switcher's M).
void* goro_switch(void** save_sp, void* to_sp, void* pass);
void goro_trampoline();
}

namespace goro::rt {

using entry_fn = void (*)(void* m, void* arg);

// The frame of a suspended goroutine: one saved word at a byte offset.
inline std::uint64_t frame_word(const void* sp, std::size_t offset) noexcept {
  std::uint64_t w;
  std::memcpy(&w, static_cast<const char*>(sp) + offset, sizeof w);
  return w;
}
inline void set_frame_word(void* sp, std::size_t offset, std::uint64_t w) noexcept {
  std::memcpy(static_cast<char*>(sp) + offset, &w, sizeof w);
}

#if defined(__x86_64__)
// The layout of frame_x86_64.h, as goro_switch's code assumes it: the
// general registers in consecutive words, the control words in the first,
// the return address last, the whole a multiple of 16 bytes.
static_assert(GORO_FRAME_MXCSR == 0 && GORO_FRAME_X87CW == 4);
static_assert(GORO_FRAME_R15 == 8 && GORO_FRAME_R14 == 16 && GORO_FRAME_R13 == 24 && GORO_FRAME_R12 == 32 &&
              GORO_FRAME_RBX == 40 && GORO_FRAME_RBP == 48);
static_assert(GORO_FRAME_SAVED == GORO_FRAME_RBP + 8 && GORO_FRAME_RESUME == GORO_FRAME_SAVED &&
              GORO_FRAME_BYTES == GORO_FRAME_RESUME + 8);
static_assert(GORO_FRAME_BYTES % 16 == 0, "after the frame is popped, sp is 16-aligned");

inline void* make_context(void* top, entry_fn entry, void* arg) {
  auto* sp = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15}) - GORO_FRAME_BYTES;
  std::memset(sp, 0, GORO_FRAME_BYTES);
  std::uint32_t mxcsr;
  std::uint16_t fpcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  std::memcpy(sp + GORO_FRAME_MXCSR, &mxcsr, sizeof mxcsr);
  std::memcpy(sp + GORO_FRAME_X87CW, &fpcw, sizeof fpcw);
  set_frame_word(sp, GORO_FRAME_R12, reinterpret_cast<std::uint64_t>(entry));  // goro_trampoline calls *r12
  set_frame_word(sp, GORO_FRAME_R13, reinterpret_cast<std::uint64_t>(arg));    // with r13 as its argument
  set_frame_word(sp, GORO_FRAME_RESUME, reinterpret_cast<std::uint64_t>(&goro_trampoline));
  return sp;
}
#elif defined(__aarch64__)
// The layout of frame_aarch64.h, as goro_switch's stp/ldp pairs assume it.
static_assert(GORO_FRAME_X19 == 0 && GORO_FRAME_X20 == 8 && GORO_FRAME_X21 == 16 && GORO_FRAME_X23 == 32 &&
              GORO_FRAME_X25 == 48 && GORO_FRAME_X27 == 64);
static_assert(GORO_FRAME_FP == GORO_FRAME_X27 + 16 && GORO_FRAME_LR == GORO_FRAME_FP + 8);
static_assert(GORO_FRAME_D8 == GORO_FRAME_FP + 16 && GORO_FRAME_D10 == GORO_FRAME_D8 + 16 &&
              GORO_FRAME_D12 == GORO_FRAME_D10 + 16 && GORO_FRAME_D14 == GORO_FRAME_D12 + 16);
static_assert(GORO_FRAME_FPCR == GORO_FRAME_D14 + 16 && GORO_FRAME_BYTES >= GORO_FRAME_FPCR + 8);
static_assert(GORO_FRAME_BYTES % 16 == 0, "sp stays 16-aligned");

inline void* make_context(void* top, entry_fn entry, void* arg) {
  auto* sp = reinterpret_cast<char*>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15}) - GORO_FRAME_BYTES;
  std::memset(sp, 0, GORO_FRAME_BYTES);
  std::uint64_t fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  set_frame_word(sp, GORO_FRAME_X19, reinterpret_cast<std::uint64_t>(entry));  // goro_trampoline calls x19
  set_frame_word(sp, GORO_FRAME_X20, reinterpret_cast<std::uint64_t>(arg));    // with x20 as its argument
  set_frame_word(sp, GORO_FRAME_LR, reinterpret_cast<std::uint64_t>(&goro_trampoline));
  set_frame_word(sp, GORO_FRAME_FPCR, fpcr);
  return sp;
}
#endif

}  // namespace goro::rt
