# Bulkhead: the only entry point. `make help` lists what it can do.

TOPDIR := $(CURDIR)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := all
# No implicit suffix rules here (not exported: package builds rely on theirs).
.SUFFIXES:

# Where things go. O holds one configured build; the cache holds what every
# build on this machine shares (downloads, ccache, built packages).
O ?= $(TOPDIR)/output
override O := $(abspath $(O))
BULKHEAD_CACHE ?= $(HOME)/.cache/bulkhead
override BULKHEAD_CACHE := $(abspath $(BULKHEAD_CACHE))
DL_DIR ?= $(BULKHEAD_CACHE)/dl
CONFIG_FILE := $(O)/.config
BUILD_DIR := $(O)/build
IMAGES_DIR := $(O)/images
HOST_DIR := $(O)/host
PYTHON3 := /usr/bin/python3
export BULKHEAD_CACHE

# Parallel by default, as Buildroot's BR2_JLEVEL: BH_JLEVEL=0 (the default)
# runs one job per core plus one, BH_JLEVEL=N runs N. `make -jN` on the
# command line wins over both. Only the top-level make sets it: package
# builds and sub-makes share its jobs through make's jobserver.
BH_JLEVEL ?= 0
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += -j$(if $(filter 0,$(BH_JLEVEL)),$(shell echo $$(($$(nproc) + 1))),$(BH_JLEVEL))
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Reproducibility: every timestamp in the image comes from the last commit.
SOURCE_DATE_EPOCH ?= $(shell git -C $(TOPDIR) log -1 --format=%ct 2>/dev/null || echo 0)
BH_VERSION ?= $(shell git -C $(TOPDIR) describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
# The image version orders images (systemd-boot's entries, the updater's
# downgrade refusal): VERSION plus the commit time, both increasing.
# make BH_IMAGE_VERSION=... builds a newer or older image from one tree.
BH_IMAGE_VERSION ?= $(shell cat $(TOPDIR)/VERSION).$(SOURCE_DATE_EPOCH)
export SOURCE_DATE_EPOCH

# External trees (BH_EXTERNAL=dir[:dir], docs/vendor.md), remembered in O
# as Buildroot remembers BR2_EXTERNAL: given on the command line (or in the
# environment) it is checked by support/external.py and written to
# O/.bh-external.mk with what the trees add; without it, the value
# remembered there is used (and checked again: a tree may have changed);
# BH_EXTERNAL= (empty) forgets it. Package builds re-entering this Makefile
# (BH_SUBMAKE) only read the file.
BH_EXTERNAL_FILE := $(O)/.bh-external.mk
ifeq ($(origin BH_EXTERNAL),undefined)
BH_EXTERNAL := $(shell sed -n 's/^BH_EXTERNAL := //p' $(BH_EXTERNAL_FILE) 2>/dev/null)
endif
ifndef BH_SUBMAKE
ifneq ($(BH_EXTERNAL)$(wildcard $(BH_EXTERNAL_FILE)),)
BH_EXTERNAL_ERROR := $(shell out=$$($(PYTHON3) $(TOPDIR)/support/external.py --top $(TOPDIR) \
	--out $(O) '$(BH_EXTERNAL)' 2>&1 >/dev/null) || echo "$${out:-BH_EXTERNAL: support/external.py failed}")
ifneq ($(BH_EXTERNAL_ERROR),)
$(error $(BH_EXTERNAL_ERROR))
endif
endif
endif
-include $(BH_EXTERNAL_FILE)
# The tree an external path (a recipe's folder) belongs to, if any.
external-tree-of = $(firstword $(foreach t,$(BH_EXTERNAL_NAMES),$(if $(filter \
	$(BH_EXTERNAL_$(t)_PATH)/%,$(1)),$(t))))

KCONFIG := KCONFIG_CONFIG=$(CONFIG_FILE) srctree=$(TOPDIR) $(PYTHON3) $(TOPDIR)/support/kconfig.py
OUR_DEFCONFIGS := $(sort $(wildcard $(TOPDIR)/board/*/*_defconfig))
DEFCONFIGS := $(OUR_DEFCONFIGS) $(foreach t,$(BH_EXTERNAL_NAMES),$(BH_EXTERNAL_$(t)_DEFCONFIGS))
DEFCONFIG_NAMES := $(notdir $(DEFCONFIGS))

# Targets that work without a configuration.
NOCONFIG_TARGETS := %_defconfig menuconfig savedefconfig list-defconfigs help \
	clean distclean run check bench host-tools keys
CONFIGURED_GOALS := $(filter-out $(NOCONFIG_TARGETS),$(or $(MAKECMDGOALS),all))

.PHONY: all run check bench help list-defconfigs menuconfig savedefconfig \
	clean distclean host-tools olddefconfig keys

host-tools:
	$(Q)sh $(TOPDIR)/support/host-tools.sh

%_defconfig: host-tools
	$(Q)d='$(filter %/$@,$(DEFCONFIGS))'; \
	if [ -z "$$d" ]; then \
		echo "unknown board configuration '$@'; the boards are:" >&2; \
		printf '  %s\n' $(DEFCONFIG_NAMES) >&2; \
		$(if $(BH_EXTERNAL),,echo "(an external tree's board needs BH_EXTERNAL=<tree>: docs/vendor.md)" >&2;) \
		exit 1; fi; \
	mkdir -p $(O) && $(KCONFIG) defconfig $$d && echo "configured $(O) for $@"

list-defconfigs:
	@echo "Board configurations (make <name>):"
	@$(foreach d,$(OUR_DEFCONFIGS),printf '  %-34s %s\n' $(notdir $(d)) \
		"$$(sed -n 's/^# *//p;q' $(d))";)
	@$(foreach t,$(BH_EXTERNAL_NAMES),echo; echo 'External tree $(t) ($(BH_EXTERNAL_$(t)_PATH)):'; \
		$(foreach d,$(BH_EXTERNAL_$(t)_DEFCONFIGS),printf '  %-34s %s\n' $(notdir $(d)) \
		"$$(sed -n 's/^# *//p;q' $(d))";))

menuconfig: host-tools
	$(Q)mkdir -p $(O) && cd $(TOPDIR) && KCONFIG_CONFIG=$(CONFIG_FILE) \
		srctree=$(TOPDIR) $(PYTHON3) $(TOPDIR)/support/kconfig.py menuconfig

savedefconfig:
	$(Q)test -f $(CONFIG_FILE) || { echo "nothing configured in $(O)" >&2; exit 1; }
	$(Q)$(KCONFIG) savedefconfig $(or $(DEFCONFIG),$(O)/defconfig)

# `make run` configures the default board when nothing is configured yet.
run: host-tools
	$(Q)test -f $(CONFIG_FILE) || $(MAKE) --no-print-directory qemu_x86_64_defconfig
	$(Q)$(MAKE) --no-print-directory all
	@echo "Booting $(IMAGES_DIR) in QEMU on this terminal. Quit: Ctrl-a then x."
	$(Q)$(IMAGES_DIR)/start-qemu.sh

# `make keys DIR=...`: a vendor's key set (bhpack keys, docs/vendor.md),
# made with this tree's bhpack (configuring the default board when nothing
# is) into a new folder that must not be inside the tree.
KEYS_DIR = $(abspath $(DIR))
keys: host-tools
	$(Q)test -n '$(DIR)' || { echo "usage: make keys DIR=/a/new/folder/outside/this/tree" >&2; exit 1; }
	$(Q)case '$(KEYS_DIR)/' in '$(TOPDIR)/'*) echo "make keys: $(KEYS_DIR) is inside the source" \
		"tree, where keys get committed: give a DIR outside $(TOPDIR)" >&2; exit 1;; esac
	$(Q)test -f $(CONFIG_FILE) || $(MAKE) --no-print-directory qemu_x86_64_defconfig
	$(Q)$(MAKE) --no-print-directory host-bhpack
	$(Q)$(HOST_DIR)/bin/bhpack keys --dir '$(KEYS_DIR)' $(if $(NAME),--name '$(NAME)')

check: host-tools
	$(Q)$(TOPDIR)/tests/run --output $(O)/check $(if $(TESTS),--only '$(TESTS)')

bench: host-tools
	$(Q)$(TOPDIR)/tests/bench/run --output $(O)/bench

clean:
	$(Q)rm -rf $(BUILD_DIR) $(IMAGES_DIR) $(HOST_DIR)

distclean:
	$(Q)rm -rf $(O)

help:
	@echo 'Bulkhead firmware build'
	@echo
	@echo 'Start here:'
	@echo '  make run                 set up host tools, build the default board, boot it in QEMU'
	@echo '  make check               build every board and profile and run every test'
	@echo
	@echo 'Configuration:'
	@echo '  make <board>_defconfig   configure O for a board (see list-defconfigs)'
	@echo '  make list-defconfigs     the board configurations'
	@echo '  make menuconfig          change the configuration'
	@echo '  make savedefconfig       write the minimal defconfig (DEFCONFIG=path, default O/defconfig)'
	@echo
	@echo 'Build:'
	@echo '  make                     build the configured image into O/images'
	@echo '  make <package>           build one package; <package>-rebuild, <package>-dirclean'
	@echo '  make legal-info          collect sources and licence texts into O/legal-info'
	@echo '  make update-image        signed update file O/images/update-<version>.bhu (docs/update.md)'
	@echo '  make keys DIR=<dir>      a new vendor key set, outside the tree (docs/vendor.md; NAME=vendor)'
	@echo '  make sdk                 toolchain, libraries and bhpack for workloads: O/images/bulkhead-sdk-*.tar.gz'
	@echo '  make clean               remove the build, images and host folders of O'
	@echo '  make distclean           remove O entirely (the shared cache stays)'
	@echo
	@echo 'Tests:'
	@echo '  make check [TESTS=glob]  all tests; ends with "N passed, N failed"'
	@echo '  make bench               benchmarks against their named peers'
	@echo '  make sanitize-tools      ASan+UBSan host builds of the programs the integration tests run'
	@echo
	@echo 'Variables: O=<dir> (default output), BULKHEAD_CACHE=<dir> (default ~/.cache/bulkhead), V=1,'
	@echo '  BH_EXTERNAL=<dir>[:<dir>] external trees, remembered in O (BH_EXTERNAL= forgets them; docs/vendor.md)'

ifneq ($(CONFIGURED_GOALS),)
ifeq ($(wildcard $(CONFIG_FILE)),)
$(error nothing is configured in $(O): run 'make <board>_defconfig' first (make list-defconfigs shows them))
endif

# A configuration changed by hand is checked by Kconfig itself before use
# (once: the package builds that re-enter this Makefile set BH_SUBMAKE).
ifndef BH_SUBMAKE
$(shell $(KCONFIG) olddefconfig >/dev/null 2>$(O)/.kconfig-errors || echo fail > $(O)/.kconfig-failed)
ifneq ($(wildcard $(O)/.kconfig-failed),)
$(shell rm -f $(O)/.kconfig-failed)
$(error $(shell cat $(O)/.kconfig-errors))
endif
endif
include $(CONFIG_FILE)

# Every host tool is checked before anything is built (Buildroot's
# dependencies.sh): a missing one stops here with the Debian packages to
# install, not half an hour into the kernel build.
ifndef BH_SUBMAKE
BH_HOST_TOOLS_MISSING := $(shell sh $(TOPDIR)/support/host-tools.sh --check 2>&1 >/dev/null)
ifneq ($(BH_HOST_TOOLS_MISSING),)
$(error $(BH_HOST_TOOLS_MISSING); 'make host-tools' installs them (as root, or through sudo))
endif
endif

# Kconfig strings arrive quoted.
qstrip = $(strip $(subst ",,$(1)))

BH_ARCH := $(call qstrip,$(BH_ARCH))
BH_BOARD_NAME := $(call qstrip,$(BH_BOARD_NAME))
BH_PROFILE := $(call qstrip,$(BH_PROFILE))
# Ours, or an external tree's (a name is never both: support/external.py).
BOARD_DIR := $(firstword $(wildcard $(patsubst %,%/board/$(BH_BOARD_NAME)/cmdline,$(TOPDIR) \
	$(foreach t,$(BH_EXTERNAL_NAMES),$(BH_EXTERNAL_$(t)_PATH)))))
ifeq ($(BOARD_DIR),)
$(error BH_BOARD_NAME '$(BH_BOARD_NAME)' in $(CONFIG_FILE) names no folder under board/ \
	$(if $(BH_EXTERNAL),nor under board/ of BH_EXTERNAL ($(BH_EXTERNAL)),(and BH_EXTERNAL is not set)))
endif
BOARD_DIR := $(patsubst %/cmdline,%,$(BOARD_DIR))

include $(TOPDIR)/firmware/toolchain.mk
include $(TOPDIR)/firmware/packages/pkg-infra.mk
include $(TOPDIR)/firmware/packages/packages.mk
include $(TOPDIR)/firmware/programs.mk
include $(TOPDIR)/rootfs/rootfs.mk
include $(TOPDIR)/tests/unit/unit.mk
include $(TOPDIR)/tests/fuzz/fuzz.mk
include $(TOPDIR)/tests/sanitize/sanitize.mk

# Every image is made of these; the configuration cannot leave them out.
$(foreach p,musl linux systemd-boot busybox e2fsprogs,$(if $(filter $(p),$(PACKAGES)),,$(error \
	every image needs $(p): BH_PACKAGE_$(call UPPERCASE,$(p)) is not set)))

# Every selected package is built, whether or not a program uses it yet,
# and every program's build-host twin in O/host/bin (bhpack, bhsbom,
# bhsync): the tools a vendor runs and the tests drive.
all: images $(PACKAGES) $(addprefix host-,$(HOST_PROGRAMS))

# For scripts and tests: make -s printvars VARS='LINUX_PREFIX BUSYBOX_PREFIX'
printvars:
	@$(foreach V,$(VARS),echo '$(V)=$($(V))';)
.PHONY: printvars
endif
