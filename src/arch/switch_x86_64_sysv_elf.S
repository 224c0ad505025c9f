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
// The frame (offsets from the saved stack pointer; context.hpp checks them):
//   0: mxcsr (4) + x87 cw (2)   8: r15   16: r14   24: r13   32: r12
//   40: rbx   48: rbp   56: resume address
// It ends with `pop; jmp *reg`, not `ret`: a `ret` onto another stack
// mispredicts in the return-stack buffer every time (PITFALLS.md).
#if defined(__x86_64__)
        .text
        .globl  goro_switch
        .type   goro_switch, @function
        .align  16
goro_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        popq    %rcx
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
