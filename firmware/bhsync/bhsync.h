/* Internal interfaces of bhsync, the fleet fetcher (include/bulkhead/sync.h). */
#ifndef BHSYNC_H
#define BHSYNC_H

#include <bulkhead/sync.h>

/* One poll (poll.c): fills res whatever happens; returns -1 when the
 * outcome is SYNC_FAILED. */
int sync_poll(const struct sync_request *q, struct sync_result *res);

/* The simulation's agent loop (agent.c). */
int agent_main(int argc, char **argv);

#endif
