################################################################################
# curl: libcurl, the HTTP(S) client of the fleet registry (docs/fleet.md)
################################################################################

CURL_VERSION = 8.14.1
# Debian's orig is upstream's release tarball (Debian ships its signature
# beside it). Trixie's 8.14 rather than bookworm's 7.88: it calls
# psa_crypto_init() and speaks TLS 1.3 with Mbed TLS 3.6, and it has a year
# and a half of fixes more.
CURL_SOURCE = curl_$(CURL_VERSION).orig.tar.gz
CURL_LICENSE = curl
CURL_LICENSE_FILES = COPYING
CURL_CPE_ID = cpe:2.3:a:haxx:libcurl:$(CURL_VERSION):*:*:*:*:*:*:*
CURL_PURL = pkg:generic/curl@$(CURL_VERSION)?download_url=$(CURL_UPSTREAM_URL)
CURL_UPSTREAM_URL = https://curl.se/download/curl-$(CURL_VERSION).tar.gz
CURL_SUPPLIER = Organization: curl project (curl.se)
CURL_DEBIAN_RELEASE = trixie
CURL_DEBIAN_SOURCE = curl:$(CURL_SOURCE)
CURL_DEPENDENCIES = musl mbedtls

# HTTP and HTTPS over Mbed TLS and nothing else: every protocol, auth scheme,
# cookie jar, netrc, proxy, HSTS and alt-svc cache left out is code an
# attacker on the network cannot reach (most of curl's advisories since 7.88
# are in those parts). No built-in CA bundle or path: the caller always names
# its CA file. The threaded resolver keeps DNS inside curl's timeouts.
# --enable-ssls-export (curl_easy_ssls_export/_import, off by default) lets
# bhsync keep its TLS session tickets between polls, each a process of its
# own, so an unchanged poll resumes instead of paying a full handshake with
# the certificate chain (docs/fleet.md, "TLS session resumption"). Mbed
# TLS's default configuration already has what it needs: session tickets
# and the TLS 1.3 PSK key exchange modes. curl 8.14's configure still calls
# the export experimental: its format is curl's own, and a session a later
# curl or Mbed TLS cannot read costs that poll a full handshake, no more.
CURL_CONFIGURE_OPTS = --disable-shared --enable-static --disable-dependency-tracking \
	--with-mbedtls=$(1) --without-zlib --without-brotli --without-zstd --without-libpsl \
	--without-libidn2 --without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-librtmp \
	--without-libssh2 --without-libssh --without-libgsasl --disable-ares \
	--without-ca-bundle --without-ca-path --without-ca-fallback --disable-ca-search \
	--enable-http --disable-ftp --disable-file --disable-ipfs --disable-ldap --disable-ldaps \
	--disable-rtsp --disable-proxy --disable-dict --disable-telnet --disable-tftp --disable-pop3 \
	--disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
	--disable-websockets --disable-manual --disable-docs --disable-libcurl-option \
	--disable-digest-auth --disable-kerberos-auth --disable-negotiate-auth --disable-aws \
	--disable-ntlm --disable-tls-srp --disable-unix-sockets --disable-cookies --disable-doh \
	--disable-mime --disable-form-api --disable-netrc --disable-alt-svc --disable-hsts \
	--disable-httpsrr --disable-ech --enable-ssls-export --disable-dnsshuffle \
	--disable-progress-meter --disable-sspi --enable-threaded-resolver --enable-ipv6

define CURL_CONFIGURE_CMDS
	$(Q)cd $(CURL_SRCDIR) && $(TARGET_CONFIGURE_ENV) ./configure --host=$(TARGET_TRIPLET) \
		--prefix=/ $(call CURL_CONFIGURE_OPTS,$(MBEDTLS_PREFIX)) >$(CURL_BUILDDIR)/configure.log
endef

define CURL_BUILD_CMDS
	+$(Q)$(MAKE) -C $(CURL_SRCDIR)/lib libcurl.la >$(CURL_BUILDDIR)/build.log
endef

define CURL_INSTALL_CMDS
	$(Q)install -D -m 0644 $(CURL_SRCDIR)/lib/.libs/libcurl.a $(CURL_STAGE)/lib/libcurl.a
	$(Q)mkdir -p $(CURL_STAGE)/include/curl
	$(Q)cp $(CURL_SRCDIR)/include/curl/*.h $(CURL_STAGE)/include/curl/
endef

$(eval $(call package,curl))

# The same library for the build host (bhpack push, the unit and integration
# tests, the fleet simulation), against host-mbedtls: host tools run the
# device's HTTP code, not the build host's libcurl.
define HOST_CURL_CONFIGURE_CMDS
	$(Q)cd $(HOST_CURL_SRCDIR) && CC=gcc CFLAGS="-O2 -fPIC" ./configure --prefix=/ \
		$(call CURL_CONFIGURE_OPTS,$(HOST_MBEDTLS_PREFIX)) >$(HOST_CURL_BUILDDIR)/configure.log
endef

define HOST_CURL_BUILD_CMDS
	+$(Q)$(MAKE) -C $(HOST_CURL_SRCDIR)/lib libcurl.la >$(HOST_CURL_BUILDDIR)/build.log
endef

define HOST_CURL_INSTALL_CMDS
	$(Q)install -D -m 0644 $(HOST_CURL_SRCDIR)/lib/.libs/libcurl.a $(HOST_CURL_STAGE)/lib/libcurl.a
	$(Q)mkdir -p $(HOST_CURL_STAGE)/include/curl
	$(Q)cp $(HOST_CURL_SRCDIR)/include/curl/*.h $(HOST_CURL_STAGE)/include/curl/
endef

HOST_CURL_DEPENDENCIES = host-mbedtls

$(eval $(call host-package,curl))
