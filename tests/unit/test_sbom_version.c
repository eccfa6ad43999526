/* Version ordering used by advisory ranges. */
#include "tap.h"

#include <bulkhead/sbom.h>

static void lt(const char *a, const char *b)
{
	ok(version_compare(a, b) < 0 && version_compare(b, a) > 0, "%s < %s", a, b);
}

int main(void)
{
	ok(version_compare("1.37.0", "1.37.0") == 0, "equal");
	lt("1.2", "1.2.0");
	lt("1.2.9", "1.2.10");
	lt("1.2", "1.2.1");
	lt("1.0rc1", "1.0");
	lt("1.0-rc1", "1.0");
	lt("1.0~beta", "1.0");
	lt("1.0alpha", "1.0beta");
	lt("2.5.6", "2.6.0");
	lt("6.12.9", "6.12.117");
	lt("1.37.0", "1.37.0-6");
	lt("0.9.9", "0.10.0");
	lt("3.6.6", "3.6.10");
	ok(version_compare("007", "7") == 0, "leading zeros do not count");
	return done();
}
