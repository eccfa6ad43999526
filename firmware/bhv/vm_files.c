/* Everything the VM reads from the filesystem is opened and checked here,
 * before the jail (whose root is empty) and before the VM exists, so that
 * a wrong path, a wrong file or too little memory is a clear error and
 * not a guest that dies mid-boot. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024ULL * 1024)

static int open_file(const char *what, const char *path, int flags, struct bh_error *err)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s %s", what, path);
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		close(fd);
		return bh_error(err, 0, "%s %s is not a regular file", what, path);
	}
	return fd;
}

static int check_tap(int fd, struct bh_error *err)
{
	struct ifreq ifr;

	if (fcntl(fd, F_GETFD) < 0)
		return bh_error(err, errno, "net: fd %d is not open", fd);
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return bh_error(err, errno, "net: fd %d is not a tap device", fd);
	if (!(ifr.ifr_flags & IFF_TAP))
		return bh_error(err, 0, "net: fd %d is a tun device, not a tap", fd);
	/* Our copy must not leak into anything we might start. */
	return fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? bh_error(err, errno, "net: fd %d", fd) : 0;
}

static int open_disk(const struct bhv_disk *d, struct bh_error *err)
{
	int fd = open_file("disk", d->path, d->read_only ? O_RDONLY : O_RDWR, err);

	if (fd < 0)
		return -1;
	/* Two writers of one disk image corrupt it: take a lock the other
	 * monitor would see (shared for read-only disks). */
	if (flock(fd, (d->read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		close(fd);
		return bh_error(err, errno == EWOULDBLOCK ? 0 : errno,
		                "disk %s is in use by another VM", d->path);
	}
	return fd;
}

/* The memory the kernel needs while it boots plus the initrd, against
 * what the config gives the guest. */
static int check_memory(const struct bhv_config *cfg, const struct vm_files *f,
                        struct bh_error *err)
{
	uint64_t need = f->kernel_info.load_end + f->initrd_size;
	uint64_t have = cfg->mem_mib * MIB;

	if (f->kernel_info.kind == KERNEL_ARM64_IMAGE)
		need += 2 * MIB; /* device tree and alignment */
	if (need > have)
		return bh_error(err, 0,
		                "memory too small: %llu MiB given, the kernel%s at least %llu MiB",
		                (unsigned long long)cfg->mem_mib,
		                f->initrd_size ? " and initrd need" : " needs",
		                (unsigned long long)((need + MIB - 1) / MIB));
	return 0;
}

int vm_open_files(const struct bhv_config *cfg, struct vm_files *f, struct bh_error *err)
{
	struct stat st;
	int v;

	memset(f, 0, sizeof(*f));
	f->kvm = f->kernel = f->initrd = -1;
	for (int i = 0; i < BHV_MAX_DISKS; i++)
		f->disks[i] = -1;
	if ((f->kernel = open_file("kernel", cfg->kernel, O_RDONLY, err)) < 0)
		return -1;
	if (kernel_probe(f->kernel, cfg->kernel, cfg->kernel_format, &f->kernel_info, err) < 0)
		return -1;
	if (cfg->initrd[0]) {
		if ((f->initrd = open_file("initrd", cfg->initrd, O_RDONLY, err)) < 0)
			return -1;
		if (fstat(f->initrd, &st) < 0 || st.st_size == 0)
			return bh_error(err, 0, "initrd %s is empty", cfg->initrd);
		f->initrd_size = (uint64_t)st.st_size;
	}
	if (check_memory(cfg, f, err) < 0)
		return -1;
	for (int i = 0; i < cfg->n_disks; i++) {
		off_t end;

		if ((f->disks[i] = open_disk(&cfg->disks[i], err)) < 0)
			return -1;
		/* Files and block devices alike: the jail's RLIMIT_FSIZE. */
		end = lseek(f->disks[i], 0, SEEK_END);
		if (end > 0 && (uint64_t)end > f->largest_disk)
			f->largest_disk = (uint64_t)end;
	}
	if (cfg->net_fd >= 0 && check_tap(cfg->net_fd, err) < 0)
		return -1;
	if ((f->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		return bh_error(err, errno, "open /dev/kvm");
	if ((v = ioctl(f->kvm, KVM_GET_API_VERSION, 0)) != KVM_API_VERSION)
		return bh_error(err, 0, "/dev/kvm speaks API version %d, bhv needs %d", v,
		                KVM_API_VERSION);
	return 0;
}
