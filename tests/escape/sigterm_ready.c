/* A container's pid 1 with a SIGTERM handler, installed as its first act:
 * prints "term" and exits 0 when the signal arrives, exits 3 after 30 s
 * without it (its own alarm). The payload of the start/kill tests (test_bhc_conformance.py,
 * tests/e2e/test_container.py): a `bhc kill` right after `bhc start` must
 * reach this handler every time, which it cannot while the init is still
 * bhc's code (pid 1 without handlers: the kernel drops the signal). */
#include <signal.h>
#include <unistd.h>

static void on_term(int sig)
{
	(void)sig;
	write(1, "term\n", 5);
	_exit(0);
}

/* A pid 1 ignores SIGALRM too without a handler. */
static void on_alarm(int sig)
{
	(void)sig;
	_exit(3);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_term}, al = {.sa_handler = on_alarm};

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &al, NULL);
	alarm(30);
	for (;;)
		pause();
}
