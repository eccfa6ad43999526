################################################################################
# bhv: the jailed KVM microVM monitor (firmware/bhv/README.md)
################################################################################

# The folders are the architecture: the core (command line, configuration,
# jail, seccomp, the VM and its vCPUs, kernel formats) at the top, the
# virtio-mmio devices in virtio/, and each architecture's CPU set-up, boot
# protocol, firmware tables and platform devices in arch/<arch>/, the one
# BH_ARCH picks. A new file is built by being there.
BHV_ARCH_DIR = arch/$(if $(filter aarch64,$(BH_ARCH)),arm64,x86_64)
bhv-files = $(patsubst $(TOPDIR)/firmware/bhv/%,%,$(sort $(wildcard $(TOPDIR)/firmware/bhv/$(1)*.c)))
BHV_SOURCES = $(call bhv-files,) $(call bhv-files,virtio/) $(call bhv-files,$(BHV_ARCH_DIR)/)
BHV_LIBS = libseccomp $(if $(filter aarch64,$(BH_ARCH)),libfdt) yyjson
BHV_INSTALL = usr/bin/bhv

# The code a hostile guest or a bad config reaches, tested on the build
# host under ASan and UBSan, for both architectures' pure parts (what needs
# no /dev/kvm: not the vCPUs, the VM or the jail).
BHV_UNIT_TESTS = test_bhv_virtq test_bhv_virtio test_bhv_devices test_bhv_config \
	test_bhv_kernel test_bhv_x86_boot test_bhv_uart test_bhv_policy test_bhv_arm64 \
	test_bhv_console_limit test_bhv_jail
BHV_UNIT_SOURCES = config.c config_args.c config_json.c guest_mem.c bus.c \
	kernel_probe.c kernel_load.c policy.c serial.c console_limit.c jail_limits.c jail_uid.c $(call bhv-files,virtio/) \
	arch/x86_64/uart_8250.c arch/x86_64/x86_boot.c arch/x86_64/acpi.c \
	arch/arm64/pl011.c arch/arm64/gpio_pl061.c arch/arm64/arm64_fdt.c
BHV_UNIT_LIBS = libseccomp libfdt

# libFuzzer harnesses (tests/fuzz/fuzz_bhv_*.c): the virtqueue, each device's
# requests, the MMIO registers, the JSON config and kernel recognition.
BHV_FUZZERS = fuzz_bhv_virtq fuzz_bhv_blk fuzz_bhv_rng fuzz_bhv_console fuzz_bhv_net \
	fuzz_bhv_mmio fuzz_bhv_config fuzz_bhv_kernel

# Its KVM test also runs it under ASan and UBSan (tests/sanitize), when the
# configuration's architecture is the build host's.
BHV_SANITIZE = NATIVE

$(eval $(call program,bhv))
