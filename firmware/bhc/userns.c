/* User namespace id mappings: checked so that host root is never mapped,
 * and written by the (privileged) parent for the container's init. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int bhc_idmaps_check(const struct bhc_idmap *m, size_t n, const char *path, struct bh_error *err)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t hend = (uint64_t)m[i].host + m[i].size,
		         cend = (uint64_t)m[i].container + m[i].size;

		if (m[i].size == 0)
			return bh_error(err, 0, "%s[%zu].size: must not be 0", path, i);
		if (hend > UINT32_MAX || cend > UINT32_MAX)
			return bh_error(err, 0, "%s[%zu]: range runs past 2^32-1", path, i);
		/* A container whose ids include host root could own host files. */
		if (m[i].host == 0)
			return bh_error(err, 0,
			                "%s[%zu].hostID: maps host root (id 0) into the container",
			                path, i);
		for (size_t j = 0; j < i; j++) {
			if (m[i].container < m[j].container + m[j].size && m[j].container < cend)
				return bh_error(err, 0,
				                "%s[%zu]: container range overlaps entry %zu", path,
				                i, j);
			if (m[i].host < m[j].host + m[j].size && m[j].host < hend)
				return bh_error(err, 0, "%s[%zu]: host range overlaps entry %zu",
				                path, i, j);
		}
	}
	return 0;
}

int bhc_idmap_write(pid_t pid, const char *file, const struct bhc_idmap *m, size_t n,
                    struct bh_error *err)
{
	char path[64], text[BHC_MAX_IDMAPS * 40] = "";
	size_t len = 0;
	int fd;

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%u %u %u\n",
		                        m[i].container, m[i].host, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	/* The kernel takes the whole map in one write or not at all. */
	if (write(fd, text, len) != (ssize_t)len) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "write %s", path);
	}
	close(fd);
	return 0;
}
