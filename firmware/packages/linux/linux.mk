################################################################################
# linux: the 6.12 LTS kernel, from allnoconfig plus our fragments
################################################################################

include $(TOPDIR)/firmware/packages/linux/linux-source.mk

LINUX_VERSION = $(LINUX_SOURCE_VERSION)
LINUX_SOURCE = $(LINUX_SOURCE_FILE)
LINUX_DEBIAN_RELEASE = bookworm
LINUX_DEBIAN_BINARY = linux-source-6.12=$(LINUX_SOURCE_DEBIAN_VERSION)
LINUX_LICENSE = GPL-2.0-only WITH Linux-syscall-note
LINUX_LICENSE_FILES = COPYING LICENSES/preferred/GPL-2.0 LICENSES/exceptions/Linux-syscall-note
LINUX_CPE_ID = cpe:2.3:o:linux:linux_kernel:$(LINUX_VERSION):*:*:*:*:*:*:*
LINUX_PURL = pkg:deb/debian/linux-source-6.12@$(LINUX_SOURCE_DEBIAN_VERSION)?arch=all
LINUX_SUPPLIER = Organization: Debian (linux-source-6.12), from kernel.org
LINUX_EXTRACT_CMDS = $(call linux-extract-deb,LINUX)

# The configuration is allnoconfig plus these fragments, in this order:
# what every board needs, the hardening every board gets, then the
# architecture. There is no per-board fragment on purpose: one kernel per
# architecture, shared by every board and profile (and built once).
LINUX_FRAGMENTS = $(TOPDIR)/board/common/linux.fragment \
	$(TOPDIR)/board/common/linux-hardening.fragment \
	$(TOPDIR)/board/common/linux-$(BH_ARCH).fragment
LINUX_KEY_FILES = $(LINUX_FRAGMENTS)

# The version string carries the date of the last change to the kernel's
# inputs, not the build's: the same inputs give the same kernel.
LINUX_BUILD_EPOCH := $(shell git -C $(TOPDIR) log -1 --format=%ct -- \
	firmware/packages/linux board/common/linux*.fragment 2>/dev/null || echo 0)
# No ccache here: with the kernel's -Wp,-MMD dependency files it now and
# then leaves a .o.d file out (seen on ARM64 builds) and fixdep fails. The
# kernel is built once per set of inputs anyway (the shared artifacts).
LINUX_MAKE = $(MAKE) -C $(LINUX_SRCDIR) O=$(LINUX_BUILDDIR)/build ARCH=$(KERNEL_ARCH) \
	CROSS_COMPILE=$(TARGET_CROSS) CC="$(TARGET_REAL_CC)" \
	KBUILD_BUILD_TIMESTAMP="$$(date -u -d @$(or $(LINUX_BUILD_EPOCH),0))"

# A fragment line that Kconfig dropped (a missing dependency, a renamed
# symbol) stops the build here instead of shipping a kernel without it.
define LINUX_CONFIGURE_CMDS
	+$(Q)$(LINUX_MAKE) allnoconfig >$(LINUX_BUILDDIR)/configure.log
	$(Q)cat $(LINUX_FRAGMENTS) > $(LINUX_BUILDDIR)/fragments.config
	$(Q)$(LINUX_SRCDIR)/scripts/kconfig/merge_config.sh -m -O $(LINUX_BUILDDIR)/build \
		$(LINUX_BUILDDIR)/build/.config $(LINUX_BUILDDIR)/fragments.config >>$(LINUX_BUILDDIR)/configure.log
	+$(Q)$(LINUX_MAKE) olddefconfig >>$(LINUX_BUILDDIR)/configure.log
	$(Q)$(TOPDIR)/support/check-config.sh $(LINUX_BUILDDIR)/build/.config $(LINUX_FRAGMENTS)
endef

define LINUX_BUILD_CMDS
	+$(Q)$(LINUX_MAKE) $(KERNEL_IMAGE) vmlinux >$(LINUX_BUILDDIR)/build.log 2>&1 || \
		{ tail -30 $(LINUX_BUILDDIR)/build.log; echo "linux: build failed, see $(LINUX_BUILDDIR)/build.log" >&2; exit 1; }
endef

define LINUX_INSTALL_CMDS
	$(Q)cp $(LINUX_BUILDDIR)/build/$(KERNEL_IMAGE_PATH) $(LINUX_STAGE)/$(KERNEL_IMAGE)
	$(Q)cp $(LINUX_BUILDDIR)/build/.config $(LINUX_STAGE)/config
	$(Q)cp $(LINUX_BUILDDIR)/build/System.map $(LINUX_STAGE)/System.map
	$(Q)$(TARGET_CROSS)strip -o $(LINUX_STAGE)/vmlinux $(LINUX_BUILDDIR)/build/vmlinux
	$(Q)cat $(LINUX_BUILDDIR)/build/include/config/kernel.release > $(LINUX_STAGE)/kernel.release
endef

$(eval $(call package,linux))
