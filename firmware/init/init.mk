################################################################################
# init: PID 1 of the host
################################################################################

INIT_SOURCES = main.c mounts.c shutdown.c
INIT_INSTALL = sbin/init

$(eval $(call program,init))
