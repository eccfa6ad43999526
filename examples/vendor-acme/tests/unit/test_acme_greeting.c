/* acme-hello's greeting file (firmware/acme-hello/greeting.c): the first
 * line, without its newline; a missing file and an empty first line are
 * errors naming the file. An external tree's unit test: built and run by
 * make check like ours (tests/unit/unit.mk, "external-unit-tests"). */
#include "tap.h"

#include "greeting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], path[96];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

int main(void)
{
	char buf[64];
	struct bh_error err;
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/acme-greeting-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/hello.conf", dir);

	write_file("Hello from ACME\nsecond line\n");
	rc = acme_read_greeting(path, buf, sizeof(buf), &err);
	ok(rc == 0 && !strcmp(buf, "Hello from ACME"), "the first line, without its newline (%s)", buf);

	write_file("no newline at the end");
	rc = acme_read_greeting(path, buf, sizeof(buf), &err);
	ok(rc == 0 && !strcmp(buf, "no newline at the end"), "a last line without a newline (%s)", buf);

	write_file("\nsecond line\n");
	rc = acme_read_greeting(path, buf, sizeof(buf), &err);
	ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "no greeting"),
	   "an empty first line is an error naming the file (%s)", rc < 0 ? err.msg : buf);

	write_file("a greeting longer than the buffer it is read into");
	rc = acme_read_greeting(path, buf, 8, &err);
	ok(rc == 0 && !strcmp(buf, "a greet"), "a long line is cut to the buffer (%s)", buf);

	unlink(path);
	rc = acme_read_greeting(path, buf, sizeof(buf), &err);
	ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "No such file"),
	   "a missing file is an error naming it (%s)", rc < 0 ? err.msg : buf);
	rmdir(dir);
	return done();
}
