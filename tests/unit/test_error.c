/* The error convention: messages carry errno text and gain context as they
 * travel up, without overflowing their fixed buffer. */
#include "tap.h"

#include <bulkhead/error.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct bh_error err;
	char longname[3000];

	ok(bh_error(&err, ENOENT, "open `%s`", "/x") == -1, "bh_error returns -1");
	ok(strcmp(err.msg, "open `/x`: No such file or directory") == 0, "message has errno text: %s",
	   err.msg);
	ok(err.code == ENOENT, "code is kept");
	bh_error_wrap(&err, "load config %d", 3);
	ok(strcmp(err.msg, "load config 3: open `/x`: No such file or directory") == 0,
	   "wrap prefixes context: %s", err.msg);
	bh_error(&err, 0, "plain");
	ok(strcmp(err.msg, "plain") == 0, "code 0 adds no errno text");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	bh_error(&err, EINVAL, "%s", longname);
	ok(strlen(err.msg) == BH_ERROR_MAX - 1, "long messages are truncated, not overflowed");
	bh_error_wrap(&err, "%s", longname);
	ok(strlen(err.msg) == BH_ERROR_MAX - 1, "long context is truncated, not overflowed");

	/* musl has no text for EUCLEAN (a damaged ext4 returns it): the
	 * message names it anyway, and an errno nobody knows says its number. */
	bh_error(&err, EUCLEAN, "mkdir %s", "/data/manifests");
	ok(strcmp(err.msg, "mkdir /data/manifests: Structure needs cleaning (EUCLEAN, errno 117)") == 0,
	   "EUCLEAN is named: %s", err.msg);
	bh_error(&err, 4000, "create %s", "x.tmp");
	ok(strcmp(err.msg, "create x.tmp: unknown error (errno 4000)") == 0,
	   "an unknown errno says its number: %s", err.msg);
	ok(strstr(bh_strerror(-5), "errno -5") != NULL, "a negative code says its number: %s",
	   bh_strerror(-5));
	ok(strcmp(bh_strerror(ENOENT), strerror(ENOENT)) == 0, "a known errno keeps libc's text");
	{
		int bad = 0;

		/* Every errno Linux defines has a text that is not libc's
		 * catch-all. */
		for (int e = 1; e <= EHWPOISON; e++) {
			const char *t = bh_strerror(e);

			if (!strcmp(t, "No error information") || !strncmp(t, "Unknown error", 13) ||
			    (!strncmp(t, "unknown error", 13) && e != 41 && e != 58)) {
				char line[160];

				snprintf(line, sizeof(line), "errno %d: %s", e, t);
				diag(line);
				bad++;
			}
		}
		ok(bad == 0, "every Linux errno 1..%d has a text (%d without)", EHWPOISON, bad);
	}
	return done();
}
