#ifndef ACME_GREETING_H
#define ACME_GREETING_H

#include <stddef.h>

#include <bulkhead/error.h>

/* Reads the first line of the file at path (without its newline) into
 * buf: the greeting the program says and serves. */
int acme_read_greeting(const char *path, char *buf, size_t size, struct bh_error *err);

#endif
