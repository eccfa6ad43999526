/* Running the VM: the vCPU threads start, every thread installs its
 * seccomp filter, then the vCPUs are let go and the calling thread becomes
 * the device thread: an epoll loop over the queue-notify eventfds, the
 * console input, the tap and the stop signal. */
#include "policy.h"
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

enum {
	EV_STOP,
	EV_SIGNAL,
	EV_INPUT,
	EV_TAP,
	EV_QUEUE, /* + device index * VIRTIO_MAX_QUEUES + queue */
};

struct loop {
	struct vm *vm;
	int epfd, sigfd;
	bool tap_paused;
	bool button_pressed;    /* SIGTERM pressed the power button */
	int64_t button_release; /* when to release it (ms), 0 when up */
	uint8_t input[UART_FIFO];
	size_t n_input; /* console input the guest has not taken yet */
};

void vm_wait_start(struct vm *vm)
{
	pthread_mutex_lock(&vm->start_lock);
	while (!vm->started)
		pthread_cond_wait(&vm->start_cond, &vm->start_lock);
	pthread_mutex_unlock(&vm->start_lock);
}

static void release_vcpus(struct vm *vm)
{
	pthread_mutex_lock(&vm->start_lock);
	vm->started = true;
	pthread_cond_broadcast(&vm->start_cond);
	pthread_mutex_unlock(&vm->start_lock);
}

static int watch(struct loop *l, int fd, uint64_t tag, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup_loop(struct loop *l, struct bh_error *err)
{
	struct vm *vm = l->vm;
	sigset_t set;

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return bh_error(err, errno, "epoll_create1");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sigfd < 0)
		return bh_error(err, errno, "signalfd");
	if (watch(l, vm->stop_fd, EV_STOP, EPOLLIN) < 0 ||
	    watch(l, l->sigfd, EV_SIGNAL, EPOLLIN) < 0)
		return bh_error(err, errno, "epoll_ctl");
	/* Console input, when there is a console to take it. stdin may be a
	 * file or /dev/null, which epoll refuses: the guest then gets none. */
	if (vm->has_serial || vm->console)
		watch(l, STDIN_FILENO, EV_INPUT, EPOLLIN);
	if (vm->net && watch(l, vm->cfg->net_fd, EV_TAP, EPOLLIN) < 0)
		return bh_error(err, errno, "epoll_ctl tap");
	for (int i = 0; i < vm->n_virtio; i++)
		for (unsigned q = 0; q < vm->virtio[i]->ops->num_queues; q++)
			if (watch(l, vm->virtio[i]->notify_fd[q],
			          EV_QUEUE + (uint64_t)i * VIRTIO_MAX_QUEUES + q, EPOLLIN) < 0)
				return bh_error(err, errno, "epoll_ctl queue");
	return 0;
}

static void set_tap(struct loop *l, bool on)
{
	struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.u64 = EV_TAP};

	if (l->tap_paused == !on)
		return;
	l->tap_paused = !on;
	epoll_ctl(l->epfd, EPOLL_CTL_MOD, l->vm->cfg->net_fd, &ev);
}

/* Hands pending input to the console; the UART takes only what fits in
 * its FIFO, the rest waits (the loop then polls with a timeout). */
static void feed_input(struct loop *l)
{
	struct vm *vm = l->vm;
	size_t n;

	if (!l->n_input)
		return;
	if (vm->has_serial)
		n = arch_uart_input(vm, l->input, l->n_input);
	else
		n = virtio_console_input(vm->console, l->input, l->n_input);
	memmove(l->input, l->input + n, l->n_input - n);
	l->n_input -= n;
}

static void read_input(struct loop *l)
{
	ssize_t r;

	if (l->n_input)
		return;
	r = read(STDIN_FILENO, l->input, sizeof(l->input));
	if (r <= 0) {
		/* End of input: stop watching it (a closed terminal or pipe). */
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
		return;
	}
	l->n_input = (size_t)r;
	feed_input(l);
}

static void queue_event(struct loop *l, uint64_t tag)
{
	struct vm *vm = l->vm;
	unsigned dev = (unsigned)((tag - EV_QUEUE) / VIRTIO_MAX_QUEUES);
	unsigned q = (unsigned)((tag - EV_QUEUE) % VIRTIO_MAX_QUEUES);
	struct virtio_dev *d;
	uint64_t count;

	if (dev >= (unsigned)vm->n_virtio)
		return;
	d = vm->virtio[dev];
	if (read(d->notify_fd[q], &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	virtio_process(d, q);
	/* New receive buffers: frames waiting in the tap can go in now. */
	if (d == vm->net && q == 0 && l->tap_paused)
		set_tap(l, virtio_net_receive(d));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first SIGTERM presses the guest's power button: a guest that acts
 * on it powers off cleanly (status 0). SIGINT, SIGHUP and a second
 * SIGTERM stop the VM at once. */
static void signal_event(struct loop *l)
{
	static const char msg[] = "bhv: SIGTERM: pressing the guest's power button\n";
	struct signalfd_siginfo si;
	char why[64];

	if (read(l->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGTERM && !l->button_pressed && arch_power_button(l->vm, true)) {
		l->button_pressed = true;
		l->button_release = now_ms() + POWER_BUTTON_MS;
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* the press is what matters */
		}
		return;
	}
	snprintf(why, sizeof(why), "stopped by signal %u", si.ssi_signo);
	vm_stop(l->vm, BHV_EXIT_ERROR, why);
}

/* How long epoll may sleep: input waiting for room, a button to let go,
 * or console output tokens to give back. */
static int loop_timeout(struct loop *l)
{
	int64_t left;
	int wait;

	console_limit_refill(&l->vm->console_limit, now_ms());
	wait = console_limit_full(&l->vm->console_limit) ? -1 : CONSOLE_REFILL_MS;
	if (l->n_input && (wait < 0 || wait > 20))
		wait = 20;
	if (l->button_release) {
		left = l->button_release - now_ms();
		if (left <= 0) {
			arch_power_button(l->vm, false);
			l->button_release = 0;
		} else {
			return (int)(wait >= 0 && left > wait ? wait : left);
		}
	}
	return wait;
}

static void device_loop(struct loop *l)
{
	struct epoll_event ev[16];

	while (atomic_load(&l->vm->status) < 0) {
		int n = epoll_wait(l->epfd, ev, 16, loop_timeout(l));

		if (n < 0 && errno != EINTR)
			vm_stop(l->vm, BHV_EXIT_ERROR, "epoll_wait failed");
		if (l->n_input)
			feed_input(l);
		for (int i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;

			if (tag == EV_STOP)
				return;
			if (tag == EV_SIGNAL)
				signal_event(l);
			else if (tag == EV_INPUT)
				read_input(l);
			else if (tag == EV_TAP)
				set_tap(l, virtio_net_receive(l->vm->net));
			else
				queue_event(l, tag);
		}
	}
}

/* One line on stderr for what the limits dropped, so that the agent's
 * log says the guest was cut, and why. */
static void report_drops(struct vm *vm)
{
	uint64_t console = console_limit_dropped(&vm->console_limit);
	uint64_t net = vm->net ? virtio_net_tx_refused(vm->net) : 0;
	char msg[192];
	int n;

	if (console) {
		n = snprintf(msg, sizeof(msg),
		             "bhv: console: dropped %llu bytes of guest output over %d KiB/s\n",
		             (unsigned long long)console, CONSOLE_RATE / 1024);
		if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
			/* nothing else to tell it with */
		}
	}
	if (net) {
		n = snprintf(msg, sizeof(msg),
		             "bhv: net: dropped %llu frames whose header asked for an offload\n",
		             (unsigned long long)net);
		if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
			/* nothing else to tell it with */
		}
	}
}

static int start_vcpus(struct vm *vm, struct bh_error *err)
{
	sigset_t all, old;
	int r;

	/* vCPU threads take no asynchronous signals: the device thread owns
	 * them through its signalfd. */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < vm->ncpus; i++) {
		r = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			return bh_error(err, r, "start vCPU %d", i);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int vm_run(struct vm *vm, struct bh_error *err)
{
	struct loop l = {.vm = vm};
	sigset_t set;
	int status;

	/* In the background of a terminal, reading the console would stop
	 * the monitor (SIGTTIN): ignored, the read fails and input ends. */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	/* The signals the loop reads must never reach a default handler. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_mutex_init(&vm->start_lock, NULL);
	pthread_cond_init(&vm->start_cond, NULL);
	if (setup_loop(&l, err) < 0 || policy_prepare(err) < 0 || start_vcpus(vm, err) < 0)
		return -1;
	if (policy_enter(POLICY_DEVICE) < 0)
		return bh_error(err, errno, "install the device seccomp filter");
	console_limit_init(&vm->console_limit, CONSOLE_RATE, CONSOLE_BURST, now_ms());
	release_vcpus(vm);
	device_loop(&l);
	report_drops(vm);
	/* Whatever the guest wrote reaches the disk before we report. */
	for (int i = 0; i < vm->cfg->n_disks; i++)
		if (!vm->cfg->disks[i].read_only)
			fdatasync(vm->files->disks[i]);
	status = atomic_load(&vm->status);
	if (status == BHV_EXIT_ERROR)
		return bh_error(err, 0, "%s", vm->stop_reason);
	return status;
}
