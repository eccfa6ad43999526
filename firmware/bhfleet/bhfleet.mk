################################################################################
# bhfleet: the operator's view of a fleet (docs/fleet.md, "Telemetry"): the
# retained status of every gateway from the MQTT broker, one line each. A
# host tool only: it is not on the image.
################################################################################

BHFLEET_SOURCES = main.c collect.c show.c
BHFLEET_TARGET = NO
BHFLEET_SANITIZE = YES

$(eval $(call program,bhfleet))
