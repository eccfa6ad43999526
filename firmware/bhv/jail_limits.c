/* The resource limits of the jailed monitor (jail.h): what bhv needs and
 * not much more, so that a monitor taken over by the guest can open no
 * more files, start no more threads and grow no file past its disks. */
#include "jail.h"

/* The descriptors the monitor holds at most, counted for the largest
 * configuration (8 vCPUs, 4 disks, net, rng, virtio console):
 *   before the VM: stdio 3, /dev/kvm, kernel, initrd, 4 disks, the tap,
 *     the jail uid's lock                                             11
 *   the VM: its fd, 8 vCPU fds                                         9
 *   7 virtio devices, each an interrupt and two queue eventfds        21
 *   platform interrupts (UART, power button; ARM64: GIC device, GPIO)  4
 *   the device thread: stop eventfd, epoll, signalfd                   3
 * 48 in all; 64 leaves room for what a library opens unasked. */
#define JAIL_NOFILE 64
/* Threads of the jail uid: the outer process, the monitor's main
 * (device) thread and one per vCPU, plus the spare pids.max grants. */
#define JAIL_NPROC_SPARE 4
/* The monitor writes to its disks (never past their end) and to its
 * stdout, which may be a file: that file may grow this far. */
#define JAIL_FSIZE_MIN (64ULL << 20)

void jail_limits_for(const struct bhv_config *cfg, uint64_t largest_disk, struct jail_limits *out)
{
	out->nofile = JAIL_NOFILE;
	out->nproc = (uint64_t)cfg->cpus + JAIL_NPROC_SPARE;
	out->fsize = largest_disk > JAIL_FSIZE_MIN ? largest_disk : JAIL_FSIZE_MIN;
}
