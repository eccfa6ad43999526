/* Installing and removing workloads.
 *
 * Install: the bundle's signature, members, manifest and SBOM are checked
 * before anything is written (bundle_check); the image is unpacked into a
 * temporary folder and the SBOM must describe exactly what was unpacked;
 * every file and folder of it is fsynced; then the image folder is renamed
 * into place and its parent fsynced, the SBOM stored, and last the
 * manifest (written, fsynced, renamed, its folder fsynced), which is the
 * commit point. So after a power cut at any point a workload is either
 * absent or whole: a manifest on disk never names a file whose data is
 * not (ext4 may otherwise commit the rename before delayed data blocks).
 * Remove undoes it in the other order, the manifest's removal durable
 * before any file goes. At start, anything that lacks its manifest is the
 * remains of an interrupted install and is cleaned up.
 *
 * The id of the key that signed the bundle is kept beside the manifest
 * (<name>.signer, written before it), so that a key revoked later stops
 * the workload at its next start (revoked.c, run.c). */
#include "bhd.h"

#include <bulkhead/bundle.h>
#include <bulkhead/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates one mount point (every missing component) inside an unpacked
 * rootfs; a symlink the bundle brought resolves inside the rootfs, never
 * on the host (openat2 RESOLVE_IN_ROOT). The rootfs is owned by the host's
 * root and mounted read-only, so the container, root only in its own user
 * namespace, could not create it at start. */
static int mount_point(int rootfd, const char *path, struct bh_error *err)
{
	int fd = bh_mkdir_in_root(rootfd, path, false, err);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* The mount points bhd's container config uses (container.c): the fixed
 * ones and one per volume. */
static int make_mount_points(const char *dir, const struct wl_manifest *m, struct bh_error *err)
{
	static const char *const fixed[] = {"proc", "dev", "tmp", "sys"};
	char path[256];
	int rootfd, rc = 0;

	snprintf(path, sizeof(path), "%s/rootfs", dir);
	rootfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return bh_error(err, errno, "open %s", path);
	for (size_t i = 0; rc == 0 && i < sizeof(fixed) / sizeof(fixed[0]); i++)
		rc = mount_point(rootfd, fixed[i], err);
	for (size_t i = 0; rc == 0 && i < m->n_volumes; i++)
		rc = mount_point(rootfd, m->volumes[i].path, err);
	close(rootfd);
	return rc;
}

/* Loads an installed workload (its manifest) into the table. */
static int load_one(const char *name, struct bh_error *err)
{
	char path[256], dir[256];
	struct workload *w;
	size_t len;
	char *text;
	int rc;

	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.json", name);
	text = bh_read_file(path, BUNDLE_MANIFEST_MAX, &len, err);
	if (!text)
		return -1;
	w = workload_new();
	if (!w) {
		free(text);
		return bh_error(err, 0, "more than %d workloads", WORKLOADS_MAX);
	}
	rc = wl_manifest_parse(text, len, path, &w->m, err);
	free(text);
	if (rc < 0)
		return -1;
	workload_default_limits(&w->m);
	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.signer", name);
	text = bh_read_file(path, SIGN_KEY_ID_LEN + 1, &len, err);
	if (text && len >= SIGN_KEY_ID_LEN)
		snprintf(w->signer, sizeof(w->signer), "%.*s", SIGN_KEY_ID_LEN, text);
	else
		bhd_log("bhd: %s: no record of the key that signed it (installed before bhd kept "
			"one): key revocations cannot stop it; install it again", name);
	free(text);
	snprintf(dir, sizeof(dir), WORKLOADS_DIR "/%s/initrd", name);
	w->has_initrd = access(dir, F_OK) == 0;
	snprintf(dir, sizeof(dir), WORKLOADS_DIR "/%s/disk.img", name);
	w->has_disk = access(dir, F_OK) == 0;
	w->used = true;
	return 0;
}

int workload_install(int fd, const char *what, char *name_out, struct bh_error *err)
{
	char tmp[256], dir[256], path[256], signer[SIGN_KEY_ID_LEN + 2];
	struct wl_manifest m;
	struct bundle b;
	struct stat st;
	int rc = -1;

	if (bundle_check(fd, what, WORKLOAD_KEYS, &b, err) < 0)
		return -1;
	if (revoked_check(b.key_id, what, err) < 0) {
		bundle_free(&b);
		return -1;
	}
	if (wl_manifest_parse(b.manifest, strlen(b.manifest), "bundle: manifest.json", &m, err) < 0) {
		bundle_free(&b);
		return bh_error_wrap(err, "the manifest does not parse");
	}
	if (strcmp(m.name, b.name)) {
		bh_error(err, 0, "bundle: its manifest names '%s', its index '%s'", m.name, b.name);
		goto out;
	}
	if (!bundle_member(&b, m.mode == WL_CONTAINER ? "rootfs.tar" : "kernel")) {
		bh_error(err, 0, "bundle: a %s workload needs %s", m.mode == WL_VM ? "vm" : "container",
			 m.mode == WL_VM ? "a kernel" : "rootfs.tar");
		goto out;
	}
	if (workload_find(m.name)) {
		bh_error(err, 0, "a workload named '%s' is installed already: remove it first", m.name);
		err->code = EEXIST;
		goto out;
	}
	snprintf(dir, sizeof(dir), WORKLOADS_DIR "/%s", m.name);
	snprintf(tmp, sizeof(tmp), WORKLOADS_DIR "/.tmp-%s", m.name);
	bh_remove_tree(tmp);
	if (lstat(dir, &st) == 0)
		bh_remove_tree(dir); /* left over without a manifest */
	if (bundle_extract(fd, what, &b, tmp, err) < 0)
		goto out;
	if (bundle_check_contents(&b, "bundle", tmp, err) < 0 ||
	    (m.mode == WL_CONTAINER && make_mount_points(tmp, &m, err) < 0)) {
		bh_remove_tree(tmp);
		goto out;
	}
	if (bh_sync_tree(tmp, err) < 0) {
		bh_remove_tree(tmp);
		goto out;
	}
	if (rename(tmp, dir) < 0) {
		bh_error(err, errno, "rename %s to %s", tmp, dir);
		bh_remove_tree(tmp);
		goto out;
	}
	if (bh_sync_path(WORKLOADS_DIR, err) < 0) {
		bh_remove_tree(dir);
		goto out;
	}
	snprintf(path, sizeof(path), SBOM_STORE "/%s.spdx.json", m.name);
	if (bh_write_atomic(path, b.sbom, b.sbom_len, 0644, err) < 0) {
		bh_remove_tree(dir);
		goto out;
	}
	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.signer", m.name);
	snprintf(signer, sizeof(signer), "%s\n", b.key_id);
	if (bh_write_atomic(path, signer, strlen(signer), 0644, err) < 0) {
		snprintf(path, sizeof(path), SBOM_STORE "/%s.spdx.json", m.name);
		unlink(path);
		bh_remove_tree(dir);
		goto out;
	}
	/* The manifest last: with it, the workload is installed. */
	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.json", m.name);
	if (bh_write_atomic(path, b.manifest, strlen(b.manifest), 0644, err) < 0) {
		snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.signer", m.name);
		unlink(path);
		snprintf(path, sizeof(path), SBOM_STORE "/%s.spdx.json", m.name);
		unlink(path);
		bh_remove_tree(dir);
		goto out;
	}
	if (load_one(m.name, err) < 0)
		goto out;
	strcpy(name_out, m.name);
	fleet_note_install(m.name, fd);
	bhd_log("bhd: installed %s %s (%s), signed by key %s", m.name, m.version,
		m.mode == WL_VM ? "vm" : "container", b.key_id);
	report_installed(m.name, m.version);
	rc = 0;
out:
	wl_manifest_free(&m);
	bundle_free(&b);
	return rc;
}

int workload_remove(const char *name, struct bh_error *err)
{
	struct workload *w = workload_find(name);
	char path[256];

	if (!w)
		return bh_error(err, 0, "no workload named '%s' is installed", name);
	workload_stop(w, false);
	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.json", name);
	if (unlink(path) < 0 && errno != ENOENT)
		return bh_error(err, errno, "remove %s", path);
	if (bh_sync_path(MANIFESTS_DIR, err) < 0)
		return -1;
	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.stopped", name);
	unlink(path);
	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.signer", name);
	unlink(path);
	snprintf(path, sizeof(path), SBOM_STORE "/%s.spdx.json", name);
	unlink(path);
	snprintf(path, sizeof(path), WORKLOADS_DIR "/%s", name);
	bh_remove_tree(path);
	sync();
	report_removed(name, w->m.version);
	wl_manifest_free(&w->m);
	w->used = false;
	fleet_bundle_set(name, NULL);
	bhd_log("bhd: removed %s", name);
	return 0;
}

/* Names in dir ending with suffix, without it. */
static int each_name(const char *dir, const char *suffix, void (*fn)(const char *))
{
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t sl = strlen(suffix);

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char name[256];

		if (e->d_name[0] == '.' && strncmp(e->d_name, ".tmp-", 5))
			continue;
		if (n <= sl || n - sl >= sizeof(name) || strcmp(e->d_name + n - sl, suffix))
			continue;
		memcpy(name, e->d_name, n - sl);
		name[n - sl] = 0;
		fn(name);
	}
	closedir(d);
	return 0;
}

static void drop_orphan_dir(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.json", name);
	if (!strncmp(name, ".tmp-", 5) || access(path, F_OK) < 0) {
		snprintf(path, sizeof(path), WORKLOADS_DIR "/%s", name);
		bhd_log("bhd: removing %s: an install that did not finish", path);
		bh_remove_tree(path);
	}
}

/* Removes a file kept beside an installed workload's manifest (its SBOM,
 * its signer) when that workload has no manifest: a power cut between the
 * two writes, or a remove that did not finish. */
static void drop_unless_installed(const char *name, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.json", name);
	if (access(path, F_OK) < 0)
		unlink(file);
}

static void drop_orphan_sbom(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), SBOM_STORE "/%s.spdx.json", name);
	drop_unless_installed(name, path);
}

static void drop_orphan_signer(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.signer", name);
	drop_unless_installed(name, path);
}

static void load_named(const char *name)
{
	struct bh_error err;

	if (load_one(name, &err) < 0)
		bhd_log("bhd: cannot load workload %s: %s", name, err.msg);
}

void workloads_load(void)
{
	each_name(WORKLOADS_DIR, "", drop_orphan_dir);
	each_name(SBOM_STORE, ".spdx.json", drop_orphan_sbom);
	each_name(MANIFESTS_DIR, ".signer", drop_orphan_signer);
	each_name(MANIFESTS_DIR, ".json", load_named);
}

static void install_embedded(const char *file)
{
	char path[512], name[256];
	struct bh_error err = {0};
	int fd;

	snprintf(path, sizeof(path), EMBEDDED_DIR "/%s.bundle", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* Installed once; after that the operator decides (remove, stop). */
	snprintf(name, sizeof(name), MANIFESTS_DIR "/.embedded-%s", file);
	if (access(name, F_OK) == 0) {
		close(fd);
		return;
	}
	/* EEXIST: installed already, most likely by an earlier boot cut
	 * short before it noted so; it is not tried again. */
	if (workload_install(fd, path, name, &err) < 0 && err.code != EEXIST)
		bhd_log("bhd: the image's bundle %s was refused: %s", path, err.msg);
	else {
		if (err.code == EEXIST)
			bhd_log("bhd: the image's bundle %s: %s; noted as installed", path, err.msg);
		/* Durable like the install: without it the next boot would
		 * find the workload there and call the bundle refused. */
		snprintf(path, sizeof(path), MANIFESTS_DIR "/.embedded-%s", file);
		if (bh_write_atomic(path, "", 0, 0600, &err) < 0)
			bhd_log("bhd: %s", err.msg);
	}
	close(fd);
}

void workloads_install_embedded(void)
{
	each_name(EMBEDDED_DIR, ".bundle", install_embedded);
}
