/* bhv syscalls: the seccomp allow-lists, per thread, and their union. */
#include "commands.h"
#include "policy.h"

#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cmd_syscalls(int argc, char **argv, struct bh_error *err)
{
	const char *seen[128];
	int n_seen = 0;

	for (int p = 0; p < POLICY_COUNT; p++) {
		int count = 0;

		printf("%s:", policy_name((enum policy)p));
		for (const char *const *s = policy_syscalls((enum policy)p); *s; s++) {
			bool dup = false;

			if (seccomp_syscall_resolve_name(*s) == __NR_SCMP_ERROR)
				continue;
			printf(" %s", *s);
			count++;
			for (int i = 0; i < n_seen && !dup; i++)
				dup = !strcmp(seen[i], *s);
			if (!dup && n_seen < 128)
				seen[n_seen++] = *s;
		}
		printf(" (%d)\n", count);
	}
	printf("total: %d distinct system calls\n", n_seen);
	return 0;
}
