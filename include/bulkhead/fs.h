/* Files and folders (firmware/lib/fs.c): removing a tree, writing a file
 * so that a power cut leaves the old or the new one whole, reading a whole
 * file, and opening or creating paths inside a root folder without ever
 * leaving it. */
#ifndef BULKHEAD_FS_H
#define BULKHEAD_FS_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Removes name under dirfd and, when it is a folder, everything in it.
 * A symlink is removed, never followed. 0 when it is gone (or was never
 * there), -1 with errno set when something could not be removed. */
int bh_remove_tree_at(int dirfd, const char *name);
/* The same for a path. */
int bh_remove_tree(const char *path);
/* Removes everything inside the folder open at fd; the folder stays. */
int bh_empty_folder(int fd);

/* Opens the folder of path (the current one for a bare name) and copies
 * its last component into base; -1 with errno set. */
int bh_open_parent(const char *path, char *base, size_t size);

/* write(2) until all of data is written, or -1 with errno. */
int bh_write_all(int fd, const void *data, size_t len);

/* Appends data to a bounded log file: when it would grow past max bytes,
 * the file becomes path.1 (replacing the older part) and a new one
 * starts. A log line that cannot be written is lost, without an error:
 * a full /run must never stop what is logging. */
void bh_log_append(const char *path, const void *data, size_t len, off_t max, mode_t mode);

/* Writes data as name in the folder dirfd: into a temporary file beside
 * it (.name.tmp), fsynced, renamed over name, then the folder fsynced.
 * After a power cut name holds the old or the new data, whole. */
int bh_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		       struct bh_error *err);
/* The same for a path. */
int bh_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct bh_error *err);

/* fsyncs every regular file and folder of the tree at path, each folder
 * after what is in it, the top one last; symlinks are entries of their
 * folder, which its fsync keeps. A symlink at path itself is not
 * followed. Returns how many files and folders were synced, or -1 with
 * err naming the first that could not be. */
int bh_sync_tree(const char *path, struct bh_error *err);

/* fsyncs the file or folder at path (a folder after a rename or unlink in
 * it, so that the change survives a power cut). */
int bh_sync_path(const char *path, struct bh_error *err);

/* A whole file in memory, NUL-terminated (free it); one larger than max
 * bytes is refused. *len (may be NULL) gets its length. */
char *bh_read_file(const char *path, size_t max, size_t *len, struct bh_error *err);

/* Paths inside a root folder (a container's rootfs, an unpacked bundle),
 * resolved with openat2(RESOLVE_IN_ROOT): a symlink planted in it (/proc
 * -> /, ../../etc) resolves inside it, never on the host. Without openat2
 * these fail rather than fall back to unsafe lookups. */

/* Opens path (absolute or relative, taken inside rootfd) with flags. */
int bh_open_in_root(int rootfd, const char *path, int flags, struct bh_error *err);

/* Creates the missing parts of path inside rootfd (the last one as an
 * empty file when file is true) and returns an O_PATH fd of it. */
int bh_mkdir_in_root(int rootfd, const char *path, bool file, struct bh_error *err);

#endif
