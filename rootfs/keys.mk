################################################################################
# The keys a build uses (docs/vendor.md): the public keys the image trusts,
# one folder per trust root (/etc/bulkhead/keys/{workloads,updates,state}),
# the signed list of revoked keys (BH_REVOKED_KEYS, checked against the
# update keys when the image is assembled: rootfs/rootfs.mk),
# and the private keys that sign the baked workloads, the update files and
# what Secure Boot checks.
#
# None may be one of the TEST-ONLY keys of board/common/keys, recognised by
# its public key (support/test-keys.py, board/common/keys/TEST-ONLY-keys.sha256),
# not its file name, unless BH_ALLOW_TEST_KEYS=y, which marks the image.
################################################################################

keypath = $(if $(filter /%,$(1)),$(1),$(TOPDIR)/$(1))
keylist = $(foreach k,$(call qstrip,$(1)),$(call keypath,$(k)))
TRUSTED_KEYS := $(call keylist,$(BH_TRUSTED_KEYS))
UPDATE_TRUSTED_KEYS := $(call keylist,$(BH_UPDATE_TRUSTED_KEYS))
STATE_TRUSTED_KEYS := $(call keylist,$(BH_STATE_TRUSTED_KEYS))
SIGNING_KEY := $(call keypath,$(call qstrip,$(BH_WORKLOAD_SIGNING_KEY)))
UPDATE_SIGNING_KEY := $(call keypath,$(call qstrip,$(BH_UPDATE_SIGNING_KEY)))
SECURE_BOOT_KEY := $(call keypath,$(call qstrip,$(BH_SECURE_BOOT_KEY)))
SECURE_BOOT_CERT := $(call keypath,$(call qstrip,$(BH_SECURE_BOOT_CERT)))
REVOKED_KEYS := $(if $(call qstrip,$(BH_REVOKED_KEYS)),$(call keypath,$(call qstrip,$(BH_REVOKED_KEYS))))
$(if $(REVOKED_KEYS),$(if $(wildcard $(REVOKED_KEYS)),,$(error BH_REVOKED_KEYS: $(REVOKED_KEYS) does not exist)))
FLEET_CA := $(if $(call qstrip,$(BH_FLEET_CA)),$(call keypath,$(call qstrip,$(BH_FLEET_CA))))
$(if $(FLEET_CA),$(if $(wildcard $(FLEET_CA)),,$(error BH_FLEET_CA: $(FLEET_CA) does not exist)))
FLEET_BROKER_CA := $(if $(call qstrip,$(BH_FLEET_BROKER_CA)),$(call keypath,$(call qstrip,$(BH_FLEET_BROKER_CA))))
$(if $(FLEET_BROKER_CA),$(if $(wildcard $(FLEET_BROKER_CA)),,$(error BH_FLEET_BROKER_CA: $(FLEET_BROKER_CA) does not exist)))
# Not a key, but like the CAs a file the image carries under /etc/bulkhead/fleet.
FLEET_ADVISORIES := $(if $(call qstrip,$(BH_FLEET_ADVISORIES)),$(call keypath,$(call qstrip,$(BH_FLEET_ADVISORIES))))
$(if $(FLEET_ADVISORIES),$(if $(wildcard $(FLEET_ADVISORIES)),,$(error BH_FLEET_ADVISORIES: $(FLEET_ADVISORIES) does not exist)))
$(foreach k,$(TRUSTED_KEYS),$(if $(wildcard $(k)),,$(error BH_TRUSTED_KEYS: $(k) does not exist)))
$(foreach k,$(UPDATE_TRUSTED_KEYS),$(if $(wildcard $(k)),,$(error BH_UPDATE_TRUSTED_KEYS: $(k) does not exist)))
$(foreach k,$(STATE_TRUSTED_KEYS),$(if $(wildcard $(k)),,$(error BH_STATE_TRUSTED_KEYS: $(k) does not exist)))

# What os-release says of an image built with BH_ALLOW_TEST_KEYS=y; init
# prints "TEST KEYS: not for shipping" at every boot when it reads it.
TEST_KEYS_VARIANT := TEST KEYS

# Checked once per make (not again in the package builds' sub-makes), and
# not for `make keys`, which makes the keys that get past it, nor for
# `make sdk`, which uses none. The baked workloads' key counts only when
# there are baked workloads.
KEYS_CHECKED_GOALS := $(filter-out keys host-bhpack printvars sdk,$(CONFIGURED_GOALS))
ifndef BH_SUBMAKE
ifneq ($(KEYS_CHECKED_GOALS),)
TEST_KEYS_USED := $(shell $(PYTHON3) $(TOPDIR)/support/test-keys.py \
	--list $(TOPDIR)/board/common/keys/TEST-ONLY-keys.sha256 --allow '$(BH_ALLOW_TEST_KEYS)' \
	$(foreach k,$(TRUSTED_KEYS),BH_TRUSTED_KEYS=$(k)) \
	$(foreach k,$(UPDATE_TRUSTED_KEYS),BH_UPDATE_TRUSTED_KEYS=$(k)) \
	$(foreach k,$(STATE_TRUSTED_KEYS),BH_STATE_TRUSTED_KEYS=$(k)) \
	$(if $(or $(filter y,$(BH_DEMO_WORKLOADS)),$(foreach t,$(BH_EXTERNAL_NAMES),$(BH_EXTERNAL_$(t)_WORKLOAD_MKS))),BH_WORKLOAD_SIGNING_KEY=$(SIGNING_KEY)) \
	BH_UPDATE_SIGNING_KEY=$(UPDATE_SIGNING_KEY) \
	BH_SECURE_BOOT_KEY=$(SECURE_BOOT_KEY) BH_SECURE_BOOT_CERT=$(SECURE_BOOT_CERT) || echo failed)
ifneq ($(filter failed,$(TEST_KEYS_USED)),)
$(error a key of this configuration cannot be read (see above))
endif
ifneq ($(filter refused,$(TEST_KEYS_USED)),)
$(error refusing to build with TEST-ONLY keys: see above for how to make your own)
endif
ifneq ($(filter allowed,$(TEST_KEYS_USED)),)
$(info NOTE: TEST-ONLY keys ($(filter-out allowed,$(TEST_KEYS_USED))) allowed by BH_ALLOW_TEST_KEYS=y: the image is marked "$(TEST_KEYS_VARIANT)"; never ship it)
endif
endif
endif
