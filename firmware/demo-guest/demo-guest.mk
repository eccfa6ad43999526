################################################################################
# demo-guest: PID 1 of the demo microVM's initramfs (packed with the board's
# kernel into a bundle by rootfs/workloads.mk, not installed on the host)
################################################################################

DEMO_GUEST_SOURCES = main.c

$(eval $(call program,demo-guest))
