/* The limits a workload runs under when its manifest names none: a
 * manifest without "resources" must not be a way to starve the gateway
 * (issue 17). Containers get a share of the machine's memory, every
 * workload a pids.max; init's cap on /sys/fs/cgroup/workloads bounds them
 * all together. A manifest that names a limit keeps it. */
#include "bhd.h"

#include <bulkhead/meminfo.h>

#include <stdio.h>

/* A fork bomb stops here; a real service rarely needs more than a few
 * dozen. A VM's monitor needs a thread per vCPU and a few more. */
#define DEFAULT_PIDS_CONTAINER 256
#define DEFAULT_PIDS_VM        64
/* A container's memory.max: this share of RAM, at least the floor. */
#define DEFAULT_MEMORY_SHARE 4
#define DEFAULT_MEMORY_FLOOR (32ull << 20)

uint64_t workload_default_memory(void)
{
	struct bh_error no_meminfo;
	uint64_t total, share;

	if (bh_mem_total(&total, &no_meminfo) < 0)
		return 256ull << 20;
	share = total / DEFAULT_MEMORY_SHARE;
	return share < DEFAULT_MEMORY_FLOOR ? DEFAULT_MEMORY_FLOOR : share;
}

void workload_default_limits(struct wl_manifest *m)
{
	bool pids = !m->pids, memory = !m->memory && m->mode == WL_CONTAINER;

	if (pids)
		m->pids = m->mode == WL_VM ? DEFAULT_PIDS_VM : DEFAULT_PIDS_CONTAINER;
	if (memory)
		m->memory = workload_default_memory();
	if (pids && memory)
		bhd_log("bhd: %s: its manifest names no limits: pids.max %u, memory.max %lluM",
			m->name, m->pids, (unsigned long long)(m->memory >> 20));
	else if (pids)
		bhd_log("bhd: %s: its manifest names no pids limit: pids.max %u", m->name, m->pids);
	else if (memory)
		bhd_log("bhd: %s: its manifest names no memory limit: memory.max %lluM", m->name,
			(unsigned long long)(m->memory >> 20));
}
