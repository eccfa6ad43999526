/* An ARM PL061 GPIO controller (ARM DDI 0190) with the ARM64 guest's power
 * button on one input line, as QEMU's virt machine wires it: the device
 * tree's gpio-keys node turns the line into KEY_POWER in the guest. */
#ifndef BHV_GPIO_H
#define BHV_GPIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PL061_SIZE        0x1000
#define PL061_BUTTON_LINE 3

struct pl061 {
	pthread_mutex_t lock;
	int irq_fd; /* eventfd bound with KVM_IRQFD, or -1 */
	bool irq_high;
	uint8_t in;  /* levels we drive on the input lines */
	uint8_t out; /* levels the guest drives on its output lines */
	uint8_t dir, is, ibe, iev, ie, ris, afsel;
};

void pl061_init(struct pl061 *g, int irq_fd);
void pl061_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);
/* Drives input line (0 to 7) high or low, raising its interrupt as the
 * guest configured it. */
void pl061_set_line(struct pl061 *g, unsigned line, bool high);

#endif
