################################################################################
# busybox: the few userspace tools the host needs (and, in debug, a shell)
################################################################################

BUSYBOX_VERSION = 1.37.0
BUSYBOX_SOURCE = busybox-$(BUSYBOX_VERSION).tar.bz2
BUSYBOX_SITE = https://busybox.net/downloads
BUSYBOX_LICENSE = GPL-2.0-only
BUSYBOX_LICENSE_FILES = LICENSE
BUSYBOX_CPE_ID = cpe:2.3:a:busybox:busybox:$(BUSYBOX_VERSION):*:*:*:*:*:*:*
BUSYBOX_PURL = pkg:generic/busybox@$(BUSYBOX_VERSION)?download_url=$(BUSYBOX_SITE)/$(BUSYBOX_SOURCE)
BUSYBOX_SUPPLIER = Organization: BusyBox project
BUSYBOX_DEBIAN_RELEASE = trixie
BUSYBOX_DEBIAN_SOURCE = busybox:busybox_$(BUSYBOX_VERSION).orig.tar.bz2
BUSYBOX_DEPENDENCIES = musl

# The profile picks the applets: production starts from allnoconfig and
# adds only what the host uses; debug starts from upstream's defconfig.
BUSYBOX_KEY_VARS = $(BH_PROFILE)
BUSYBOX_FRAGMENT = $(TOPDIR)/firmware/packages/busybox/busybox-$(BH_PROFILE).config
ifeq ($(wildcard $(BUSYBOX_FRAGMENT)),)
$(error busybox: no applet list for profile '$(BH_PROFILE)' ($(BUSYBOX_FRAGMENT)))
endif

# Each binary is a static PIE like the rest of the image, so BusyBox's own
# CONFIG_STATIC (a fixed-address binary) stays off and the flags come from
# the musl toolchain instead.
# O= on our command line reaches sub-makes; BusyBox would build out of tree.
# No ccache: like the kernel's, BusyBox's -Wp,-MD dependency files now and
# then go missing with it.
BUSYBOX_MAKE = $(MAKE) -C $(BUSYBOX_SRCDIR) O= CROSS_COMPILE=$(TARGET_CROSS) CC="$(TARGET_CC_NO_CCACHE)" \
	HOSTCC=gcc CONFIG_EXTRA_CFLAGS="$(TARGET_CFLAGS)" \
	CFLAGS_busybox="$(TARGET_LDFLAGS)" SKIP_STRIP=y KCONFIG_NOTIMESTAMP=1

BUSYBOX_BASE_CONFIG = $(if $(filter production,$(BH_PROFILE)),allnoconfig,defconfig)

# BusyBox's old Kconfig ignores KCONFIG_ALLCONFIG, so the fragment's lines
# replace the base configuration's and oldconfig settles the rest.
define BUSYBOX_CONFIGURE_CMDS
	+$(Q)$(BUSYBOX_MAKE) $(BUSYBOX_BASE_CONFIG) >$(BUSYBOX_BUILDDIR)/configure.log 2>&1
	$(Q)cd $(BUSYBOX_SRCDIR) && while IFS= read -r l; do \
		case $$l in CONFIG_*=*) s=$${l%%=*} ;; "# CONFIG_"*) s=$${l#\# }; s=$${s%% *} ;; *) continue ;; esac; \
		sed -i -e "/^$$s=/d" -e "/^# $$s is not set/d" .config && echo "$$l" >> .config; \
	done < $(BUSYBOX_FRAGMENT)
	+$(Q)(yes '' || true) | $(BUSYBOX_MAKE) oldconfig >>$(BUSYBOX_BUILDDIR)/configure.log 2>&1
	$(Q)$(TOPDIR)/support/check-config.sh $(BUSYBOX_SRCDIR)/.config $(BUSYBOX_FRAGMENT)
endef

define BUSYBOX_BUILD_CMDS
	+$(Q)$(BUSYBOX_MAKE) busybox >$(BUSYBOX_BUILDDIR)/build.log 2>&1 || \
		{ tail -30 $(BUSYBOX_BUILDDIR)/build.log; exit 1; }
endef

# The applet links go into target/, the part of the stage the image takes.
define BUSYBOX_INSTALL_CMDS
	+$(Q)$(BUSYBOX_MAKE) install CONFIG_PREFIX=$(BUSYBOX_STAGE)/target >>$(BUSYBOX_BUILDDIR)/build.log 2>&1
	$(Q)cp $(BUSYBOX_SRCDIR)/.config $(BUSYBOX_STAGE)/busybox.config
endef

$(eval $(call package,busybox))
