/* --preserve-fds N: fds 3 to 3+N-1 of the caller are handed to the
 * container's process. Both checks below keep one of bhc's own fds (the
 * state folder, the exec fifo, the container's cgroup, the socket to the
 * parent) out of that range: close_fds() in the init clears close-on-exec
 * on the whole range, so a host fd there would reach the workload. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>

/* In the caller, before bhc opens anything: every preserved fd is open,
 * so none of bhc's own fds can land in the range. */
int bhc_preserved_fds_open(int n, struct bh_error *err)
{
	for (int fd = 3; fd < 3 + n; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return bh_error(err, errno,
			                "--preserve-fds %d: fd %d is not open (fds 3 to %d must be "
			                "open in the caller)",
			                n, fd, 2 + n);
	return 0;
}

/* In the container's init, before close-on-exec is cleared: none of bhc's
 * own fds is in the range. */
int bhc_preserved_fds_check(int n, const int *own, size_t n_own, struct bh_error *err)
{
	for (size_t i = 0; i < n_own; i++)
		if (own[i] >= 3 && own[i] < 3 + n)
			return bh_error(err, 0, "--preserve-fds %d: fd %d is one of bhc's own", n,
			                own[i]);
	return 0;
}
