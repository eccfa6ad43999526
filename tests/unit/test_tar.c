/* The tar reader against hostile archives: bad checksums, paths that climb
 * out, absolute paths, huge sizes, truncation, and links that point out;
 * and the writer's output read back. Unpacking never leaves its folder. */
#include "tap.h"

#include <bulkhead/bundle.h>
#include <bulkhead/tar.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void header(unsigned char *b, const char *name, char type, unsigned long size,
		   const char *link)
{
	unsigned sum = 0;

	memset(b, 0, 512);
	snprintf((char *)b, 100, "%s", name);
	snprintf((char *)b + 100, 8, "%07o", 0644);
	snprintf((char *)b + 108, 8, "%07o", 0);
	snprintf((char *)b + 116, 8, "%07o", 0);
	snprintf((char *)b + 124, 12, "%011lo", size);
	snprintf((char *)b + 136, 12, "%011o", 0);
	b[156] = (unsigned char)type;
	if (link)
		snprintf((char *)b + 157, 100, "%s", link);
	memcpy(b + 257, "ustar", 6);
	memcpy(b + 263, "00", 2);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

static FILE *archive(const unsigned char *data, size_t len)
{
	FILE *f = tmpfile();

	fwrite(data, 1, len, f);
	rewind(f);
	return f;
}

static int first(const unsigned char *data, size_t len, struct tar_entry *e, struct bh_error *err)
{
	struct tar_reader r;
	FILE *f = archive(data, len);
	int rc;

	tar_reader_init(&r, f, "t.tar");
	rc = tar_next(&r, e, err);
	fclose(f);
	return rc;
}

static void bad_path(const char *name, const char *what)
{
	unsigned char b[1536] = {0};
	struct tar_entry e;
	struct bh_error err;

	header(b, name, '0', 0, NULL);
	ok(first(b, sizeof(b), &e, &err) < 0 && strstr(err.msg, "unsafe"), "refuses %s (%s)", what,
	   name);
}

int main(void)
{
	unsigned char b[4096];
	struct tar_entry e;
	struct bh_error err;
	char clean[64];

	ok(tar_clean_path("./a//b/./c/", clean, sizeof(clean)) && !strcmp(clean, "a/b/c"),
	   "clean_path normalises");
	ok(!tar_clean_path("a/../../etc", clean, sizeof(clean)), "clean_path refuses ..");
	ok(!tar_clean_path("/etc/passwd", clean, sizeof(clean)), "clean_path refuses absolute paths");

	memset(b, 0, sizeof(b));
	header(b, "./etc/hostname", '0', 5, NULL);
	memcpy(b + 512, "hello", 5);
	ok(first(b, sizeof(b), &e, &err) == 1 && !strcmp(e.path, "etc/hostname") && e.size == 5 &&
		   e.type == TAR_FILE,
	   "reads a file entry");
	b[0] ^= 1;
	ok(first(b, sizeof(b), &e, &err) < 0 && strstr(err.msg, "checksum"), "refuses a bad checksum");

	bad_path("../evil", "a path that climbs out");
	bad_path("a/../../evil", "a path that climbs out later");
	bad_path("/etc/shadow", "an absolute path");

	memset(b, 0, sizeof(b));
	header(b, "big", '0', 0, NULL);
	memcpy(b + 124, "77777777777", 11); /* 8 GiB - 1 */
	{
		unsigned sum = 0;

		memset(b + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += b[i];
		snprintf((char *)b + 148, 8, "%06o", sum);
	}
	{
		struct tar_reader r;
		FILE *f = archive(b, sizeof(b));

		tar_reader_init(&r, f, "t.tar");
		r.max_entry_size = 1 << 20;
		ok(tar_next(&r, &e, &err) < 0 && strstr(err.msg, "limit"), "refuses an entry over the limit");
		fclose(f);
	}
	memset(b, 0, sizeof(b));
	header(b, "f", '0', 4000, NULL);
	{
		struct tar_reader r;
		char buf[8192];
		FILE *f = archive(b, 1024);

		tar_reader_init(&r, f, "t.tar");
		ok(tar_next(&r, &e, &err) == 1 && tar_read(&r, buf, sizeof(buf), &err) < 0 &&
			   strstr(err.msg, "truncated"),
		   "a truncated archive is an error, not a short file");
		fclose(f);
	}
	memset(b, 0, sizeof(b));
	header(b, "h", '1', 0, "../../etc/shadow");
	ok(first(b, sizeof(b), &e, &err) < 0 && strstr(err.msg, "points outside"),
	   "refuses a hard link that points outside");

	/* Unpacking: a symlink planted first must not be followed by a later
	 * entry that writes through it. */
	{
		char dir[] = "/tmp/bh-untar-XXXXXX", path[128];
		struct tar_reader r;
		struct stat st;
		int rootfd, rc;
		FILE *f;

		mkdtemp(dir);
		memset(b, 0, sizeof(b));
		header(b, "escape", '2', 0, "/tmp");
		header(b + 512, "escape/owned", '0', 3, NULL);
		memcpy(b + 1024, "bad", 3);
		f = archive(b, sizeof(b));
		rootfd = open(dir, O_RDONLY | O_DIRECTORY);
		tar_reader_init(&r, f, "t.tar");
		rc = untar_beneath(&r, rootfd, &err);
		ok(rc < 0 && stat("/tmp/owned", &st) < 0, "a symlink in the archive is never followed: %s",
		   err.msg);
		fclose(f);
		memset(b, 0, sizeof(b));
		header(b, "dev/sda", '3', 0, NULL);
		f = archive(b, sizeof(b));
		tar_reader_init(&r, f, "t.tar");
		ok(untar_beneath(&r, rootfd, &err) < 0 && strstr(err.msg, "device node"),
		   "device nodes are refused");
		fclose(f);
		snprintf(path, sizeof(path), "rm -rf %s", dir);
		close(rootfd);
		if (system(path) != 0)
			diag("cleanup failed");
	}

	/* The writer's output reads back; a long path goes through pax. */
	{
		struct tar_writer w;
		struct tar_reader r;
		char longname[300], data[6];
		FILE *f = tmpfile();

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = 0;
		longname[100] = '/';
		tar_writer_init(&w, f, "w.tar", 0);
		ok(tar_write_file(&w, longname, 0600, "abcde", 5, &err) == 0 && tar_finish(&w, &err) == 0,
		   "writes a file with a 299-character path");
		rewind(f);
		tar_reader_init(&r, f, "w.tar");
		ok(tar_next(&r, &e, &err) == 1 && !strcmp(e.path, longname) && e.size == 5 &&
			   e.mode == 0600 && tar_read(&r, data, 5, &err) == 5 && !memcmp(data, "abcde", 5),
		   "reads it back through the pax header");
		ok(tar_next(&r, &e, &err) == 0, "then the end of the archive");
		fclose(f);
	}
	return done();
}
