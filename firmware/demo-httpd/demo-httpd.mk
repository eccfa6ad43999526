################################################################################
# demo-httpd: the demo container workload's program, a tiny static HTTP
# server (packed into a bundle by rootfs/workloads.mk, not installed on the
# host)
################################################################################

DEMO_HTTPD_SOURCES = main.c

$(eval $(call program,demo-httpd))
