/* The machine's RAM (firmware/lib/meminfo.c), from which init, bhd and
 * bhc size their default memory limits. */
#ifndef BULKHEAD_MEMINFO_H
#define BULKHEAD_MEMINFO_H

#include <bulkhead/error.h>

#include <stdint.h>

/* MemTotal of /proc/meminfo in bytes: the RAM the kernel manages (what
 * sysinfo(2) calls totalram). */
int bh_mem_total(uint64_t *bytes, struct bh_error *err);

/* The same from a file in /proc/meminfo's format. An error names the file
 * when it cannot be read, has no MemTotal line, or says 0. */
int bh_mem_total_from(const char *path, uint64_t *bytes, struct bh_error *err);

#endif
