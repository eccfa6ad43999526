/* A signal to the container's pid 1 that the kernel would drop.
 *
 * pid 1 of a pid namespace gets only the signals it catches (or blocks:
 * a blocked signal waits): one with the default action is dropped, even
 * from the host. `bhc start` returns once the container's program runs,
 * but the program installs its handlers a moment later, and on a busy
 * machine that moment can be milliseconds: a SIGTERM sent in between
 * (bhd stopping a workload it has just started) would be lost, and the
 * stop fall through to SIGKILL. So `bhc kill` waits up to a second for the
 * program to catch (or block, or ignore) the signal before sending it; a
 * program that never does gets it then, and drops it as on any runtime. */
#include "libbhc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HANDLER_WAIT_MS 1000

/* Reads the masks of /proc/<pid>/status; false when the process is gone. */
static bool read_masks(pid_t pid, uint64_t *handled, bool *ns_init)
{
	char path[64], line[256];
	FILE *f;
	bool seen = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	*handled = 0;
	*ns_init = false;
	while (fgets(line, sizeof(line), f)) {
		char *last;

		if (!strncmp(line, "SigBlk:", 7) || !strncmp(line, "SigIgn:", 7) ||
		    !strncmp(line, "SigCgt:", 7)) {
			*handled |= strtoull(line + 7, NULL, 16);
			seen = true;
		} else if (!strncmp(line, "NSpid:", 6)) {
			line[strcspn(line, "\n")] = 0;
			last = strrchr(line, '\t');
			*ns_init = last && !strcmp(last + 1, "1");
		}
	}
	fclose(f);
	return seen;
}

void bhc_wait_signal_handled(pid_t pid, int sig)
{
	struct timespec ms = {0, 1000 * 1000};
	uint64_t handled;
	bool ns_init;

	if (sig == SIGKILL || sig == SIGSTOP || sig < 1 || sig > 64)
		return;
	for (int i = 0; i < HANDLER_WAIT_MS; i++) {
		if (!read_masks(pid, &handled, &ns_init) || !ns_init ||
		    (handled & (1ULL << (sig - 1))))
			return;
		nanosleep(&ms, NULL);
	}
}
