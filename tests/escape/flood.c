/* Payload for the output-flood test (issue 17): writes lines to its
 * standard output as fast as it can, forever. Whoever reads them (bhd)
 * must stay responsive and keep only what its rate limit allows. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char line[128];

	for (unsigned long n = 0;; n++) {
		int len = snprintf(line, sizeof(line),
				   "flood: line %lu, written as fast as the pipe takes it ..........\n", n);

		if (write(1, line, (size_t)len) < 0)
			return 1;
	}
}
