// A function whose unwind tables lie, in a shared library of its own: while it spins, they say
// its frame is found through %rbp, which holds an address where nothing is mapped. An unwinder
// that follows them from a signal reads that address and faults, as one did in OpenSSL's
// libcrypto (see runtime/src/stack_capture.cpp).
//
// void brigade_spin_with_bad_unwind_tables(const volatile int* stop, volatile int* spinning):
// sets *spinning, then spins until *stop is non-zero.
        .text
        .globl  brigade_spin_with_bad_unwind_tables
        .type   brigade_spin_with_bad_unwind_tables, @function
brigade_spin_with_bad_unwind_tables:
        .cfi_startproc
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        movq    $16, %rbp
        .cfi_def_cfa %rbp, 16
        movl    $1, (%rsi)
1:
        pause
        movl    (%rdi), %eax
        testl   %eax, %eax
        jz      1b
        .cfi_def_cfa %rsp, 16
        popq    %rbp
        .cfi_def_cfa_offset 8
        ret
        .cfi_endproc
        .size   brigade_spin_with_bad_unwind_tables, .-brigade_spin_with_bad_unwind_tables
        .section .note.GNU-stack,"",@progbits
