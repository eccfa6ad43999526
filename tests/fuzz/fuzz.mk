################################################################################
# libFuzzer harnesses (clang from Debian): tests/fuzz/fuzz_<name>.c defines
# LLVMFuzzerTestOneInput and is built for the build host with ASan and UBSan,
# linking libbulkhead (built the same way) and host builds of the pinned
# libraries.
# One naming scheme, as the unit tests': fuzz_<thing>.c for libbulkhead's
# code (fuzz_tar.c), fuzz_<prog>_<thing>.c for a program's, which its recipe
# claims:
#   <PROG>_FUZZERS = fuzz_bhv_virtq ...     tests/fuzz/fuzz_bhv_virtq.c, ...
# (they link <PROG>_UNIT_SOURCES and <PROG>_UNIT_LIBS, like its unit tests).
# Seed inputs live in tests/fuzz/corpus/<harness>/ (corpus/fuzz_tar/); every
# crash found becomes a file there, so that `make check` replays it from
# then on.
#
# make fuzz [FUZZ_TIME=seconds per harness] [FUZZERS='a b']
################################################################################

FUZZ_BUILD_DIR := $(BUILD_DIR)/fuzz
FUZZ_TIME ?= 60
FUZZ_COMMON_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -I$(TOPDIR)/include -I$(GENERATED_INCLUDE) \
	-I$(TOPDIR)/tests/fuzz -DKEYS_DIR='"$(TOPDIR)/board/common/keys"'
FUZZ_CFLAGS := -fsanitize=fuzzer,address,undefined $(FUZZ_COMMON_CFLAGS)
FUZZ_LIB_CFLAGS := -fsanitize=fuzzer-no-link,address,undefined $(FUZZ_COMMON_CFLAGS)

# libbulkhead instrumented for coverage (fuzzer-no-link) with the same
# sanitizers, archived once (libbulkhead-variant, tests/unit/unit.mk).
FUZZ_LIB := $(FUZZ_BUILD_DIR)/lib/libbulkhead-fuzz.a
$(eval $(call libbulkhead-variant,$(FUZZ_BUILD_DIR)/lib,clang $(FUZZ_LIB_CFLAGS),$(FUZZ_LIB)))

# $(1): harness, $(2): extra sources, $(3): extra host packages, $(4): program folder.
define fuzzer
FUZZ_BINS += $(FUZZ_BUILD_DIR)/$(1)
$(FUZZ_BUILD_DIR)/$(1): $(TOPDIR)/tests/fuzz/$(1).c $(FUZZ_LIB) $(2) \
		$(GENERATED_INCLUDE)/bulkhead/autoconf.h $(GENERATED_INCLUDE)/bulkhead/version.h \
		| $(foreach p,$(UNIT_HOST_LIBS) $(3),host-$(p))
	$$(Q)mkdir -p $$(@D)
	@echo "    FUZZ    $(1)"
	$$(Q)clang $(FUZZ_CFLAGS) $(if $(4),-I$(4)) \
		$(foreach p,$(UNIT_HOST_LIBS) $(3),-I$$(HOST_$$(call UPPERCASE,$(p))_PREFIX)/include) \
		-o $$@ $$< $(2) -Wl,--start-group $(FUZZ_LIB) \
		$(foreach p,$(3) $(UNIT_HOST_LIBS),$$(wildcard $$(HOST_$$(call UPPERCASE,$(p))_PREFIX)/lib/*.a)) \
		-Wl,--end-group
endef

FUZZ_CLAIMED := $(foreach p,$(ALL_PROGRAMS),$($(call UPPERCASE,$(p))_FUZZERS))
$(foreach p,$(ALL_PROGRAMS),$(foreach f,$($(call UPPERCASE,$(p))_FUZZERS),$(eval $(call fuzzer,$(f),\
	$(addprefix $(TOPDIR)/firmware/$(p)/,$($(call UPPERCASE,$(p))_UNIT_SOURCES)),\
	$($(call UPPERCASE,$(p))_UNIT_LIBS),$(TOPDIR)/firmware/$(p)))))
$(foreach f,$(filter-out $(FUZZ_CLAIMED),$(patsubst $(TOPDIR)/tests/fuzz/%.c,%,\
	$(wildcard $(TOPDIR)/tests/fuzz/fuzz_*.c))),$(eval $(call fuzzer,$(f),,,)))

fuzzers: $(FUZZ_BINS)

# Each harness for FUZZ_TIME seconds on its seed corpus plus a work corpus
# in O; findings are copied into the seed corpus as regression inputs.
fuzz: fuzzers
	$(Q)$(TOPDIR)/tests/fuzz/run --time $(FUZZ_TIME) --bin-dir $(FUZZ_BUILD_DIR) \
		--work $(O)/fuzz $(if $(FUZZERS),--only '$(FUZZERS)') $(notdir $(FUZZ_BINS))

.PHONY: fuzzers fuzz
