/* The tar reader and the unpacker (container root filesystems, bundles):
 * every entry is read, and unpacked into a scratch folder that must never
 * be left. */
#include <bulkhead/bundle.h>
#include <bulkhead/tar.h>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

/* Empties the scratch folder; nftw with FTW_PHYS never follows a symlink. */
static void wipe(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	struct tar_reader r;
	struct tar_entry e;
	struct bh_error err;
	char buf[4096];
	FILE *f;
	int fd;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/bh-fuzz-tar-%d", (int)getpid());
		mkdir(dir, 0700);
	}
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	tar_reader_init(&r, f, "fuzz");
	r.max_entry_size = 1 << 20;
	while (tar_next(&r, &e, &err) > 0)
		while (tar_read(&r, buf, sizeof(buf), &err) > 0)
			;
	rewind(f);
	tar_reader_init(&r, f, "fuzz");
	r.max_entry_size = 1 << 20;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	untar_beneath(&r, fd, &err);
	close(fd);
	fclose(f);
	wipe(dir);
	return 0;
}
