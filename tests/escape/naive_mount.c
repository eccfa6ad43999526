/* The positive control of the mount-target race (the CVE-2021-30465
 * class): the mount step of a deliberately naive runtime, as runc's was
 * before the fix. It checks the destination by resolving its symlinks
 * inside ROOTFS (as filepath-securejoin does), which keeps it in the
 * rootfs at that moment, then makes the folder with mkdir -p and mounts a
 * tmpfs onto it by path: both follow a symlink swapped in since the check
 * (tests/escape/swapper.c). It runs in a mount namespace of its own and
 * undoes each attempt's mount; what stays on the host is the folder that
 * mkdir -p made outside the rootfs, the evidence.
 *
 * Usage: bhc-naive-mount ROOTFS DEST ATTEMPTS. Prints "LANDED <mount
 * point> after N attempts" and exits 0 once a mount lands outside ROOTFS,
 * else "INSIDE after N attempts" and exits 1; 2 on an error. Built static
 * with the target's compiler. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SOURCE "bhc-naive-mount"

/* dest with its symlinks resolved as if ROOTFS were /, and never above it
 * (a ".." at the top stays there): a path inside the rootfs at the time of
 * the call. */
static int scoped_resolve(const char *root, const char *dest, char *out, size_t len)
{
	char todo[PATH_MAX], done[PATH_MAX] = "", full[PATH_MAX * 2], link[PATH_MAX];
	char rest[PATH_MAX * 2];
	const char *p = todo;
	int links = 0;

	snprintf(todo, sizeof(todo), "%s", dest);
	while (*p) {
		char comp[NAME_MAX + 1];
		size_t n;
		struct stat st;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n > NAME_MAX)
			return -1;
		memcpy(comp, p, n);
		comp[n] = 0;
		p += n;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *s = strrchr(done, '/');

			if (s)
				*s = 0;
			continue;
		}
		snprintf(full, sizeof(full), "%s%s/%s", root, done, comp);
		if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode)) {
			ssize_t k = readlink(full, link, sizeof(link) - 1);

			if (k < 0 || ++links > 40)
				return -1;
			link[k] = 0;
			if (link[0] == '/')
				done[0] = 0;
			snprintf(rest, sizeof(rest), "%s/%s", link, p);
			if (strlen(rest) >= sizeof(todo))
				return -1;
			memcpy(todo, rest, strlen(rest) + 1);
			p = todo;
			continue;
		}
		if (strlen(done) + n + 2 > sizeof(done))
			return -1;
		strcat(done, "/");
		strcat(done, comp);
	}
	snprintf(out, len, "%s%s", root, done);
	return 0;
}

/* mkdir -p by path: each step follows whatever symlink is there now. */
static void mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1;; s++)
		if (*s == '/' || *s == 0) {
			char c = *s;

			*s = 0;
			mkdir(buf, 0755);
			*s = c;
			if (!c)
				break;
		}
}

/* Where this process's last SOURCE tmpfs is mounted, from its mountinfo. */
static int find_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char mp[PATH_MAX];

		if (strstr(line, " - tmpfs " SOURCE " ") &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
			snprintf(out, len, "%s", mp);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	const char *root = argc == 4 ? argv[1] : NULL;
	size_t root_len = root ? strlen(root) : 0;
	int attempts = argc == 4 ? atoi(argv[3]) : 0;

	if (!root || root[0] != '/' || attempts <= 0) {
		fprintf(stderr, "usage: bhc-naive-mount ROOTFS DEST ATTEMPTS\n");
		return 2;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("bhc-naive-mount: a mount namespace of its own");
		return 2;
	}
	for (int i = 1; i <= attempts; i++) {
		char checked[PATH_MAX], where[PATH_MAX];

		if (scoped_resolve(root, argv[2], checked, sizeof(checked)) < 0 ||
		    strncmp(checked, root, root_len))
			continue;
		mkdir_p(checked);
		if (mount(SOURCE, checked, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") < 0)
			continue;
		if (find_mount(where, sizeof(where)) < 0) {
			fprintf(stderr, "bhc-naive-mount: its mount is not in its mountinfo\n");
			return 2;
		}
		umount2(where, MNT_DETACH);
		if (strncmp(where, root, root_len) || (where[root_len] && where[root_len] != '/')) {
			printf("LANDED %s after %d attempts\n", where, i);
			return 0;
		}
	}
	printf("INSIDE after %d attempts\n", attempts);
	return 1;
}
