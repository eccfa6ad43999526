################################################################################
# musl: the C library of every target program, and with it the toolchain
################################################################################

MUSL_VERSION = 1.2.5
MUSL_SOURCE = musl-$(MUSL_VERSION).tar.gz
MUSL_SITE = https://musl.libc.org/releases
MUSL_LICENSE = MIT
MUSL_LICENSE_FILES = COPYRIGHT
MUSL_CPE_ID = cpe:2.3:a:musl-libc:musl:$(MUSL_VERSION):*:*:*:*:*:*:*
MUSL_PURL = pkg:generic/musl@$(MUSL_VERSION)?download_url=$(MUSL_SITE)/$(MUSL_SOURCE)
MUSL_SUPPLIER = Organization: musl libc project
MUSL_DEBIAN_RELEASE = trixie
MUSL_DEBIAN_SOURCE = musl:musl_$(MUSL_VERSION).orig.tar.gz
MUSL_DEPENDENCIES = linux-headers
# Every target package depends on musl, so they all inherit these flags as
# part of their keys.
MUSL_KEY_VARS = $(TARGET_CFLAGS_BASE) $(TARGET_LDFLAGS)

define MUSL_CONFIGURE_CMDS
	$(Q)cd $(MUSL_SRCDIR) && CC="$(CCACHE) $(TARGET_REAL_CC)" AR=$(TARGET_AR) RANLIB=$(TARGET_RANLIB) \
		CFLAGS="-O2 -ffile-prefix-map=$(MUSL_SRCDIR)=." \
		./configure --target=$(TARGET_TRIPLET) --prefix=/ --disable-shared \
		--disable-wrapper >$(MUSL_BUILDDIR)/configure.log
endef

define MUSL_BUILD_CMDS
	+$(Q)$(MAKE) -C $(MUSL_SRCDIR) >$(MUSL_BUILDDIR)/build.log
endef

# The kernel's UAPI headers go beside musl's so that programs see one
# include folder, like a libc sysroot.
define MUSL_INSTALL_HEADERS
	$(Q)cp -a $(LINUX_HEADERS_PREFIX)/include/. $(MUSL_STAGE)/include/
endef

# musl's own musl-gcc.specs, extended so that -static-pie links rcrt1.o
# without a dynamic loader: every target program is a static PIE.
define MUSL_INSTALL_SPECS
	$(Q)sed -e 's|@INC@|$(MUSL_PREFIX)/include|g' -e 's|@LIB@|$(MUSL_PREFIX)/lib|g' \
		$(MUSL_PKGDIR)/musl-gcc.specs.in > $(MUSL_STAGE)/lib/musl-gcc.specs
endef

# One compiler command per target, named by its triplet, the way build
# systems expect a cross compiler. Binutils come from Debian unchanged.
define MUSL_INSTALL_WRAPPERS
	$(Q)mkdir -p $(MUSL_STAGE)/bin
	$(Q)printf '#!/bin/sh\nexec %s -specs %s "$$@"\n' "$$(command -v $(TARGET_REAL_CC))" \
		$(MUSL_PREFIX)/lib/musl-gcc.specs > $(MUSL_STAGE)/bin/$(TARGET_TRIPLET)-gcc
	$(Q)chmod 0755 $(MUSL_STAGE)/bin/$(TARGET_TRIPLET)-gcc
	$(Q)for t in ar ranlib strip nm objcopy objdump readelf ld; do \
		ln -sf "$$(command -v $(TARGET_CROSS)$$t)" $(MUSL_STAGE)/bin/$(TARGET_TRIPLET)-$$t; done
endef

define MUSL_INSTALL_CMDS
	+$(Q)$(MAKE) -C $(MUSL_SRCDIR) install DESTDIR=$(MUSL_STAGE) >>$(MUSL_BUILDDIR)/build.log
	$(MUSL_INSTALL_HEADERS)
	$(MUSL_INSTALL_SPECS)
	$(MUSL_INSTALL_WRAPPERS)
endef

$(eval $(call package,musl))
