################################################################################
# lz4: the LZ4 compression tool (the ACME example tree's package)
################################################################################

LZ4_VERSION = 1.10.0
LZ4_SOURCE = lz4_$(LZ4_VERSION).orig.tar.gz
# The library (lib/) is BSD-2-Clause, the command line (programs/)
# GPL-2.0-or-later; the installed program holds both.
LZ4_LICENSE = BSD-2-Clause AND GPL-2.0-or-later
LZ4_LICENSE_FILES = lib/LICENSE programs/COPYING
LZ4_CPE_ID = cpe:2.3:a:lz4_project:lz4:$(LZ4_VERSION):*:*:*:*:*:*:*
LZ4_PURL = pkg:github/lz4/lz4@v$(LZ4_VERSION)
LZ4_UPSTREAM_URL = https://github.com/lz4/lz4/releases/download/v$(LZ4_VERSION)/lz4-$(LZ4_VERSION).tar.gz
LZ4_SUPPLIER = Organization: LZ4 project (Yann Collet)
LZ4_DEBIAN_RELEASE = trixie
LZ4_DEBIAN_SOURCE = lz4:$(LZ4_SOURCE)
LZ4_DEPENDENCIES = musl
# Its stage's target/ folder goes onto the image, as its own component.
LZ4_ROOTFS = YES

# Only the program, static like the rest of the image; upstream's
# Makefile takes the flags as given.
define LZ4_BUILD_CMDS
	+$(Q)$(MAKE) -C $(LZ4_SRCDIR)/programs lz4 CC="$(TARGET_CC)" CFLAGS="$(TARGET_CFLAGS)" \
		LDFLAGS="$(TARGET_LDFLAGS)" >$(LZ4_BUILDDIR)/build.log 2>&1 || \
		{ tail -30 $(LZ4_BUILDDIR)/build.log; exit 1; }
endef

define LZ4_INSTALL_CMDS
	$(Q)install -D -m 0755 $(LZ4_SRCDIR)/programs/lz4 $(LZ4_STAGE)/target/usr/bin/lz4
	$(Q)$(TARGET_STRIP) --strip-all $(LZ4_STAGE)/target/usr/bin/lz4
endef

$(eval $(call package,lz4))
