# Every package recipe, in dependency order (a package's key is computed
# from its dependencies' keys, so they must be declared first).
include $(TOPDIR)/firmware/packages/linux-headers/linux-headers.mk
include $(TOPDIR)/firmware/packages/musl/musl.mk
include $(TOPDIR)/firmware/packages/linux/linux.mk
include $(TOPDIR)/firmware/packages/systemd-boot/systemd-boot.mk
include $(TOPDIR)/firmware/packages/busybox/busybox.mk
include $(TOPDIR)/firmware/packages/e2fsprogs/e2fsprogs.mk
include $(TOPDIR)/firmware/packages/libseccomp/libseccomp.mk
include $(TOPDIR)/firmware/packages/mbedtls/mbedtls.mk
include $(TOPDIR)/firmware/packages/curl/curl.mk
include $(TOPDIR)/firmware/packages/yyjson/yyjson.mk
include $(TOPDIR)/firmware/packages/libfdt/libfdt.mk
