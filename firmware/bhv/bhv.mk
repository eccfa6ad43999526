################################################################################
# bhv: the jailed KVM microVM monitor (firmware/bhv/README.md)
################################################################################

# Shared by both architectures: the command line, configuration, the jail,
# seccomp, the VM core, virtio and the kernel formats.
BHV_COMMON = main.c cmd_run.c cmd_check.c cmd_syscalls.c \
	config.c config_args.c config_json.c jail.c policy.c \
	vm_files.c vm.c vcpu.c run.c bus.c guest_mem.c \
	virtq.c virtio_mmio.c virtio_blk.c virtio_net.c virtio_rng.c virtio_console.c \
	kernel_probe.c kernel_load.c

ifeq ($(BH_ARCH),x86_64)
BHV_SOURCES = $(BHV_COMMON) uart_8250.c x86_boot.c acpi.c x86_cpu.c x86_platform.c x86_vm.c
BHV_LIBS = libseccomp yyjson
else
BHV_SOURCES = $(BHV_COMMON) pl011.c gpio_pl061.c arm64_fdt.c arm64_vm.c
BHV_LIBS = libseccomp libfdt yyjson
endif
BHV_INSTALL = usr/bin/bhv

# The code a hostile guest or a bad config reaches, tested on the build
# host under ASan and UBSan, for both architectures' pure parts.
BHV_UNIT_TESTS = test_bhv_virtq test_bhv_virtio test_bhv_devices test_bhv_config \
	test_bhv_kernel test_bhv_x86_boot test_bhv_uart test_bhv_policy test_bhv_arm64
BHV_UNIT_SOURCES = config.c config_args.c config_json.c guest_mem.c bus.c \
	virtq.c virtio_mmio.c virtio_blk.c virtio_net.c virtio_rng.c virtio_console.c \
	kernel_probe.c kernel_load.c uart_8250.c x86_boot.c acpi.c policy.c pl011.c gpio_pl061.c arm64_fdt.c
BHV_UNIT_LIBS = libseccomp libfdt

# libFuzzer harnesses (tests/fuzz/bhv_*.c): the virtqueue, each device's
# requests, the MMIO registers, the JSON config and kernel recognition.
BHV_FUZZERS = bhv_virtq bhv_blk bhv_rng bhv_console bhv_net bhv_mmio bhv_config bhv_kernel

# Its KVM test also runs it under ASan and UBSan (tests/sanitize), when the
# configuration's architecture is the build host's.
BHV_SANITIZE = NATIVE

$(eval $(call program,bhv))
