/* Opening and creating paths inside a root folder without leaving it
 * (firmware/lib/in_root.c). */
#ifndef BULKHEAD_IN_ROOT_H
#define BULKHEAD_IN_ROOT_H

#include <bulkhead/error.h>

#include <stdbool.h>

/* Opens path (absolute or relative, taken inside rootfd) with flags. */
int bh_open_in_root(int rootfd, const char *path, int flags, struct bh_error *err);

/* Creates the missing parts of path inside rootfd (the last one as an
 * empty file when file is true) and returns an O_PATH fd of it. */
int bh_mkdir_in_root(int rootfd, const char *path, bool file, struct bh_error *err);

#endif
