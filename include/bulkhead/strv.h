/* A growable, NULL-terminated array of strings (firmware/lib/strv.c): the
 * lists of the SBOM model and of verification reports. */
#ifndef BULKHEAD_STRV_H
#define BULKHEAD_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
	char **v; /* v[n] is NULL once anything was pushed */
	size_t n, cap;
};

/* Appends a copy of str; -1 when out of memory. */
int strv_push(struct strv *s, const char *str);
void strv_free(struct strv *s);
bool strv_has(const struct strv *s, const char *str);
/* qsort's comparison of two char *: qsort(s.v, s.n, sizeof(char *), strv_cmp). */
int strv_cmp(const void *a, const void *b);

#endif
