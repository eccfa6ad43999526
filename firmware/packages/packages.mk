# Every package recipe, in dependency order (a package's key is computed
# from its dependencies' keys, so they must be declared first).
include $(TOPDIR)/firmware/packages/linux-headers/linux-headers.mk
include $(TOPDIR)/firmware/packages/musl/musl.mk
# A board's own kernel options, board/<board>/linux.fragment (an external
# tree's board may have one; none of ours has, so that one kernel per
# architecture serves them all), after our fragments; part of the kernel's
# key, so such a board builds its own kernel.
LINUX_EXTRA_KEY_FILES := $(wildcard $(BOARD_DIR)/linux.fragment)
include $(TOPDIR)/firmware/packages/linux/linux.mk
LINUX_FRAGMENTS += $(LINUX_EXTRA_KEY_FILES)
include $(TOPDIR)/firmware/packages/systemd-boot/systemd-boot.mk
include $(TOPDIR)/firmware/packages/busybox/busybox.mk
include $(TOPDIR)/firmware/packages/e2fsprogs/e2fsprogs.mk
include $(TOPDIR)/firmware/packages/libseccomp/libseccomp.mk
include $(TOPDIR)/firmware/packages/mbedtls/mbedtls.mk
include $(TOPDIR)/firmware/packages/curl/curl.mk
include $(TOPDIR)/firmware/packages/yyjson/yyjson.mk
include $(TOPDIR)/firmware/packages/libfdt/libfdt.mk

# The external trees' recipes (BH_EXTERNAL), after ours, on which they may
# depend; within a tree, each after the ones it depends on
# (support/external.py orders them).
include $(foreach t,$(BH_EXTERNAL_NAMES),$(BH_EXTERNAL_$(t)_PACKAGE_MKS))
