/* bh_mem_total (firmware/lib/meminfo.c): MemTotal in bytes wherever its
 * line stands, and an error naming the file for a file without one, a
 * size that is not one, or no file; on this machine it agrees with
 * sysinfo(2), which bhd used before. */
#include "tap.h"

#include <bulkhead/meminfo.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static char tmp[] = "/tmp/bh-meminfo.XXXXXX";
static char path[64];

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The error for text, or "" when it was read. */
static const char *refusal(const char *text, struct bh_error *err)
{
	uint64_t bytes = 7;

	put(text);
	err->msg[0] = 0;
	if (bh_mem_total_from(path, &bytes, err) == 0)
		return "";
	return bytes == 7 ? err->msg : "bytes written on an error";
}

int main(void)
{
	struct bh_error err;
	struct sysinfo si;
	uint64_t bytes = 0;
	int r;

	if (!mkdtemp(tmp))
		return 1;
	snprintf(path, sizeof(path), "%s/meminfo", tmp);

	put("MemTotal:        2030548 kB\nMemFree:         1500000 kB\n");
	r = bh_mem_total_from(path, &bytes, &err);
	ok(r == 0 && bytes == 2030548ull * 1024, "MemTotal in kB becomes bytes (%llu)",
	   (unsigned long long)bytes);
	put("MemFree:         1500000 kB\nMemTotal:\t4096 kB\n");
	bytes = 0;
	r = bh_mem_total_from(path, &bytes, &err);
	ok(r == 0 && bytes == 4096ull * 1024, "a MemTotal line that is not the first is found");

	ok(strstr(refusal("MemFree: 1 kB\nXMemTotal: 5 kB\n", &err), "no MemTotal line") &&
	       strstr(err.msg, path),
	   "a file without a MemTotal line is refused, by name: %s", err.msg);
	ok(strstr(refusal("MemTotal: 0 kB\n", &err), "MemTotal is not a size") != NULL,
	   "MemTotal 0 is refused: %s", err.msg);
	ok(*refusal("MemTotal: many kB\n", &err), "a MemTotal that is not a number is refused");
	ok(*refusal("MemTotal: -4 kB\n", &err), "a negative MemTotal is refused");
	ok(*refusal("MemTotal:\n4096 kB\n", &err), "a MemTotal line without its number is refused");
	ok(*refusal("MemTotal: 4096 MB\n", &err), "a MemTotal in another unit is refused");
	ok(*refusal("MemTotal: 99999999999999999999 kB\n", &err),
	   "a MemTotal over 64 bits is refused");
	ok(*refusal("MemTotal: 18014398509481984 kB\n", &err),
	   "a MemTotal whose bytes overflow 64 bits is refused");

	unlink(path);
	ok(bh_mem_total_from(path, &bytes, &err) < 0 && err.code == ENOENT && strstr(err.msg, path),
	   "a missing file is an error naming it, with ENOENT: %s", err.msg);
	rmdir(tmp);

	r = bh_mem_total(&bytes, &err);
	if (sysinfo(&si) < 0)
		skip("/proc/meminfo agrees with sysinfo", "sysinfo failed");
	else
		ok(r == 0 && bytes == (uint64_t)si.totalram * si.mem_unit,
		   "/proc/meminfo's MemTotal is sysinfo's totalram (%llu bytes)",
		   (unsigned long long)bytes);
	return done();
}
