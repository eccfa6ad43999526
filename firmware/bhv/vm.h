/* A running microVM: the KVM objects, guest memory, the devices and the
 * threads. One vCPU thread per vCPU runs KVM_RUN and the register accesses
 * that exit to the monitor; the main thread is the device thread (queues,
 * console input, tap) once the guest runs. */
#ifndef BHV_VM_H
#define BHV_VM_H

#include "bus.h"
#include "config.h"
#include "gpio.h"
#include "guest_mem.h"
#include "kernel.h"
#include "serial.h"
#include "virtio/virtio.h"

#include <bulkhead/error.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define VM_MAX_VIRTIO 8

struct kvm_run;

struct vcpu {
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	struct vm *vm;
};

/* The files a VM needs, opened before the jail (which has no files). */
struct vm_files {
	int kvm;
	int kernel;
	int initrd; /* -1 without one */
	uint64_t initrd_size;
	int disks[BHV_MAX_DISKS];
	uint64_t largest_disk; /* bytes */
	struct kernel_info kernel_info;
};

struct vm {
	const struct bhv_config *cfg;
	struct vm_files *files;
	int kvm_fd, vm_fd;
	size_t run_size;
	struct guest_mem mem;
	uint64_t ram_base; /* where RAM starts (0 on x86_64) */
	struct bus pio, mmio;
	int ncpus;
	struct vcpu vcpus[BHV_MAX_CPUS];
	struct virtio_dev *virtio[VM_MAX_VIRTIO];
	int n_virtio;
	struct virtio_dev *console; /* virtio-console, or NULL */
	struct virtio_dev *net;     /* virtio-net, or NULL */
	struct uart_8250 uart;      /* x86_64 */
	struct pl011 pl011;         /* ARM64 */
	struct pl061 gpio;          /* ARM64: the power button */
	bool has_serial;
	struct console_limit console_limit; /* all guest console output */
	int button_fd; /* x86_64: eventfd of the power button's interrupt */
	char cmdline[BHV_CMDLINE_MAX];
	/* How the VM ended: -1 while running, then a BHV_EXIT_* status. The
	 * first vCPU to decide wins; stop_fd wakes the device thread. */
	atomic_int status;
	int stop_fd;
	char stop_reason[192];
	/* vCPU threads wait here until every thread has its seccomp filter. */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	bool started;
};

/* Opens and checks every file the config names; nothing is started. */
int vm_open_files(const struct bhv_config *cfg, struct vm_files *f, struct bh_error *err);

/* Creates the VM, loads the kernel and sets up the devices and vCPUs. */
int vm_create(struct vm *vm, const struct bhv_config *cfg, struct vm_files *f,
              struct bh_error *err);

/* Starts the vCPUs and runs the device loop until the guest stops;
 * returns a BHV_EXIT_* status. */
int vm_run(struct vm *vm, struct bh_error *err);

/* Ends the VM with status (first caller wins). Safe from any thread. */
void vm_stop(struct vm *vm, int status, const char *reason);

/* Registers a virtio device: an MMIO window, an interrupt line and the
 * eventfds for its queues. */
int vm_add_virtio(struct vm *vm, struct virtio_dev *d, struct bh_error *err);

/* The vCPU thread's body (vcpu.c), and the gate it waits at. */
void *vcpu_thread(void *arg);
void vm_wait_start(struct vm *vm);

/* --- Architecture ------------------------------------------------------- */

/* Guest RAM layout for the configured memory size. */
void arch_ram_regions(uint64_t mem, struct guest_mem *gm, uint64_t *ram_base);
/* VM-wide setup before the vCPUs exist (x86_64: irqchip, PIT, TSS). */
int arch_vm_init(struct vm *vm, struct bh_error *err);
/* Platform devices (UART, power registers) on the buses. */
int arch_devices(struct vm *vm, struct bh_error *err);
/* The address and interrupt of the n-th virtio-mmio device. */
void arch_virtio_slot(int n, uint64_t *base, unsigned *irq);
/* Per-vCPU setup (CPUID, MSRs, registers, or the arm64 vCPU init). */
int arch_vcpu_init(struct vm *vm, struct vcpu *v, struct bh_error *err);
/* VM-wide setup after the vCPUs exist (ARM64: the GIC). */
int arch_vm_finish(struct vm *vm, struct bh_error *err);
/* Loads kernel, initrd, command line and boot tables into guest memory. */
int arch_boot(struct vm *vm, struct bh_error *err);
/* Handles an exit the generic loop does not know; false to stop. */
bool arch_handle_exit(struct vcpu *v);
/* Presses (or releases) the guest's power button; false when there is
 * none. The device thread releases it POWER_BUTTON_MS after a press. */
#define POWER_BUTTON_MS 100
bool arch_power_button(struct vm *vm, bool pressed);
/* Feeds console input to the platform UART; returns bytes taken. */
size_t arch_uart_input(struct vm *vm, const uint8_t *buf, size_t len);

#endif
