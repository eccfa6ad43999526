################################################################################
# bhc: the OCI container runtime (libbhc plus a thin command line)
################################################################################

BHC_LIB_SOURCES = config.c config_process.c config_caps.c config_mounts.c config_linux.c \
	rlimits.c signals.c spec.c state.c userns.c cgroup.c seccomp.c seccomp_default.c \
	container.c init.c rootfs.c console.c fs.c fds.c warn.c pid1_signal.c \
	targets.c copyup.c config_hooks.c hooks.c
BHC_SOURCES = main.c cmd_create.c cmd_start.c cmd_run.c cmd_state.c cmd_kill.c cmd_delete.c \
	cmd_spec.c cmd_features.c cmd_list.c $(BHC_LIB_SOURCES)
BHC_LIBS = libseccomp yyjson
BHC_INSTALL = usr/bin/bhc

BHC_UNIT_TESTS = test_bhc_config test_bhc_spec test_bhc_state test_bhc_seccomp test_bhc_fds \
	test_bhc_hooks
BHC_UNIT_SOURCES = $(BHC_LIB_SOURCES)
BHC_UNIT_LIBS = libseccomp

# libFuzzer harness of config.json parsing (tests/fuzz/fuzz_bhc_config.c).
BHC_FUZZERS = fuzz_bhc_config

# Its integration tests also run it under ASan and UBSan (tests/sanitize).
BHC_SANITIZE = YES

$(eval $(call program,bhc))
