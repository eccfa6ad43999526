/* The fleet on the device (docs/fleet.md): where this gateway syncs from
 * and what it has applied.
 *
 * Where from: the image's built-in defaults (Kconfig, "Fleet"), overridden
 * by the device's provisioning. That arrives once on the EFI system
 * partition (PROVISION_ESP_PATH, written by `bhpack provision`); the first
 * boot moves it to FLEET_DIR (the device key 0600, read by bhd alone) and
 * only then deletes it from the ESP, so a power cut in between leaves it
 * in one place or both, never in neither.
 *
 * What was applied (FLEET_STATUS, written atomically after every change):
 * the serial and digest of the state applied, the digest of the state
 * settled (applied as far as it goes), updates that rolled back, the
 * update in progress across its reboot, and the SHA-256 of each installed
 * workload's bundle, so a state naming the same bundle changes nothing. */
#include "bhd.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/fs.h>
#include <bulkhead/hash.h>
#include <bulkhead/json.h>
#include <bulkhead/provision.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

#ifndef BH_FLEET_REGISTRY
#define BH_FLEET_REGISTRY ""
#endif
#ifndef BH_FLEET_REPOSITORY
#define BH_FLEET_REPOSITORY ""
#endif
#ifndef BH_FLEET_GROUP
#define BH_FLEET_GROUP ""
#endif
#ifndef BH_FLEET_POLL_INTERVAL
#define BH_FLEET_POLL_INTERVAL 300
#endif

struct fleet fleet;

/* Status ------------------------------------------------------------------ */

static void add_digests(yyjson_mut_doc *doc, yyjson_mut_val *o, const char *key,
                        const char (*v)[REGISTRY_DIGEST_LEN + 1], size_t n)
{
	yyjson_mut_val *a = yyjson_mut_arr(doc);

	for (size_t i = 0; i < n; i++)
		yyjson_mut_arr_add_strcpy(doc, a, v[i]);
	yyjson_mut_obj_add_val(doc, o, key, a);
}

int fleet_save(struct bh_error *err)
{
	const struct fleet_applied *a = &fleet.applied;
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *bundles, *pending;
	size_t len;
	char *json;
	int rc;

	if (!doc)
		return bh_error(err, ENOMEM, "save %s", FLEET_STATUS);
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_uint(doc, root, "serial", a->serial);
	yyjson_mut_obj_add_strcpy(doc, root, "applied", a->applied);
	yyjson_mut_obj_add_strcpy(doc, root, "settled", a->settled);
	yyjson_mut_obj_add_int(doc, root, "expires", a->expires);
	add_digests(doc, root, "failed_updates", a->failed, a->n_failed);
	pending = yyjson_mut_obj(doc);
	yyjson_mut_obj_add_strcpy(doc, pending, "update", a->pending_update);
	yyjson_mut_obj_add_strcpy(doc, pending, "version", a->pending_version);
	yyjson_mut_obj_add_strcpy(doc, pending, "state", a->pending_state);
	yyjson_mut_obj_add_uint(doc, pending, "serial", a->pending_serial);
	yyjson_mut_obj_add_strcpy(doc, pending, "boot", a->pending_boot);
	yyjson_mut_obj_add_val(doc, root, "pending", pending);
	bundles = yyjson_mut_obj(doc);
	for (size_t i = 0; i < a->n_bundles; i++)
		yyjson_mut_obj_add_strcpy(doc, bundles, a->bundles[i].name, a->bundles[i].layer);
	yyjson_mut_obj_add_val(doc, root, "bundles", bundles);
	json = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY, &len);
	yyjson_mut_doc_free(doc);
	if (!json)
		return bh_error(err, ENOMEM, "save %s", FLEET_STATUS);
	rc = bh_write_atomic(FLEET_STATUS, json, len, 0600, err);
	free(json);
	return rc;
}

static int read_digest(yyjson_val *o, const char *key, const char *path, char *out,
                       struct bh_error *err)
{
	if (json_string_copy(yyjson_obj_get(o, key), path, out, REGISTRY_DIGEST_LEN + 1, err) < 0)
		return -1;
	if (out[0] && !registry_digest_valid(out))
		return bh_error(err, 0, "%s: not a sha256 digest", path);
	return 0;
}

static int load_status(struct bh_error *err)
{
	struct fleet_applied *a = &fleet.applied;
	yyjson_val *root, *v, *k, *pending, *bundles;
	yyjson_obj_iter it;
	yyjson_doc *doc;
	struct json_path at;
	size_t len, i, n;
	char *text;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	if (access(FLEET_STATUS, F_OK) < 0)
		return 0;
	text = bh_read_file(FLEET_STATUS, 256 * 1024, &len, err);
	if (!text)
		return -1;
	doc = yyjson_read(text, len, 0);
	free(text);
	root = yyjson_doc_get_root(doc);
	pending = yyjson_obj_get(root, "pending");
	bundles = yyjson_obj_get(root, "bundles");
	if (json_object(root, "$", err) < 0 ||
	    json_u64(yyjson_obj_get(root, "serial"), "$.serial", &a->serial, err) < 0 ||
	    read_digest(root, "applied", "$.applied", a->applied, err) < 0 ||
	    read_digest(root, "settled", "$.settled", a->settled, err) < 0 ||
	    json_i64(yyjson_obj_get(root, "expires"), "$.expires", &a->expires, err) < 0 ||
	    json_array_max(yyjson_obj_get(root, "failed_updates"), "$.failed_updates",
	                   SYNC_FAILED_MAX, err) < 0 ||
	    json_object(pending, "$.pending", err) < 0 ||
	    read_digest(pending, "update", "$.pending.update", a->pending_update, err) < 0 ||
	    json_string_copy(yyjson_obj_get(pending, "version"), "$.pending.version",
	                     a->pending_version, sizeof(a->pending_version), err) < 0 ||
	    read_digest(pending, "state", "$.pending.state", a->pending_state, err) < 0 ||
	    json_u64(yyjson_obj_get(pending, "serial"), "$.pending.serial", &a->pending_serial,
	             err) < 0 ||
	    json_string_copy(yyjson_obj_get(pending, "boot"), "$.pending.boot", a->pending_boot,
	                     sizeof(a->pending_boot), err) < 0 ||
	    json_object(bundles, "$.bundles", err) < 0)
		goto out;
	yyjson_arr_foreach(yyjson_obj_get(root, "failed_updates"), i, n, v)
	{
		if (json_string_copy(v, json_at(&at, "$.failed_updates", "[%zu]", i), a->failed[i],
		                     sizeof(a->failed[i]), err) < 0)
			goto out;
		a->n_failed = i + 1;
	}
	yyjson_obj_iter_init(bundles, &it);
	while ((k = yyjson_obj_iter_next(&it)) && a->n_bundles < WORKLOADS_MAX) {
		struct fleet_bundle *b = &a->bundles[a->n_bundles];

		snprintf(b->name, sizeof(b->name), "%s", yyjson_get_str(k));
		if (read_digest(bundles, b->name, json_at(&at, "$.bundles.", "%s", b->name),
		                b->layer, err) < 0)
			goto out;
		a->n_bundles++;
	}
	rc = 0;
out:
	yyjson_doc_free(doc);
	if (rc < 0) {
		/* Forgetting what was applied costs a download, never a wrong
		 * install: every file is checked again. */
		memset(a, 0, sizeof(*a));
		bh_error_wrap(err, "%s", FLEET_STATUS);
	}
	return rc;
}

const char *fleet_bundle(const char *name)
{
	for (size_t i = 0; i < fleet.applied.n_bundles; i++)
		if (!strcmp(fleet.applied.bundles[i].name, name))
			return fleet.applied.bundles[i].layer;
	return NULL;
}

void fleet_bundle_set(const char *name, const char *layer)
{
	struct fleet_applied *a = &fleet.applied;
	struct bh_error err;
	size_t i;

	for (i = 0; i < a->n_bundles && strcmp(a->bundles[i].name, name); i++)
		;
	if (!layer) {
		if (i == a->n_bundles)
			return;
		a->bundles[i] = a->bundles[--a->n_bundles];
	} else {
		if (i == a->n_bundles) {
			if (i == WORKLOADS_MAX)
				return;
			a->n_bundles++;
		}
		snprintf(a->bundles[i].name, sizeof(a->bundles[i].name), "%s", name);
		snprintf(a->bundles[i].layer, sizeof(a->bundles[i].layer), "%s", layer);
	}
	if (fleet_save(&err) < 0)
		bhd_log("bhd: fleet: %s", err.msg);
}

void fleet_note_install(const char *name, int fd)
{
	char hex[65], layer[REGISTRY_DIGEST_LEN + 1];
	struct bh_error err;

	int rc = lseek(fd, 0, SEEK_SET) < 0 ? bh_error(&err, errno, "seek the bundle")
	                                    : sha256_fd(fd, "bundle", UINT64_MAX, hex, NULL, &err);

	if (rc < 0) {
		bhd_log("bhd: fleet: cannot hash the bundle of %s: %s", name, err.msg);
		fleet_bundle_set(name, NULL);
		return;
	}
	snprintf(layer, sizeof(layer), "sha256:%s", hex);
	fleet_bundle_set(name, layer);
}

void fleet_boot_id(char *out, size_t size)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	out[n > 0 ? n : 0] = 0;
	out[strcspn(out, "\n")] = 0;
}

/* Configuration and provisioning ------------------------------------------ */

static int write_pem(const char *path, const char *pem, mode_t mode, struct bh_error *err)
{
	return pem ? bh_write_atomic(path, pem, strlen(pem), mode, err) : 0;
}

/* Moves the provisioning from the ESP into FLEET_DIR: written and synced
 * here first, deleted there last. */
static void take_provisioning(void)
{
	char path[256], *text;
	struct provision p;
	struct bh_error err;
	size_t len;

	if (esp_mount(&err) < 0)
		return; /* not booted from disk.img: nothing on an ESP */
	snprintf(path, sizeof(path), ESP_MOUNT "%s", PROVISION_ESP_PATH);
	if (access(path, F_OK) < 0) {
		esp_umount();
		return;
	}
	text = bh_read_file(path, PROVISION_MAX, &len, &err);
	if (!text || provision_parse(text, len, path, &p, &err) < 0) {
		bhd_log("bhd: fleet: the provisioning on the ESP is refused and left there: %s",
		        err.msg);
		free(text);
		esp_umount();
		return;
	}
	if (bh_write_atomic(FLEET_PROVISION, text, len, 0600, &err) < 0 ||
	    write_pem(FLEET_CA, p.ca, 0644, &err) < 0 ||
	    write_pem(FLEET_CERT, p.device_cert, 0644, &err) < 0 ||
	    write_pem(FLEET_KEY, p.device_key, 0600, &err) < 0 ||
	    write_pem(FLEET_BROKER_CA, p.broker_ca, 0644, &err) < 0) {
		bhd_log("bhd: fleet: keep the provisioning: %s (left on the ESP)", err.msg);
	} else if (unlink(path) < 0 || esp_sync(ESP_MOUNT "/bulkhead") < 0) {
		bhd_log("bhd: fleet: remove %s from the ESP: %s", path, bh_strerror(errno));
	} else {
		bhd_log("bhd: fleet: provisioned from the ESP: registry %s, group %s%s%s",
		        p.registry[0] ? p.registry : "(built in)",
		        p.group[0] ? p.group : "(built in)", p.device_id[0] ? ", device " : "",
		        p.device_id);
	}
	memset(text, 0, len);
	free(text);
	provision_free(&p);
	esp_umount();
}

static void load_config(void)
{
	struct sync_config *c = &fleet.cfg;
	struct provision p;
	struct bh_error err;
	size_t len;
	char *text;

	memset(c, 0, sizeof(*c));
	snprintf(c->registry, sizeof(c->registry), "%s", BH_FLEET_REGISTRY);
	snprintf(c->repository, sizeof(c->repository), "%s", BH_FLEET_REPOSITORY);
	snprintf(c->group, sizeof(c->group), "%s", BH_FLEET_GROUP);
	c->poll_interval = BH_FLEET_POLL_INTERVAL;
	if (access(FLEET_BUILTIN_CA, R_OK) == 0)
		snprintf(c->ca_file, sizeof(c->ca_file), "%s", FLEET_BUILTIN_CA);
	fleet.device_id[0] = 0;
	text = access(FLEET_PROVISION, F_OK) == 0
	           ? bh_read_file(FLEET_PROVISION, PROVISION_MAX, &len, &err)
	           : NULL;
	if (text && provision_parse(text, len, FLEET_PROVISION, &p, &err) == 0) {
#define TAKE(f)                                                                                    \
	if (p.f[0])                                                                                \
	snprintf(c->f, sizeof(c->f), "%s", p.f)
		TAKE(registry);
		TAKE(repository);
		TAKE(group);
		TAKE(username);
		TAKE(password);
#undef TAKE
		if (p.poll_interval)
			c->poll_interval = p.poll_interval;
		if (p.ca)
			snprintf(c->ca_file, sizeof(c->ca_file), "%s", FLEET_CA);
		if (p.device_cert) {
			snprintf(c->client_cert, sizeof(c->client_cert), "%s", FLEET_CERT);
			snprintf(c->client_key, sizeof(c->client_key), "%s", FLEET_KEY);
		}
		snprintf(fleet.device_id, sizeof(fleet.device_id), "%s", p.device_id);
		provision_free(&p);
	} else if (text) {
		bhd_log("bhd: fleet: %s", err.msg);
	}
	if (text) {
		memset(text, 0, len);
		free(text);
	}
	fleet.provisioned = c->registry[0] && c->repository[0] && c->group[0];
}

void fleet_init(void)
{
	struct bh_error err;

	if (mkdir(FLEET_DIR, 0711) < 0 && errno != EEXIST)
		bhd_log("bhd: fleet: mkdir %s: %s", FLEET_DIR, bh_strerror(errno));
	chmod(FLEET_DIR, 0711); /* the fetcher reads the CA and certificate here */
	if (mkdir(SYNC_DIR, 0700) < 0 && errno != EEXIST)
		bhd_log("bhd: fleet: mkdir %s: %s", SYNC_DIR, bh_strerror(errno));
	if (chown(SYNC_DIR, BHSYNC_UID, BHSYNC_UID) < 0 || chmod(SYNC_DIR, 0700) < 0)
		bhd_log("bhd: fleet: chown %s: %s", SYNC_DIR, bh_strerror(errno));
	take_provisioning();
	load_config();
	if (load_status(&err) < 0)
		bhd_log("bhd: fleet: %s; starting from nothing applied", err.msg);
	if (fleet.provisioned)
		bhd_log("bhd: fleet: syncing from %s/%s, group %s, every %u s", fleet.cfg.registry,
		        fleet.cfg.repository, fleet.cfg.group, fleet.cfg.poll_interval);
	else
		bhd_log("bhd: fleet: not provisioned (no registry, repository or group): no sync");
}
