################################################################################
# libseccomp: builds the seccomp filters of bhc and bhv
################################################################################

LIBSECCOMP_VERSION = 2.6.0
LIBSECCOMP_SOURCE = libseccomp-$(LIBSECCOMP_VERSION).tar.gz
LIBSECCOMP_SITE = https://github.com/seccomp/libseccomp/releases/download/v$(LIBSECCOMP_VERSION)
LIBSECCOMP_LICENSE = LGPL-2.1-only
LIBSECCOMP_LICENSE_FILES = LICENSE
LIBSECCOMP_CPE_ID = cpe:2.3:a:libseccomp_project:libseccomp:$(LIBSECCOMP_VERSION):*:*:*:*:*:*:*
LIBSECCOMP_PURL = pkg:github/seccomp/libseccomp@v$(LIBSECCOMP_VERSION)
LIBSECCOMP_SUPPLIER = Organization: libseccomp project
LIBSECCOMP_DEBIAN_RELEASE = trixie
LIBSECCOMP_DEBIAN_SOURCE = libseccomp:libseccomp_$(LIBSECCOMP_VERSION).orig.tar.gz
LIBSECCOMP_DEPENDENCIES = musl

# The release tarball ships the generated syscall tables, so gperf is not
# needed; only the static library is built, every program links it in.
define LIBSECCOMP_CONFIGURE_CMDS
	$(Q)cd $(LIBSECCOMP_SRCDIR) && $(TARGET_CONFIGURE_ENV) ./configure \
		--host=$(TARGET_TRIPLET) --prefix=/ --disable-shared --enable-static \
		--disable-python >$(LIBSECCOMP_BUILDDIR)/configure.log
endef

define LIBSECCOMP_BUILD_CMDS
	+$(Q)$(MAKE) -C $(LIBSECCOMP_SRCDIR)/src libseccomp.la >$(LIBSECCOMP_BUILDDIR)/build.log
endef

define LIBSECCOMP_INSTALL_CMDS
	$(Q)install -D -m 0644 $(LIBSECCOMP_SRCDIR)/src/.libs/libseccomp.a $(LIBSECCOMP_STAGE)/lib/libseccomp.a
	$(Q)install -D -m 0644 $(LIBSECCOMP_SRCDIR)/include/seccomp.h $(LIBSECCOMP_STAGE)/include/seccomp.h
	$(Q)install -D -m 0644 $(LIBSECCOMP_SRCDIR)/include/seccomp-syscalls.h \
		$(LIBSECCOMP_STAGE)/include/seccomp-syscalls.h
endef

$(eval $(call package,libseccomp))

# For the unit and integration tests of bhc and bhv on the build host.
define HOST_LIBSECCOMP_CONFIGURE_CMDS
	$(Q)cd $(HOST_LIBSECCOMP_SRCDIR) && CC=gcc CFLAGS="-O2 -fPIC" ./configure --prefix=/ \
		--disable-shared --enable-static --disable-python >$(HOST_LIBSECCOMP_BUILDDIR)/configure.log
endef

define HOST_LIBSECCOMP_BUILD_CMDS
	+$(Q)$(MAKE) -C $(HOST_LIBSECCOMP_SRCDIR)/src libseccomp.la >$(HOST_LIBSECCOMP_BUILDDIR)/build.log
endef

define HOST_LIBSECCOMP_INSTALL_CMDS
	$(Q)install -D -m 0644 $(HOST_LIBSECCOMP_SRCDIR)/src/.libs/libseccomp.a \
		$(HOST_LIBSECCOMP_STAGE)/lib/libseccomp.a
	$(Q)for h in seccomp.h seccomp-syscalls.h; do install -D -m 0644 \
		$(HOST_LIBSECCOMP_SRCDIR)/include/$$h $(HOST_LIBSECCOMP_STAGE)/include/$$h; done
endef

$(eval $(call host-package,libseccomp))
