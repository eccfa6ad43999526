################################################################################
# yyjson: every JSON our programs read or write
################################################################################

YYJSON_VERSION = 0.10.0
# Debian's orig is upstream's 0.10.0 tag with non-source test data removed
# ("+ds"); upstream publishes no release tarball with a checksum to pin.
YYJSON_SOURCE = yyjson_$(YYJSON_VERSION)+ds.orig.tar.xz
YYJSON_LICENSE = MIT
YYJSON_LICENSE_FILES = LICENSE
YYJSON_CPE_ID = cpe:2.3:a:ibireme:yyjson:$(YYJSON_VERSION):*:*:*:*:*:*:*
YYJSON_PURL = pkg:github/ibireme/yyjson@$(YYJSON_VERSION)
YYJSON_UPSTREAM_URL = https://github.com/ibireme/yyjson/archive/refs/tags/$(YYJSON_VERSION).tar.gz
YYJSON_SUPPLIER = Organization: yyjson project (ibireme)
YYJSON_DEBIAN_RELEASE = trixie
YYJSON_DEBIAN_SOURCE = yyjson:$(YYJSON_SOURCE)
YYJSON_DEPENDENCIES = musl

define YYJSON_BUILD_CMDS
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) -c $(YYJSON_SRCDIR)/src/yyjson.c -o $(YYJSON_BUILDDIR)/yyjson.o
	$(Q)rm -f $(YYJSON_BUILDDIR)/libyyjson.a
	$(Q)$(TARGET_AR) rcD $(YYJSON_BUILDDIR)/libyyjson.a $(YYJSON_BUILDDIR)/yyjson.o
endef

define YYJSON_INSTALL_CMDS
	$(Q)install -D -m 0644 $(YYJSON_BUILDDIR)/libyyjson.a $(YYJSON_STAGE)/lib/libyyjson.a
	$(Q)install -D -m 0644 $(YYJSON_SRCDIR)/src/yyjson.h $(YYJSON_STAGE)/include/yyjson.h
endef

$(eval $(call package,yyjson))

# For the unit tests and host tools.
define HOST_YYJSON_BUILD_CMDS
	$(Q)gcc -O2 -fPIC -c $(HOST_YYJSON_SRCDIR)/src/yyjson.c -o $(HOST_YYJSON_BUILDDIR)/yyjson.o
	$(Q)rm -f $(HOST_YYJSON_BUILDDIR)/libyyjson.a
	$(Q)ar rcD $(HOST_YYJSON_BUILDDIR)/libyyjson.a $(HOST_YYJSON_BUILDDIR)/yyjson.o
endef

define HOST_YYJSON_INSTALL_CMDS
	$(Q)install -D -m 0644 $(HOST_YYJSON_BUILDDIR)/libyyjson.a $(HOST_YYJSON_STAGE)/lib/libyyjson.a
	$(Q)install -D -m 0644 $(HOST_YYJSON_SRCDIR)/src/yyjson.h $(HOST_YYJSON_STAGE)/include/yyjson.h
endef

$(eval $(call host-package,yyjson))
