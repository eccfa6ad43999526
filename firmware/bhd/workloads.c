/* The table of installed workloads, which every part of bhd reads: a fixed
 * array of WORKLOADS_MAX entries, one per installed workload. */
#include "bhd.h"

#include <string.h>

struct workload workloads[WORKLOADS_MAX];

struct workload *workload_find(const char *name)
{
	for (int i = 0; i < WORKLOADS_MAX; i++)
		if (workloads[i].used && !strcmp(workloads[i].m.name, name))
			return &workloads[i];
	return NULL;
}

struct workload *workload_new(void)
{
	for (int i = 0; i < WORKLOADS_MAX; i++)
		if (!workloads[i].used) {
			memset(&workloads[i], 0, sizeof(workloads[i]));
			workloads[i].out_fd = workloads[i].tap_fd = -1;
			line_split_init(&workloads[i].out, LINE_SPLIT_MAX, true);
			return &workloads[i];
		}
	return NULL;
}

uint32_t workload_uid_base(const struct workload *w)
{
	return WORKLOAD_UID_BASE + (uint32_t)(w - workloads) * WORKLOAD_UID_RANGE;
}
