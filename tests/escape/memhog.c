/* Payload for the cgroup v2 test: allocates and touches memory, 1 MiB at a
 * time, up to argv[1] MiB, printing its progress. Inside a container with
 * memory.max below that, the kernel's OOM killer must end it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	long want = argc > 1 ? atol(argv[1]) : 256;

	for (long i = 1; i <= want; i++) {
		char *p = malloc(1 << 20);

		if (!p) {
			printf("memhog: malloc failed at %ld MiB\n", i);
			return 2;
		}
		memset(p, (int)i, 1 << 20);
		if (i % 8 == 0) {
			printf("memhog: %ld MiB\n", i);
			fflush(stdout);
		}
	}
	printf("memhog: survived with %ld MiB\n", want);
	return 0;
}
