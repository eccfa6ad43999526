################################################################################
# bhreport: the fleet reporter bhd keeps running as an unprivileged user; it
# publishes the device's status and events to the MQTT broker and passes
# the broker's sync and report commands on (include/bulkhead/report.h,
# docs/fleet.md). Built for the build host too, for the telemetry
# simulation and its host tests.
################################################################################

BHREPORT_SOURCES = main.c reporter.c queue.c sbom_info.c
BHREPORT_INSTALL = usr/libexec/bhreport
BHREPORT_HOST = YES
BHREPORT_SANITIZE = YES
BHREPORT_UNIT_TESTS = test_bhreport_queue
BHREPORT_UNIT_SOURCES = queue.c

$(eval $(call program,bhreport))
