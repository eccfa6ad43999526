/* A token bucket over the guest's console output (serial and virtio
 * console together): a guest printing as fast as it can must not turn
 * into an unbounded stream on the agent's pipe. Output takes tokens; what
 * finds none is dropped and counted. Only the device thread refills (it
 * has the clock; vCPU threads make no system call for it). */
#ifndef BHV_CONSOLE_LIMIT_H
#define BHV_CONSOLE_LIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 64 KiB/s is several times what a 115200-baud UART carries; a burst of
 * 256 KiB lets a whole boot log through without quiet. */
#define CONSOLE_RATE  (64 * 1024)  /* bytes per second */
#define CONSOLE_BURST (256 * 1024) /* bytes */
/* How often the device thread refills while the bucket is not full. */
#define CONSOLE_REFILL_MS 100

struct console_limit {
	_Atomic int64_t tokens;
	_Atomic uint64_t dropped; /* bytes dropped since the start */
	int64_t rate, burst;
	int64_t last_ms; /* the last refill (device thread only) */
};

void console_limit_init(struct console_limit *l, int64_t rate, int64_t burst, int64_t now_ms);
/* How many of len bytes of output may go out now; the rest are counted
 * as dropped. A NULL limit lets everything through. Any thread. */
size_t console_limit_take(struct console_limit *l, size_t len);
/* Adds the tokens earned since the last refill (device thread). */
void console_limit_refill(struct console_limit *l, int64_t now_ms);
/* Whether the bucket is full (then no timed refill is needed). */
bool console_limit_full(struct console_limit *l);
uint64_t console_limit_dropped(struct console_limit *l);

#endif
