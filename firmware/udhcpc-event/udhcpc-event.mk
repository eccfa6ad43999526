################################################################################
# udhcpc-event: the DHCP lease handler (production images have no shell to
# run udhcpc's usual script)
################################################################################

UDHCPC_EVENT_SOURCES = main.c
UDHCPC_EVENT_INSTALL = usr/libexec/bulkhead/udhcpc-event

$(eval $(call program,udhcpc-event))
