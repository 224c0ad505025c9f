// Context switch for aarch64, AAPCS64, ELF, GNU as.
//
// void* goro_switch(void** save_sp, void* to_sp, void* pass)
//
// Saves the callee-saved registers of AAPCS64 (x19-x28, fp, lr, the low
// halves d8-d15) and FPCR, stores sp in *save_sp, loads to_sp, restores the
// same set and branches to the saved lr with `br` (not `ret`, so the return
// predictor is not trained on another stack). Returns `pass` in x0.
//
// The frame (offsets from the saved sp; context.hpp checks them):
//   0: x19 x20  16: x21 x22  32: x23 x24  48: x25 x26  64: x27 x28
//   80: fp lr  96: d8 d9  112: d10 d11  128: d12 d13  144: d14 d15  160: fpcr
#if defined(__aarch64__)
        .text
        .globl  goro_switch
        .type   goro_switch, %function
        .align  4
goro_switch:
        .cfi_startproc
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        add     sp, sp, #176
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
