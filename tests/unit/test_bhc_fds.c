/* --preserve-fds: the caller must hold every fd of the range (so that
 * none of bhc's own fds lands in it), and the init refuses a range that
 * holds one of bhc's own. */
#include "tap.h"

#include "libbhc.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	struct bh_error err = {0};
	int own[] = {-1, 9, 12};
	int a, b;

	/* Make fds 3 and 4 open and 5 closed, whatever the test inherited. */
	for (int fd = 3; fd < 64; fd++)
		close(fd);
	a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ok(a == 3 && b == 4, "fds 3 and 4 open");
	ok(bhc_preserved_fds_open(0, &err) == 0, "no preserved fds: nothing to check");
	ok(bhc_preserved_fds_open(2, &err) == 0, "fds 3 and 4 open: --preserve-fds 2 is accepted");
	ok(bhc_preserved_fds_open(3, &err) < 0 &&
	       strstr(err.msg, "--preserve-fds 3: fd 5 is not open"),
	   "fd 5 closed: --preserve-fds 3 is refused: %s", err.msg);
	ok(bhc_preserved_fds_check(6, own, 3, &err) == 0,
	   "bhc's fds 9 and 12 above 3..8: accepted");
	ok(bhc_preserved_fds_check(7, own, 3, &err) < 0 &&
	       strstr(err.msg, "--preserve-fds 7: fd 9 is one of bhc's own"),
	   "bhc's fd 9 inside 3..9: refused: %s", err.msg);
	ok(bhc_preserved_fds_check(0, own, 3, &err) == 0, "no preserved fds: nothing to refuse");
	return done();
}
