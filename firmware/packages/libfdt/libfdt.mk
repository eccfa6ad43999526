################################################################################
# libfdt: builds the device trees bhv hands to ARM64 guests
################################################################################

LIBFDT_VERSION = 1.7.2
LIBFDT_SOURCE = dtc-$(LIBFDT_VERSION).tar.xz
LIBFDT_SITE = https://www.kernel.org/pub/software/utils/dtc
# libfdt itself (not dtc, which is GPL) is dual-licensed.
LIBFDT_LICENSE = GPL-2.0-or-later OR BSD-2-Clause
LIBFDT_LICENSE_FILES = README.license BSD-2-Clause GPL
LIBFDT_CPE_ID = cpe:2.3:a:dtc_project:dtc:$(LIBFDT_VERSION):*:*:*:*:*:*:*
LIBFDT_PURL = pkg:generic/dtc@$(LIBFDT_VERSION)?download_url=$(LIBFDT_SITE)/$(LIBFDT_SOURCE)
LIBFDT_SUPPLIER = Organization: dtc project (kernel.org)
LIBFDT_DEBIAN_RELEASE = trixie
LIBFDT_DEBIAN_SOURCE = device-tree-compiler:device-tree-compiler_$(LIBFDT_VERSION).orig.tar.xz
LIBFDT_DEPENDENCIES = musl

# Only the library: the sources listed by upstream's Makefile.libfdt.
define LIBFDT_BUILD_CMDS
	$(Q)cd $(LIBFDT_SRCDIR)/libfdt && \
		srcs=$$(printf 'include Makefile.libfdt\nprint-srcs:;@echo $$(LIBFDT_SRCS)\n' | MAKEFLAGS= $(MAKE) -s -f - print-srcs) && \
		for s in $$srcs; do \
			$(TARGET_CC) $(TARGET_CFLAGS) -I. -c $$s -o $(LIBFDT_BUILDDIR)/$${s%.c}.o || exit 1; \
		done
	$(Q)rm -f $(LIBFDT_BUILDDIR)/libfdt.a
	$(Q)$(TARGET_AR) rcD $(LIBFDT_BUILDDIR)/libfdt.a $(LIBFDT_BUILDDIR)/*.o
endef

define LIBFDT_INSTALL_CMDS
	$(Q)install -D -m 0644 $(LIBFDT_BUILDDIR)/libfdt.a $(LIBFDT_STAGE)/lib/libfdt.a
	$(Q)for h in fdt.h libfdt.h libfdt_env.h; do \
		install -D -m 0644 $(LIBFDT_SRCDIR)/libfdt/$$h $(LIBFDT_STAGE)/include/$$h; done
endef

$(eval $(call package,libfdt))

# For the unit tests of bhv's device tree on the build host.
define HOST_LIBFDT_BUILD_CMDS
	$(Q)cd $(HOST_LIBFDT_SRCDIR)/libfdt && \
		srcs=$$(printf 'include Makefile.libfdt\nprint-srcs:;@echo $$(LIBFDT_SRCS)\n' | MAKEFLAGS= $(MAKE) -s -f - print-srcs) && \
		for s in $$srcs; do gcc -O2 -fPIC -I. -c $$s -o $(HOST_LIBFDT_BUILDDIR)/$${s%.c}.o || exit 1; done
	$(Q)rm -f $(HOST_LIBFDT_BUILDDIR)/libfdt.a
	$(Q)ar rcD $(HOST_LIBFDT_BUILDDIR)/libfdt.a $(HOST_LIBFDT_BUILDDIR)/*.o
endef

define HOST_LIBFDT_INSTALL_CMDS
	$(Q)install -D -m 0644 $(HOST_LIBFDT_BUILDDIR)/libfdt.a $(HOST_LIBFDT_STAGE)/lib/libfdt.a
	$(Q)for h in fdt.h libfdt.h libfdt_env.h; do \
		install -D -m 0644 $(HOST_LIBFDT_SRCDIR)/libfdt/$$h $(HOST_LIBFDT_STAGE)/include/$$h; done
endef

$(eval $(call host-package,libfdt))
