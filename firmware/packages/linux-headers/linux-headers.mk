################################################################################
# linux-headers: the kernel's userspace API headers, for the musl toolchain
################################################################################

include $(TOPDIR)/firmware/packages/linux/linux-source.mk

LINUX_HEADERS_VERSION = $(LINUX_SOURCE_VERSION)
LINUX_HEADERS_SOURCE = $(LINUX_SOURCE_FILE)
LINUX_HEADERS_HASH_FILE = $(TOPDIR)/firmware/packages/linux/linux.hash
LINUX_HEADERS_DEBIAN_RELEASE = bookworm
LINUX_HEADERS_DEBIAN_BINARY = linux-source-6.12=$(LINUX_SOURCE_DEBIAN_VERSION)
LINUX_HEADERS_LICENSE = GPL-2.0-only WITH Linux-syscall-note
LINUX_HEADERS_LICENSE_FILES = COPYING LICENSES/preferred/GPL-2.0 LICENSES/exceptions/Linux-syscall-note
LINUX_HEADERS_CPE_ID = cpe:2.3:o:linux:linux_kernel:$(LINUX_SOURCE_VERSION):*:*:*:*:*:*:*
LINUX_HEADERS_PURL = pkg:deb/debian/linux-source-6.12@$(LINUX_SOURCE_DEBIAN_VERSION)?arch=all
LINUX_HEADERS_UPSTREAM_URL = $(LINUX_SOURCE_UPSTREAM_URL)
LINUX_HEADERS_SUPPLIER = Organization: Debian (linux-source-6.12), from kernel.org
LINUX_HEADERS_EXTRACT_CMDS = $(call linux-extract-deb,LINUX_HEADERS)

define LINUX_HEADERS_BUILD_CMDS
	+$(Q)$(MAKE) -C $(LINUX_HEADERS_SRCDIR) ARCH=$(KERNEL_ARCH) \
		O=$(LINUX_HEADERS_BUILDDIR)/build headers >$(LINUX_HEADERS_BUILDDIR)/build.log
endef

define LINUX_HEADERS_INSTALL_CMDS
	+$(Q)$(MAKE) -C $(LINUX_HEADERS_SRCDIR) ARCH=$(KERNEL_ARCH) \
		O=$(LINUX_HEADERS_BUILDDIR)/build headers_install \
		INSTALL_HDR_PATH=$(LINUX_HEADERS_STAGE) >>$(LINUX_HEADERS_BUILDDIR)/build.log
endef

$(eval $(call package,linux-headers))
