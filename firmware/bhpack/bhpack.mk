################################################################################
# bhpack: builds, signs, inspects and verifies workload bundles on the build
# host (docs/workloads.md). A host tool only: it is not on the image.
################################################################################

BHPACK_SOURCES = main.c cmd_keygen.c cmd_keys.c cmd_build.c cmd_sign.c cmd_inspect.c cmd_verify.c cmd_update.c \
	rootfs.c oci.c gensbom.c cmd_push.c cmd_state.c cmd_revoke.c cmd_fetch.c cmd_provision.c device_identity.c registry_cli.c
BHPACK_TARGET = NO
BHPACK_HOST_LDLIBS = -lz
# Its integration test also runs it under ASan and UBSan (tests/sanitize).
BHPACK_SANITIZE = YES

$(eval $(call program,bhpack))
