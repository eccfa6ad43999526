/* The file helpers of firmware/lib/fs.c: removing a tree never follows a
 * symlink out of it, the atomic write leaves the old or the new content
 * and no temporary file, reading a whole file refuses one larger than
 * asked, and a bounded log keeps one older part. (Walking in a root:
 * test_in_root.c.) */
#include "tap.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/bh-fs.XXXXXX";

static const char *at(const char *rel)
{
	static char path[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmp, rel);
	return path[i];
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static bool there(const char *rel)
{
	struct stat st;

	return lstat(at(rel), &st) == 0;
}

static void removing(void)
{
	mkdir(at("outside"), 0755);
	put("outside/keep", "x");
	mkdir(at("tree"), 0755);
	mkdir(at("tree/a"), 0755);
	mkdir(at("tree/a/b"), 0700);
	put("tree/a/b/file", "data");
	put("tree/top", "data");
	symlink(at("outside"), at("tree/a/link"));
	ok(bh_remove_tree(at("tree")) == 0 && !there("tree"), "a tree with nested folders is removed");
	ok(there("outside/keep"), "a symlink in it is removed, not followed");
	ok(bh_remove_tree(at("tree")) == 0, "removing what is not there is no error");
	put("plain", "x");
	ok(bh_remove_tree(at("plain")) == 0 && !there("plain"), "a plain file is removed too");
	mkdir(at("box"), 0755);
	put("box/one", "1");
	mkdir(at("box/two"), 0755);
	{
		int fd = open(at("box"), O_PATH | O_DIRECTORY | O_CLOEXEC);

		ok(fd >= 0 && bh_empty_folder(fd) == 0 && there("box") && !there("box/one") &&
			   !there("box/two"),
		   "emptying a folder (through an O_PATH fd) keeps the folder");
		if (fd >= 0)
			close(fd);
	}
}

static void writing(void)
{
	struct bh_error err = {0};
	size_t len = 0;
	char *text = NULL;
	struct stat st;

	ok(bh_write_atomic(at("state.json"), "old", 3, 0600, &err) == 0, "a new file is written");
	ok(bh_write_atomic(at("state.json"), "new!", 4, 0600, &err) == 0 &&
		   (text = bh_read_file(at("state.json"), 64, &len, &err)) && len == 4 &&
		   !strcmp(text, "new!"),
	   "a second write replaces it whole");
	free(text);
	ok(!there(".state.json.tmp"), "no temporary file is left");
	ok(stat(at("state.json"), &st) == 0 && (st.st_mode & 0777) == 0600, "with the mode asked");
	ok(bh_write_atomic(at("missing/x"), "x", 1, 0600, &err) < 0 && err.code == ENOENT &&
		   strstr(err.msg, "missing/x"),
	   "a file in a missing folder is an error naming it: %s", err.msg);
	mkdir(at("dir"), 0755);
	ok(bh_write_atomic(at("dir"), "x", 1, 0600, &err) < 0 && there("dir") && !there(".dir.tmp"),
	   "a rename that fails (a folder in the way) is an error and leaves no temporary file: %s",
	   err.msg);
}

static void reading(void)
{
	struct bh_error err = {0};
	size_t len = 1;
	char *text;

	put("eight", "12345678");
	text = bh_read_file(at("eight"), 8, &len, &err);
	ok(text && len == 8 && !strcmp(text, "12345678"), "a file of exactly max bytes is read");
	free(text);
	text = bh_read_file(at("eight"), 7, &len, &err);
	ok(!text && err.code == EFBIG && strstr(err.msg, "larger than 7 bytes"),
	   "one byte more than max is refused: %s", err.msg);
	put("empty", "");
	text = bh_read_file(at("empty"), 8, &len, &err);
	ok(text && len == 0 && text[0] == 0, "an empty file is an empty string");
	free(text);
	{
		static char big[300000];

		memset(big, 'x', sizeof(big) - 1);
		put("big", big);
		text = bh_read_file(at("big"), 1 << 20, &len, &err);
		ok(text && len == sizeof(big) - 1 && text[len - 1] == 'x' && text[len] == 0,
		   "a file larger than the first buffer grows it");
		free(text);
	}
	ok(!bh_read_file(at("nope"), 8, &len, &err) && err.code == ENOENT &&
		   strstr(err.msg, "nope"),
	   "a missing file is an error naming it: %s", err.msg);
}

static void logging(void)
{
	char *text;
	size_t len = 0;
	struct bh_error err;

	for (int i = 0; i < 3; i++)
		bh_log_append(at("svc.log"), "0123456789\n", 11, 25, 0600);
	text = bh_read_file(at("svc.log.1"), 64, &len, &err);
	ok(text && len == 22, "a log that would pass its limit moves to .1 (%zu bytes there)", len);
	free(text);
	text = bh_read_file(at("svc.log"), 64, &len, &err);
	ok(text && len == 11, "and a new one starts (%zu bytes)", len);
	free(text);
	for (int i = 0; i < 2; i++)
		bh_log_append(at("svc.log"), "abcdefghij\n", 11, 25, 0600);
	text = bh_read_file(at("svc.log.1"), 64, &len, &err);
	ok(text && len == 22 && !strncmp(text, "0123456789\nabcdefghij\n", 22),
	   "the older part is replaced, never grown: at most twice the limit on disk");
	free(text);
	bh_log_append(at("missing/svc.log"), "x\n", 2, 25, 0600);
	ok(!there("missing"), "a log that cannot be written is dropped quietly");
}

/* What bh_sync_tree fsyncs cannot be seen from here; what it visits can:
 * every file and folder once (counted), no symlink followed, and a
 * failure names the path. */
static void syncing(void)
{
	struct bh_error err = {0};
	int n;

	mkdir(at("sync"), 0755);
	mkdir(at("sync/a"), 0755);
	mkdir(at("sync/a/b"), 0700);
	put("sync/a/b/deep", "data");
	put("sync/a/one", "1");
	put("sync/top", "t");
	mkdir(at("sync/empty"), 0755);
	symlink(at("outside"), at("sync/a/out"));
	symlink("/nonexistent", at("sync/dangling"));
	n = bh_sync_tree(at("sync"), &err);
	ok(n == 7, "every file and folder of a tree is synced once, symlinks not followed (%d of 7): %s", n,
	   err.msg);
	ok(bh_sync_tree(at("sync/top"), &err) == 1, "a plain file is a tree of one");
	n = bh_sync_tree(at("sync/missing"), &err);
	ok(n == -1 && err.code == ENOENT && strstr(err.msg, "sync/missing"),
	   "a missing tree is an error that names it and keeps errno: %s", err.msg);
	ok(bh_sync_path(at("sync"), &err) == 0, "a folder is synced by its path");
	ok(bh_sync_path(at("sync/missing"), &err) < 0 && err.code == ENOENT &&
		   strstr(err.msg, "sync/missing"),
	   "syncing a missing path names it: %s", err.msg);
	bh_remove_tree(at("sync"));
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	removing();
	writing();
	reading();
	logging();
	syncing();
	bh_remove_tree(tmp);
	return done();
}
