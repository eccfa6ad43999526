/* MemTotal of /proc/meminfo. It is read with open and read into a buffer
 * on the stack, not stdio: init calls this as PID 1, where a path that
 * reports an error must not allocate. */
#include <bulkhead/meminfo.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* MemTotal is /proc/meminfo's first line; the whole file is about 1.5 KiB. */
#define MEMINFO_READ_MAX 4096

int bh_mem_total_from(const char *path, uint64_t *bytes, struct bh_error *err)
{
	char buf[MEMINFO_READ_MAX + 1], *line, *num, *end;
	unsigned long long kb;
	size_t len = 0;
	ssize_t n = 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	while (len < MEMINFO_READ_MAX && (n = read(fd, buf + len, MEMINFO_READ_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return bh_error(err, e, "read %s", path);
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	for (line = buf; line; line = (end = strchr(line, '\n')) ? end + 1 : NULL)
		if (!strncmp(line, "MemTotal:", 9))
			break;
	if (!line)
		return bh_error(err, 0, "read %s: no MemTotal line", path);
	for (num = line + 9; *num == ' ' || *num == '\t'; num++)
		;
	errno = 0;
	kb = strtoull(num, &end, 10);
	while (*end == ' ')
		end++;
	if (*num < '0' || *num > '9' || errno || strncmp(end, "kB", 2) || kb == 0 ||
	    kb > UINT64_MAX / 1024)
		return bh_error(err, errno, "read %s: MemTotal is not a size in kB above 0", path);
	*bytes = (uint64_t)kb * 1024;
	return 0;
}

int bh_mem_total(uint64_t *bytes, struct bh_error *err)
{
	return bh_mem_total_from("/proc/meminfo", bytes, err);
}
