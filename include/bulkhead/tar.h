/* Streaming tar (POSIX ustar, with pax and GNU long names on input) for
 * workload bundles and container images. The reader is strict: every
 * header's checksum, size and path is checked, and a path is accepted only
 * when it stays inside the archive's root (no absolute path, no "..").
 * Only regular files, folders, symlinks and hard links are represented;
 * anything else (devices, FIFOs) is reported as such for the caller to
 * refuse. */
#ifndef BULKHEAD_TAR_H
#define BULKHEAD_TAR_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TAR_PATH_MAX 4096

enum tar_type { TAR_FILE, TAR_DIR, TAR_SYMLINK, TAR_HARDLINK, TAR_OTHER };

struct tar_entry {
	char path[TAR_PATH_MAX]; /* normalised: no leading "./" or "/", no trailing "/" */
	char link[TAR_PATH_MAX]; /* symlink target, or the hard link's source path */
	enum tar_type type;
	uint32_t mode;           /* permission bits only */
	uint64_t size;           /* bytes of data (files) */
	int64_t mtime;
};

struct tar_reader {
	FILE *f;
	const char *name;        /* for error messages */
	uint64_t pos;            /* bytes consumed */
	uint64_t left;           /* data bytes of the current entry not yet read */
	uint64_t pad;            /* padding after them */
	uint64_t max_entry_size; /* 0: no limit */
};

void tar_reader_init(struct tar_reader *r, FILE *f, const char *name);
/* 1: *e is the next entry, 0: end of archive, -1: error. Unread data of the
 * previous entry is skipped. */
int tar_next(struct tar_reader *r, struct tar_entry *e, struct bh_error *err);
/* Reads up to n bytes of the current entry's data; returns the count (0 at
 * its end) or -1. */
ssize_t tar_read(struct tar_reader *r, void *buf, size_t n, struct bh_error *err);

/* "a/./b//c/" → "a/b/c"; false for absolute paths, ".." components or an
 * empty result. */
bool tar_clean_path(const char *in, char *out, size_t size);

/* Unpacks the entries of r into the folder open at rootfd without ever
 * following a symlink or leaving the folder (firmware/lib/untar.c): only
 * files, folders, symlinks and hard links (device nodes and FIFOs are
 * refused); setuid and setgid bits are dropped. Everything is owned by the
 * caller. */
int untar_beneath(struct tar_reader *r, int rootfd, struct bh_error *err);
/* One entry (whose header tar_next just read) of the same. */
int untar_entry(struct tar_reader *r, int rootfd, const struct tar_entry *e, struct bh_error *err);

struct tar_writer {
	FILE *f;
	const char *name;
	int64_t mtime; /* every entry gets this time: reproducible archives */
};

void tar_writer_init(struct tar_writer *w, FILE *f, const char *name, int64_t mtime);
/* Owner is always 0:0. Long paths get a pax header. */
int tar_write_header(struct tar_writer *w, const char *path, enum tar_type type, uint32_t mode,
		     uint64_t size, const char *link, struct bh_error *err);
int tar_write_data(struct tar_writer *w, const void *buf, size_t n, struct bh_error *err);
/* Pads the last file's data to a block. */
int tar_end_entry(struct tar_writer *w, uint64_t size, struct bh_error *err);
int tar_write_file(struct tar_writer *w, const char *path, uint32_t mode, const void *data,
		   size_t size, struct bh_error *err);
int tar_finish(struct tar_writer *w, struct bh_error *err);

#endif
