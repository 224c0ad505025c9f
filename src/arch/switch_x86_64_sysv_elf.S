// Context switch for x86_64, System V ABI, ELF, GNU as.
//
// void* goro_switch(void** save_sp, void* to_sp, void* pass)
//
// Saves what the ABI makes callee-saved (rbx, rbp, r12-r15, the MXCSR control
// bits and the x87 control word) on the current stack, stores the stack
// pointer in *save_sp, loads to_sp and restores the same set from there.
// Returns `pass` on the resumed side (in rax), so the resumed code learns its
// thread's M without reading thread-local storage.
//
// The frame's layout is frame_x86_64.h's (C++ reads it through the same
// names; switch.hpp static_asserts it): the registers below the return
// address the caller's call pushed. It ends with `jmp *reg`, not `ret`: a
// `ret` onto another stack mispredicts in the return-stack buffer every time.
#include "frame_x86_64.h"

#if defined(__x86_64__)
        .text
        .globl  goro_switch
        .type   goro_switch, @function
        .align  16
goro_switch:
        .cfi_startproc
        subq    $GORO_FRAME_SAVED, %rsp
        movq    %r15, GORO_FRAME_R15(%rsp)
        movq    %r14, GORO_FRAME_R14(%rsp)
        movq    %r13, GORO_FRAME_R13(%rsp)
        movq    %r12, GORO_FRAME_R12(%rsp)
        movq    %rbx, GORO_FRAME_RBX(%rsp)
        movq    %rbp, GORO_FRAME_RBP(%rsp)
        stmxcsr GORO_FRAME_MXCSR(%rsp)
        fnstcw  GORO_FRAME_X87CW(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr GORO_FRAME_MXCSR(%rsp)
        fldcw   GORO_FRAME_X87CW(%rsp)
        movq    GORO_FRAME_R15(%rsp), %r15
        movq    GORO_FRAME_R14(%rsp), %r14
        movq    GORO_FRAME_R13(%rsp), %r13
        movq    GORO_FRAME_R12(%rsp), %r12
        movq    GORO_FRAME_RBX(%rsp), %rbx
        movq    GORO_FRAME_RBP(%rsp), %rbp
        movq    GORO_FRAME_RESUME(%rsp), %rcx
        addq    $GORO_FRAME_BYTES, %rsp
        movq    %rdx, %rax
        jmpq    *%rcx
        // The end of the switch, for the CPU profiler's signal handler: a
        // sample taken between the two labels is not unwound (the frame
        // is half-built and has no CFI describing it).
        .globl  goro_switch_end
        .hidden goro_switch_end
goro_switch_end:
        .cfi_endproc
        .size   goro_switch, .-goro_switch

// First instruction of every goroutine: r12 holds the entry function, r13
// its argument, rax the M passed by goro_switch. Calls entry(m, arg), which
// never returns.
        .globl  goro_trampoline
        .type   goro_trampoline, @function
        .align  16
goro_trampoline:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %rax, %rdi
        movq    %r13, %rsi
        callq   *%r12
        ud2
        .cfi_endproc
        .size   goro_trampoline, .-goro_trampoline

        .section .note.GNU-stack,"",@progbits
#endif
