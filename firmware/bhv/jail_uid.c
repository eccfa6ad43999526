/* One jail uid per VM (jail.h): VMs that shared a uid could signal and
 * ptrace-probe each other's monitors after a compromise, and would share
 * one RLIMIT_NPROC count. A slot is taken with flock() on its own file in
 * a root-only folder under /run: the lock belongs to the open file, so it
 * goes away with the last process holding it (the monitor and its outer
 * process), crash or not, and no state can go stale. */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int jail_uid_allocate(const char *dir, uid_t base, unsigned slots, uid_t *uid, struct bh_error *err)
{
	struct stat st;
	int dfd, fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "create %s", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return bh_error(err, errno, "open %s", dir);
	/* Someone else's folder could hand out a slot that is in use. */
	if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(dfd);
		return bh_error(err, 0, "%s: not a folder only this user may write", dir);
	}
	for (unsigned i = 0; i < slots; i++) {
		char name[32];

		snprintf(name, sizeof(name), "uid-%u.lock", (unsigned)(base + i));
		fd = openat(dfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			int e = errno;

			close(dfd);
			return bh_error(err, e, "open %s/%s", dir, name);
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(dfd);
			*uid = base + i;
			return fd;
		}
		close(fd);
		if (errno != EWOULDBLOCK) {
			int e = errno;

			close(dfd);
			return bh_error(err, e, "lock %s/%s", dir, name);
		}
	}
	close(dfd);
	return bh_error(err, 0, "%s: all %u jail uids from %u are in use", dir, slots,
	                (unsigned)base);
}
