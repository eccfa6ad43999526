/* bhv check: everything bhv run checks before starting a VM (config,
 * files, kernel format, memory, disks, tap), then a summary; no VM. */
#include "commands.h"
#include "vm.h"

#include <stdio.h>

static const char *kind_name(enum kernel_kind k)
{
	switch (k) {
	case KERNEL_BZIMAGE:
		return "bzImage (64-bit boot protocol)";
	case KERNEL_ELF_PVH:
		return "vmlinux (PVH entry)";
	case KERNEL_ARM64_IMAGE:
		return "arm64 Image";
	case KERNEL_RAW16:
		return "raw real-mode test guest";
	case KERNEL_RAW64:
		return "raw long-mode test guest";
	}
	return "unknown";
}

int cmd_check(int argc, char **argv, struct bh_error *err)
{
	struct bhv_config cfg;
	struct vm_files files;

	config_defaults(&cfg);
	if (config_from_args(&cfg, argc, argv, err) < 0 || config_check(&cfg, err) < 0 ||
	    vm_open_files(&cfg, &files, err) < 0)
		return BHV_EXIT_ERROR;
	printf("kernel: %s: %s, needs %llu MiB\n", cfg.kernel, kind_name(files.kernel_info.kind),
	       (unsigned long long)((files.kernel_info.load_end + (1 << 20) - 1) >> 20));
	if (files.initrd >= 0)
		printf("initrd: %s: %llu bytes\n", cfg.initrd,
		       (unsigned long long)files.initrd_size);
	printf("memory: %llu MiB, vCPUs: %d, disks: %d, net: %s, jail: %s\n",
	       (unsigned long long)cfg.mem_mib, cfg.cpus, cfg.n_disks,
	       cfg.net_fd >= 0 ? "tap" : "none", cfg.jail ? "yes" : "no");
	return 0;
}
