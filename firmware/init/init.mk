################################################################################
# init: PID 1 of the host
################################################################################

INIT_SOURCES = main.c mounts.c sysctl.c data.c network.c watchdog.c power.c console.c \
	log.c service.c service_parse.c conf_line.c exec.c shutdown.c boot.c data_grow.c \
	data_check.c data_run.c
INIT_INSTALL = sbin/init

INIT_UNIT_TESTS = test_service_parse
INIT_UNIT_SOURCES = service_parse.c conf_line.c
INIT_FUZZERS = fuzz_init_service_parse

$(eval $(call program,init))
