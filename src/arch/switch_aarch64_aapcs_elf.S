// Context switch for aarch64, AAPCS64, ELF, GNU as.
//
// void* goro_switch(void** save_sp, void* to_sp, void* pass)
//
// Saves the callee-saved registers of AAPCS64 (x19-x28, fp, lr, the low
// halves d8-d15) and FPCR, stores sp in *save_sp, loads to_sp, restores the
// same set and branches to the saved lr with `br` (not `ret`, so the return
// predictor is not trained on another stack). Returns `pass` in x0.
//
// The frame's layout is frame_aarch64.h's (C++ reads it through the same
// names; switch.hpp static_asserts it).
#include "frame_aarch64.h"
#if defined(__aarch64__)
        .text
        .globl  goro_switch
        .type   goro_switch, %function
        .align  4
goro_switch:
        .cfi_startproc
        sub     sp, sp, #GORO_FRAME_BYTES
        stp     x19, x20, [sp, #GORO_FRAME_X19]
        stp     x21, x22, [sp, #GORO_FRAME_X21]
        stp     x23, x24, [sp, #GORO_FRAME_X23]
        stp     x25, x26, [sp, #GORO_FRAME_X25]
        stp     x27, x28, [sp, #GORO_FRAME_X27]
        stp     x29, x30, [sp, #GORO_FRAME_FP]
        stp     d8, d9, [sp, #GORO_FRAME_D8]
        stp     d10, d11, [sp, #GORO_FRAME_D10]
        stp     d12, d13, [sp, #GORO_FRAME_D12]
        stp     d14, d15, [sp, #GORO_FRAME_D14]
        mrs     x9, fpcr
        str     x9, [sp, #GORO_FRAME_FPCR]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #GORO_FRAME_X19]
        ldp     x21, x22, [sp, #GORO_FRAME_X21]
        ldp     x23, x24, [sp, #GORO_FRAME_X23]
        ldp     x25, x26, [sp, #GORO_FRAME_X25]
        ldp     x27, x28, [sp, #GORO_FRAME_X27]
        ldp     x29, x30, [sp, #GORO_FRAME_FP]
        ldp     d8, d9, [sp, #GORO_FRAME_D8]
        ldp     d10, d11, [sp, #GORO_FRAME_D10]
        ldp     d12, d13, [sp, #GORO_FRAME_D12]
        ldp     d14, d15, [sp, #GORO_FRAME_D14]
        ldr     x9, [sp, #GORO_FRAME_FPCR]
        msr     fpcr, x9
        add     sp, sp, #GORO_FRAME_BYTES
        mov     x0, x2
        br      x30
        // The end of the switch, for the CPU profiler's signal handler: a
        // sample taken between the two labels is not unwound (the frame
        // is half-built and has no CFI describing it).
        .globl  goro_switch_end
        .hidden goro_switch_end
goro_switch_end:
        .cfi_endproc
        .size   goro_switch, .-goro_switch

// First instruction of every goroutine: x19 holds the entry function, x20
// its argument, x0 the M. Calls entry(m, arg), which never returns.
        .globl  goro_trampoline
        .type   goro_trampoline, %function
        .align  4
goro_trampoline:
        .cfi_startproc
        .cfi_undefined x30
        mov     x29, #0
        mov     x1, x20
        blr     x19
        brk     #0
        .cfi_endproc
        .size   goro_trampoline, .-goro_trampoline

        .section .note.GNU-stack,"",%progbits
#endif
