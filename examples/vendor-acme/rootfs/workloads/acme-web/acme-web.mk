################################################################################
# acme-web: a container bundle baked into the image (rootfs/workloads.mk),
# installed by bhd at first boot: acme-hello serving the greeting of
# rootfs/etc/acme/web.txt on port 8090 (manifest.json).
################################################################################

ACME_WEB_PROGRAMS = acme-hello

$(eval $(call workload-bundle,acme-web))
