/* The x86_64 platform registers a guest reaches through I/O ports: the
 * ACPI sleep, status and reset registers of our hardware-reduced FADT,
 * the pvpanic port, and the i8042's reset line (reboot=k). These are how
 * a guest ends itself, so each write is matched exactly. */
#include "x86_boot.h"
#include "x86_platform.h"

#include <string.h>

static void acpi_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	uint8_t v = *(uint8_t *)data;

	if (!is_write) {
		/* The sleep status register reads 0: never woken up. */
		memset(data, 0, len);
		return;
	}
	if (off == X86_ACPI_SLEEP_CTL_PORT - X86_ACPI_SLEEP_CTL_PORT) {
		/* SLP_EN (bit 5) with SLP_TYP (bits 4:2) = the \_S5 value. */
		if ((v & 0x20) && ((v >> 2) & 7) == X86_ACPI_S5_TYPE)
			vm_stop(vm, BHV_EXIT_POWEROFF, "guest powered off (ACPI S5)");
	} else if (off == X86_ACPI_RESET_PORT - X86_ACPI_SLEEP_CTL_PORT) {
		if (v == X86_ACPI_RESET_VALUE)
			vm_stop(vm, BHV_EXIT_REBOOT, "guest rebooted (ACPI reset)");
	}
}

static void pvpanic_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		/* Capabilities: PVPANIC_PANICKED only. */
		memset(data, 0, len);
		*(uint8_t *)data = 1;
		return;
	}
	if (*(uint8_t *)data & 1)
		vm_stop(vm, BHV_EXIT_CRASH, "guest kernel panic (pvpanic)");
}

static void i8042_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		/* Status and data 0: buffers empty, so the reset path's
		 * kb_wait() does not spin. */
		memset(data, 0, len);
		return;
	}
	if (off == X86_I8042_PORT - 0x60 && *(uint8_t *)data == 0xfe)
		vm_stop(vm, BHV_EXIT_REBOOT, "guest rebooted (i8042 reset)");
}

/* Port 0x80 (POST codes, used by Linux as a delay) and the 8259/PCI
 * probes need no device: unclaimed ports read as all ones. */
int x86_platform_init(struct vm *vm)
{
	if (bus_add(&vm->pio, X86_ACPI_SLEEP_CTL_PORT, 3, acpi_io, vm) < 0 ||
	    bus_add(&vm->pio, X86_PVPANIC_PORT, 1, pvpanic_io, vm) < 0 ||
	    bus_add(&vm->pio, 0x60, 5, i8042_io, vm) < 0)
		return -1;
	return 0;
}
