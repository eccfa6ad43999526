/* The A/B root slots of disk.img (docs/update.md): GPT partitions
 * bulkhead-root-a and bulkhead-root-b, each a root filesystem and its
 * dm-verity tree. The root is mapped as /dev/dm-0 with the uuid
 * bulkhead-root-<slot>, which is how a running system knows its slot.
 * init reads it for its boot deadline, bhd to update the other slot. */
#ifndef BULKHEAD_SLOT_H
#define BULKHEAD_SLOT_H

/* The prefix of a slot's partition name and dm-verity uuid. */
#define BH_SLOT_PREFIX "bulkhead-root-"

/* 'a' or 'b': the slot the running root comes from; 0 when it comes from
 * no slot (a kernel booted directly with a plain root). */
char bh_running_slot(void);

#endif
