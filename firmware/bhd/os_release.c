/* What the running image says about itself in /etc/os-release: its board
 * (BULKHEAD_BOARD) and version (IMAGE_VERSION), which an update must
 * match and be newer than. */
#include "bhd.h"

#include <stdio.h>
#include <string.h>

/* A value of /etc/os-release, unquoted. */
int os_release(const char *key, char *out, size_t size)
{
	char line[256];
	size_t n = strlen(key);
	FILE *f = fopen("/etc/os-release", "re");
	int found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == '=') {
			char *v = line + n + 1;

			v[strcspn(v, "\n")] = 0;
			if (*v == '"' && strlen(v) >= 2) {
				v++;
				v[strlen(v) - 1] = 0;
			}
			snprintf(out, size, "%s", v);
			found = 0;
		}
	fclose(f);
	return found;
}
