/* Writing a value into an existing file: cgroup knobs, id maps. Paths
 * inside the container's rootfs go through bh_open_in_root /
 * bh_mkdir_in_root (firmware/lib/fs.c), which resolve them with
 * openat2(RESOLVE_IN_ROOT). */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int bhc_write_file_at(int dirfd, const char *name, const char *text, struct bh_error *err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return bh_error(err, errno, "open %s", name);
	if (bh_write_all(fd, text, strlen(text)) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "write '%s' to %s", text, name);
	}
	close(fd);
	return 0;
}
