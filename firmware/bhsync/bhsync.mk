################################################################################
# bhsync: the fleet fetcher bhd starts for each poll of the registry
# (include/bulkhead/sync.h, docs/fleet.md). Built for the build host too, for
# the fleet simulation (tests/bench/bench_fleet.py, tests/integration).
################################################################################

BHSYNC_SOURCES = main.c poll.c agent.c

BHSYNC_INSTALL = usr/libexec/bhsync
BHSYNC_HOST = YES
BHSYNC_SANITIZE = YES

$(eval $(call program,bhsync))
