/* The x86_64 guest's memory map and the structures a kernel finds at boot
 * without a BIOS: the zero page (bzImage), the PVH start info (vmlinux),
 * an e820 map, a GDT, identity page tables and ACPI tables. Everything
 * here only writes guest memory: no KVM call, so it is unit-tested. */
#ifndef BHV_X86_BOOT_H
#define BHV_X86_BOOT_H

#include "guest_mem.h"
#include "kernel.h"

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stdint.h>

/* Low memory: fixed places below 1 MiB. */
#define X86_GDT_ADDR       0x500ULL
#define X86_IDT_ADDR       0x520ULL
#define X86_PVH_INFO_ADDR  0x6000ULL
#define X86_PVH_MODS_ADDR  0x6040ULL
#define X86_PVH_MMAP_ADDR  0x6080ULL
#define X86_ZERO_PAGE_ADDR 0x7000ULL
#define X86_STACK_TOP      0x8ff0ULL
#define X86_PML4_ADDR      0x9000ULL
#define X86_PDPT_ADDR      0xa000ULL
#define X86_PD_ADDR        0xb000ULL /* four pages: 4 GiB in 2 MiB pages */
#define X86_CMDLINE_ADDR   0x20000ULL
#define X86_CMDLINE_MAX    0x10000ULL
#define X86_EBDA_ADDR      0x9fc00ULL
#define X86_ACPI_ADDR      0xe0000ULL /* RSDP first: the kernel scans here */
#define X86_ACPI_SIZE      0x10000ULL /* tables are < 8 KiB: bounded below */
#define X86_HIMEM_ADDR     0x100000ULL

/* Above RAM: the 32-bit hole holds the devices. */
#define X86_MMIO_GAP_START 0xc0000000ULL
#define X86_MMIO_GAP_END   0x100000000ULL
#define X86_VIRTIO_BASE    0xd0000000ULL
#define X86_IOAPIC_ADDR    0xfec00000ULL
#define X86_LAPIC_ADDR     0xfee00000ULL
#define X86_IDENTITY_MAP   0xfffbc000ULL /* KVM_SET_IDENTITY_MAP_ADDR (VMX) */
#define X86_TSS_ADDR       0xfffbd000ULL /* KVM_SET_TSS_ADDR (VMX) */

/* I/O ports the platform traps: ACPI sleep control, status and reset
 * registers (FADT, hardware-reduced), pvpanic, the i8042 reset line. */
#define X86_ACPI_SLEEP_CTL_PORT 0x600
#define X86_ACPI_SLEEP_STS_PORT 0x601
#define X86_ACPI_RESET_PORT     0x602
#define X86_ACPI_RESET_VALUE    0x1
#define X86_ACPI_S5_TYPE        5
#define X86_PVPANIC_PORT        0x505
#define X86_GED_GSI             15 /* the Generic Event Device: power button */
#define X86_I8042_PORT          0x64
#define X86_COM1_PORT           0x3f8
#define X86_COM1_IRQ            4

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_MAX      8

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

/* The guest's RAM regions for mem bytes: below the 32-bit hole and, for
 * larger guests, above 4 GiB. Fills gm (without host addresses). */
void x86_ram_regions(uint64_t mem, struct guest_mem *gm);

/* The e820 map for a guest with the RAM of gm; returns the count. */
int x86_e820(const struct guest_mem *gm, struct e820_entry *e, int max);

/* Where the initrd goes: as high as possible in RAM below 4 GiB (and
 * below max_addr), above the kernel's load_end. -1 when it does not fit. */
int x86_place_initrd(const struct guest_mem *gm, uint64_t size, uint64_t load_end,
                     uint64_t max_addr, uint64_t *addr);

/* Writes the command line at X86_CMDLINE_ADDR; max is the kernel's limit. */
int x86_write_cmdline(const struct guest_mem *gm, const char *cmdline, uint64_t max,
                      struct bh_error *err);

/* The bzImage zero page (boot_params) at X86_ZERO_PAGE_ADDR. */
int x86_write_zero_page(const struct guest_mem *gm, const struct kernel_info *ki,
                        uint64_t initrd_addr, uint64_t initrd_size, uint64_t rsdp,
                        struct bh_error *err);

/* The PVH hvm_start_info, its module list and memory map. */
int x86_write_pvh_info(const struct guest_mem *gm, uint64_t initrd_addr, uint64_t initrd_size,
                       uint64_t rsdp, struct bh_error *err);

/* GDT at X86_GDT_ADDR: selector 0x10 code (64-bit when long_mode, else
 * 32-bit), 0x18 data, 0x20 TSS, as both boot protocols want. */
#define X86_CODE_SEL 0x10
#define X86_DATA_SEL 0x18
#define X86_TSS_SEL  0x20
int x86_write_gdt(const struct guest_mem *gm, bool long_mode, uint64_t gdt[5]);

/* The real-mode reset vector (0xffff0): what a BIOS would run after a
 * reset. Linux on hardware-reduced ACPI reboots through "EFI", then the
 * BIOS path, which jumps here; the stub pulses the i8042 reset line, which
 * ends the VM as a reboot. */
#define X86_RESET_VECTOR 0xffff0ULL
int x86_write_reset_vector(const struct guest_mem *gm);

/* Identity page tables for the first 4 GiB, rooted at X86_PML4_ADDR. */
int x86_write_page_tables(const struct guest_mem *gm);

/* The devices the DSDT describes. */
struct acpi_devices {
	bool com1;
	unsigned ged_gsi; /* the power button's interrupt, or 0 for none */
	int n_virtio;
	uint64_t virtio_base[8];
	unsigned virtio_irq[8];
};

/* ACPI: RSDP, XSDT, FADT (hardware-reduced: sleep and reset registers in
 * the ports above), DSDT (\_S5, COM1, pvpanic, power button, virtio-mmio) and MADT for
 * ncpus. Written at X86_ACPI_ADDR; returns the RSDP's address in *rsdp. */
int acpi_write_tables(const struct guest_mem *gm, int ncpus, const struct acpi_devices *devs,
                      uint64_t *rsdp, struct bh_error *err);

#endif
