################################################################################
# bhsbom: SBOM generation at build time, listing, verification and advisory
# matching on the device (docs/sbom.md)
################################################################################

# The SBOM library itself is part of libbulkhead (firmware/lib/sbom_*.c):
# bhpack and bhd use it too.
BHSBOM_SOURCES = main.c cmd_generate.c cmd_list.c cmd_verify.c cmd_match.c
BHSBOM_INSTALL = usr/bin/bhsbom
BHSBOM_HOST = YES
# Its integration test also runs it under ASan and UBSan (tests/sanitize).
BHSBOM_SANITIZE = YES

$(eval $(call program,bhsbom))
