/* A tiny real-mode guest (a helper, not a test) that
 * tests/integration/test_bhv_kvm.py assembles with the host's gcc and loads
 * with `bhv --kernel-format raw16` (at 0x8000, entered in real mode with
 * zero-based segments). It prints on COM1 and powers off through the ACPI
 * sleep control register. */
__asm__(".code16\n"
        ".globl _start\n"
        "_start:\n"
        "	mov $0x3f8, %dx\n"
        "	mov $msg, %si\n"
        "1:	lodsb\n"
        "	test %al, %al\n"
        "	jz 2f\n"
        "	out %al, %dx\n"
        "	jmp 1b\n"
        /* S5: SLP_TYP 5 in bits 4:2, SLP_EN (bit 5). */
        "2:	mov $0x600, %dx\n"
        "	mov $0x34, %al\n"
        "	out %al, %dx\n"
        "3:	hlt\n"
        "	jmp 3b\n"
        "msg:	.asciz \"real mode guest says hello\\n\"\n");
