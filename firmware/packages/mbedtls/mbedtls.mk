################################################################################
# mbedtls: signature checks of bundles and updates (3.6 LTS)
################################################################################

MBEDTLS_VERSION = 3.6.6
MBEDTLS_SOURCE = mbedtls-$(MBEDTLS_VERSION).tar.bz2
MBEDTLS_SITE = https://github.com/Mbed-TLS/mbedtls/releases/download/mbedtls-$(MBEDTLS_VERSION)
MBEDTLS_LICENSE = Apache-2.0 OR GPL-2.0-or-later
MBEDTLS_LICENSE_FILES = LICENSE
MBEDTLS_CPE_ID = cpe:2.3:a:arm:mbed_tls:$(MBEDTLS_VERSION):*:*:*:*:*:*:*
MBEDTLS_PURL = pkg:github/mbed-tls/mbedtls@mbedtls-$(MBEDTLS_VERSION)
MBEDTLS_SUPPLIER = Organization: Mbed TLS project (trustedfirmware.org)
MBEDTLS_DEBIAN_RELEASE = trixie
MBEDTLS_DEBIAN_SOURCE = mbedtls:mbedtls_$(MBEDTLS_VERSION).orig.tar.bz2
MBEDTLS_DEPENDENCIES = musl

# Upstream's default configuration; only the objects a program uses are
# linked into it, so unused algorithms cost nothing on the image.
define MBEDTLS_BUILD_CMDS
	+$(Q)$(MAKE) -C $(MBEDTLS_SRCDIR)/library CC="$(TARGET_CC)" AR="$(TARGET_AR)" \
		CFLAGS="$(TARGET_CFLAGS)" libmbedcrypto.a libmbedx509.a libmbedtls.a \
		>$(MBEDTLS_BUILDDIR)/build.log
endef

define MBEDTLS_INSTALL_CMDS
	$(Q)mkdir -p $(MBEDTLS_STAGE)/lib $(MBEDTLS_STAGE)/include
	$(Q)cp $(MBEDTLS_SRCDIR)/library/libmbed*.a $(MBEDTLS_STAGE)/lib/
	$(Q)cp -r $(MBEDTLS_SRCDIR)/include/mbedtls $(MBEDTLS_SRCDIR)/include/psa $(MBEDTLS_STAGE)/include/
endef

$(eval $(call package,mbedtls))

# For the unit tests and host tools (bhpack signs with it).
define HOST_MBEDTLS_BUILD_CMDS
	+$(Q)$(MAKE) -C $(HOST_MBEDTLS_SRCDIR)/library CC=gcc AR=ar CFLAGS="-O2 -fPIC" \
		libmbedcrypto.a libmbedx509.a libmbedtls.a >$(HOST_MBEDTLS_BUILDDIR)/build.log
endef

define HOST_MBEDTLS_INSTALL_CMDS
	$(Q)mkdir -p $(HOST_MBEDTLS_STAGE)/lib $(HOST_MBEDTLS_STAGE)/include
	$(Q)cp $(HOST_MBEDTLS_SRCDIR)/library/libmbed*.a $(HOST_MBEDTLS_STAGE)/lib/
	$(Q)cp -r $(HOST_MBEDTLS_SRCDIR)/include/mbedtls $(HOST_MBEDTLS_SRCDIR)/include/psa \
		$(HOST_MBEDTLS_STAGE)/include/
endef

$(eval $(call host-package,mbedtls))
