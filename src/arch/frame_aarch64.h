/* frame_aarch64.h — the frame goro_switch leaves on a suspended goroutine's
 * stack (aarch64, AAPCS64): byte offsets from the saved sp. The one source
 * of the layout: switch_aarch64_aapcs_elf.S saves and restores through these
 * names, and C++ (switch.hpp: make_context; traceback.cpp: the unwinder's
 * registers) reads them, with static_asserts in switch.hpp. Plain #defines:
 * the assembler includes this file too. */
#ifndef GORO_ARCH_FRAME_AARCH64_H
#define GORO_ARCH_FRAME_AARCH64_H

#define GORO_FRAME_X19 0 /* x19..x28 in pairs; a new goroutine: x19 its entry function */
#define GORO_FRAME_X20 8 /* a new goroutine: its entry's argument */
#define GORO_FRAME_X21 16
#define GORO_FRAME_X23 32
#define GORO_FRAME_X25 48
#define GORO_FRAME_X27 64
#define GORO_FRAME_FP 80 /* x29 */
#define GORO_FRAME_LR 88 /* x30: where goro_switch resumes */
#define GORO_FRAME_D8 96 /* d8..d15 (low halves of v8..v15), in pairs */
#define GORO_FRAME_D10 112
#define GORO_FRAME_D12 128
#define GORO_FRAME_D14 144
#define GORO_FRAME_FPCR 160
#define GORO_FRAME_BYTES 176 /* the whole frame (16-aligned); sp + BYTES is the resumed code's sp */

#endif
