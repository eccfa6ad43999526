################################################################################
# Where the kernel source comes from, shared by linux and linux-headers.
#
# The 6.12 LTS source is taken from Debian's linux-source-6.12 package: its
# hash is published in Debian's signed archive index, and it is the source
# Debian's own stable kernels are built from. kernel.org's tarball of the same
# release is the upstream, but its hash cannot be checked on a machine that
# only reaches Debian's archive, so it is recorded for the SBOM, not fetched.
################################################################################

LINUX_SOURCE_VERSION = 6.12.117
LINUX_SOURCE_DEBIAN_VERSION = 6.12.117-1~deb12u1
LINUX_SOURCE_FILE = linux-source-6.12_$(LINUX_SOURCE_DEBIAN_VERSION)_all.deb
LINUX_SOURCE_UPSTREAM_URL = https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-$(LINUX_SOURCE_VERSION).tar.xz

# The .deb holds the source as one tarball under /usr/src.
define linux-extract-deb
	dpkg-deb --fsys-tarfile $($(1)_DL_FILE) | tar -xO ./usr/src/linux-source-6.12.tar.xz \
		| tar -xJ --strip-components=1 -C $($(1)_SRCDIR)
endef
