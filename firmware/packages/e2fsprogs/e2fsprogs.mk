################################################################################
# e2fsprogs: formats, checks, converts and grows the persistent /data
################################################################################

E2FSPROGS_VERSION = 1.47.2
# Debian's orig is upstream's release tarball (Debian ships its signature
# beside it). Trixie's 1.47.2: bookworm's 1.47.0 lacks a year of fixes to
# e2fsck's repairs of damaged extent trees and directories.
E2FSPROGS_SOURCE = e2fsprogs_$(E2FSPROGS_VERSION).orig.tar.gz
# The programs are GPL-2.0 (Debian reads the unversioned "GNU Public
# License" of some files as version 2); libext2fs, libe2p and libblkid
# LGPL-2.0; libuuid BSD-3-Clause; libcom_err MIT-style (Debian: Expat);
# lib/support/dict.c Kazlib. lib/support/profile.c is GPL or MIT-US-export:
# the GPL is taken.
E2FSPROGS_LICENSE = GPL-2.0-only AND LGPL-2.0-only AND BSD-3-Clause AND MIT AND Kazlib
E2FSPROGS_LICENSE_FILES = NOTICE lib/uuid/COPYING lib/et/internal.h lib/support/dict.c
E2FSPROGS_CPE_ID = cpe:2.3:a:e2fsprogs_project:e2fsprogs:$(E2FSPROGS_VERSION):*:*:*:*:*:*:*
E2FSPROGS_PURL = pkg:generic/e2fsprogs@$(E2FSPROGS_VERSION)?download_url=$(E2FSPROGS_UPSTREAM_URL)
E2FSPROGS_UPSTREAM_URL = https://downloads.sourceforge.net/project/e2fsprogs/e2fsprogs/v$(E2FSPROGS_VERSION)/e2fsprogs-$(E2FSPROGS_VERSION).tar.gz
E2FSPROGS_SUPPLIER = Person: Theodore Ts'o (e2fsprogs maintainer)
E2FSPROGS_DEBIAN_RELEASE = trixie
E2FSPROGS_DEBIAN_SOURCE = e2fsprogs:$(E2FSPROGS_SOURCE)
E2FSPROGS_DEPENDENCIES = musl

# The four programs init runs on /data (firmware/init/data.c), nothing
# else: no debugfs, e2image, e4defrag, fsck wrapper, uuidd or fuse2fs. The
# libraries are the private static ones (uuid and blkid included), so the
# binaries need nothing but musl. The test I/O manager (driven by
# environment variables), the undo database and the libarchive and
# libmagic hooks are left out; MMP protects shared SAN disks, which /data
# never is.
E2FSPROGS_PROGRAMS = misc/mke2fs misc/tune2fs e2fsck/e2fsck resize/resize2fs
E2FSPROGS_CONFIGURE_OPTS = --disable-nls --disable-rpath --disable-elf-shlibs --disable-bsd-shlibs \
	--enable-libuuid --enable-libblkid --disable-debugfs --disable-imager --disable-defrag \
	--disable-fsck --disable-e2initrd-helper --disable-uuidd --disable-fuse2fs --disable-mmp \
	--disable-testio-debug --disable-tdb --disable-bmap-stats --disable-backtrace \
	--without-libarchive --without-udev-rules-dir --without-systemd-unit-dir

# Static PIEs like the rest of the image; the build helpers (the CRC table
# generator) are built with the build machine's gcc.
define E2FSPROGS_CONFIGURE_CMDS
	$(Q)cd $(E2FSPROGS_SRCDIR) && $(TARGET_CONFIGURE_ENV) LDFLAGS="$(TARGET_LDFLAGS)" \
		BUILD_CC=gcc BUILD_CFLAGS=-O2 ./configure --host=$(TARGET_TRIPLET) --prefix=/ \
		$(E2FSPROGS_CONFIGURE_OPTS) >$(E2FSPROGS_BUILDDIR)/configure.log 2>&1 || \
		{ tail -20 $(E2FSPROGS_BUILDDIR)/configure.log; exit 1; }
endef

# Only the libraries and the four programs: the rest of the tree (manual
# pages, translations, other tools) is never built.
define E2FSPROGS_BUILD_CMDS
	+$(Q){ $(MAKE) -C $(E2FSPROGS_SRCDIR) subs && $(MAKE) -C $(E2FSPROGS_SRCDIR) libs && \
		$(MAKE) -C $(E2FSPROGS_SRCDIR)/misc mke2fs tune2fs && \
		$(MAKE) -C $(E2FSPROGS_SRCDIR)/e2fsck e2fsck && \
		$(MAKE) -C $(E2FSPROGS_SRCDIR)/resize resize2fs; } >$(E2FSPROGS_BUILDDIR)/build.log 2>&1 || \
		{ tail -30 $(E2FSPROGS_BUILDDIR)/build.log; exit 1; }
endef

# Into target/, the part of the stage the image takes (as BusyBox's).
define E2FSPROGS_INSTALL_CMDS
	$(Q)$(foreach p,$(E2FSPROGS_PROGRAMS),install -D -m 0755 $(E2FSPROGS_SRCDIR)/$(p) \
		$(E2FSPROGS_STAGE)/target/sbin/$(notdir $(p)) && \
		$(TARGET_STRIP) --strip-all $(E2FSPROGS_STAGE)/target/sbin/$(notdir $(p)) &&) true
endef

$(eval $(call package,e2fsprogs))
