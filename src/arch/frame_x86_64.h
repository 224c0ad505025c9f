/* frame_x86_64.h — the frame goro_switch leaves on a suspended goroutine's
 * stack (x86_64, System V ABI): byte offsets from the saved stack pointer.
 * The one source of the layout: switch_x86_64_sysv_elf.S saves and restores
 * through these names, and C++ (switch.hpp: make_context; traceback.cpp:
 * the unwinder's registers) reads them, with static_asserts in switch.hpp.
 * Plain #defines: the assembler includes this file too. */
#ifndef GORO_ARCH_FRAME_X86_64_H
#define GORO_ARCH_FRAME_X86_64_H

#define GORO_FRAME_MXCSR 0 /* SSE control/status (4 bytes) */
#define GORO_FRAME_X87CW 4 /* x87 control word (2 bytes) */
#define GORO_FRAME_R15 8
#define GORO_FRAME_R14 16
#define GORO_FRAME_R13 24 /* a new goroutine: its entry's argument */
#define GORO_FRAME_R12 32 /* a new goroutine: its entry function */
#define GORO_FRAME_RBX 40
#define GORO_FRAME_RBP 48
#define GORO_FRAME_SAVED 56  /* bytes goro_switch reserves below its return address */
#define GORO_FRAME_RESUME 56 /* the return address its caller's call pushed */
#define GORO_FRAME_BYTES 64  /* the whole frame; sp + BYTES is the resumed code's sp */

#endif
