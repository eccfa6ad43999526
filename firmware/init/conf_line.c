/* The line format of init's configuration files, service files and
 * sysctl.conf: `key = value`, `#` starts a comment, blank lines are
 * skipped, spaces around key and value do not count. */
#include "init.h"

#include <ctype.h>
#include <string.h>

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int conf_line(char *line, char **key, char **value)
{
	char *eq;

	if (strchr(line, '#'))
		*strchr(line, '#') = 0;
	*key = trim(line);
	if (!**key)
		return 0;
	eq = strchr(*key, '=');
	if (!eq)
		return -1;
	*eq = 0;
	*value = trim(eq + 1);
	*key = trim(*key);
	return 1;
}
