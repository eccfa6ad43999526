/* The error convention: messages carry errno text and gain context as they
 * travel up, without overflowing their fixed buffer. */
#include "tap.h"

#include <bulkhead/error.h>

#include <errno.h>
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
	return done();
}
