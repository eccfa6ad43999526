################################################################################
# init: PID 1 of the host
################################################################################

INIT_SOURCES = main.c mounts.c sysctl.c data.c network.c watchdog.c power.c console.c \
	log.c service.c service_parse.c exec.c shutdown.c
INIT_INSTALL = sbin/init

$(eval $(call program,init))
