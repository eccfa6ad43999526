/* bhd's revocation lists (firmware/bhd/revoked.c), in a scratch folder in
 * place of /etc/bulkhead/keys and /data/fleet: a list a state carries is
 * checked against the update keys, stored and still held after a restart;
 * an older list is left out, one that un-revokes a key, one signed by a
 * key not trusted or by a revoked key is refused with the stored file
 * untouched (a key's list revoking itself excepted); the image's list
 * applies beside it; a stored list that no longer verifies is ignored;
 * installed workloads signed by a newly revoked key are named in the
 * log. */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char image_path[128], fleet_dir[128], fleet_path[160], keys_dir[128];
#define REVOKED_IMAGE_LIST image_path
#define REVOKED_FLEET_DIR  fleet_dir
#define REVOKED_FLEET_LIST fleet_path
#define REVOKED_KEYS_DIR   keys_dir
#include "revoked.c"

#include <bulkhead/dsse.h>

struct workload workloads[WORKLOADS_MAX];
static char logged[16384];

void bhd_log(const char *fmt, ...)
{
	size_t n = strlen(logged);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
	va_end(ap);
	n = strlen(logged);
	if (n + 1 < sizeof(logged))
		strcpy(logged + n, "\n");
}

static char dir[64];
static struct bh_error err, other_err;

/* A key pair; its id into id. trusted: its public half in keys_dir. */
static void key(const char *name, int trusted, char *priv, char id[SIGN_KEY_ID_LEN + 1])
{
	char pub[160];

	snprintf(priv, 160, "%s/%s.key.pem", dir, name);
	if (trusted)
		snprintf(pub, sizeof(pub), "%s/%s.pub.pem", keys_dir, name);
	else
		snprintf(pub, sizeof(pub), "%s/%s.pub.pem", dir, name);
	if (sign_keygen(priv, pub, &err) < 0 || sign_key_id(pub, id, &err) < 0) {
		fprintf(stderr, "keygen: %s\n", err.msg);
		exit(1);
	}
}

/* A signed list of serial revoking ids (NULL-terminated). */
static char *list(uint64_t serial, const char *signer, const char *const *ids, size_t *len)
{
	static struct revocations r;
	char *payload = NULL, *env = NULL;
	size_t plen = 0;

	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.issued = 1796600000;
	for (; *ids; ids++)
		revoke_add(&r, *ids, "test", &err);
	if (revoke_write(&r, &payload, &plen, &err) < 0 ||
	    dsse_sign(REVOKE_PAYLOAD_TYPE, payload, plen, signer, &env, len, &err) < 0) {
		fprintf(stderr, "list: %s\n", err.msg);
		exit(1);
	}
	free(payload);
	return env;
}

static char *stored(void)
{
	size_t len;

	return bh_read_file(fleet_path, REVOKE_MAX_BYTES, &len, &err);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		exit(1);
}

int main(void)
{
	char upd[160], upd2[160], wl[160], gone[160], other[160];
	char upd_id[33], upd2_id[33], wl_id[33], gone_id[33], other_id[33];
	char *l1, *l2, *l3, *x, *held;
	size_t n1, n2, n3, nx;
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/bh-bhd-revoked-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(keys_dir, sizeof(keys_dir), "%s/updates", dir);
	snprintf(fleet_dir, sizeof(fleet_dir), "%s/fleet", dir);
	snprintf(fleet_path, sizeof(fleet_path), "%s/revoked.dsse", fleet_dir);
	snprintf(image_path, sizeof(image_path), "%s/image-revoked.dsse", dir);
	mkdir(keys_dir, 0700);
	key("update", 1, upd, upd_id);
	key("update2", 1, upd2, upd2_id);
	key("workload", 0, wl, wl_id);
	key("gone", 0, gone, gone_id);
	key("other", 0, other, other_id);

	revoked_load();
	ok(revoked_check(wl_id, "x", &err) == 0, "with no list, no key is revoked");

	/* A state's list: adopted, stored, held after a restart. */
	l1 = list(1, upd, (const char *const[]){wl_id, NULL}, &n1);
	rc = revoked_adopt(l1, n1, "the state's list", &err);
	held = stored();
	ok(rc == 0 && held && !strcmp(held, l1),
	   "a list signed by an update key is adopted and stored");
	free(held);
	rc = revoked_check(wl_id, "bundle b", &err);
	ok(rc < 0 && strstr(err.msg, "bundle b: signed by key") && strstr(err.msg, wl_id) &&
	       strstr(err.msg, fleet_path) && strstr(err.msg, "serial 1: test"),
	   "its key is refused, naming the list: %s", rc < 0 ? err.msg : "(accepted)");
	revoked_load();
	ok(revoked_check(wl_id, "x", &err) < 0 && strstr(logged, "serial 1, 1 keys revoked"),
	   "after a restart the stored list still holds");

	/* Newer, older, un-revoking. */
	l2 = list(2, upd, (const char *const[]){wl_id, gone_id, NULL}, &n2);
	rc = revoked_adopt(l2, n2, "list 2", &err);
	ok(rc == 0 && revoked_check(gone_id, "x", &err) < 0,
	   "a higher serial keeping every key replaces it");
	logged[0] = 0;
	rc = revoked_adopt(l1, n1, "list 1 again", &err);
	held = stored();
	ok(rc == 0 && held && !strcmp(held, l2) && strstr(logged, "older than the held 2"),
	   "an older list is left out, the held one kept and the log says so");
	free(held);
	l3 = list(3, upd, (const char *const[]){gone_id, NULL}, &n3);
	rc = revoked_adopt(l3, n3, "list 3", &err);
	held = stored();
	ok(rc < 0 && strstr(err.msg, "list 3") && strstr(err.msg, wl_id) && held &&
	       !strcmp(held, l2) && revoked_check(wl_id, "x", &other_err) < 0,
	   "a list that would un-revoke a key is refused, the stored one untouched: %s",
	   rc < 0 ? err.msg : "(accepted)");
	free(held);
	free(l3);

	/* Who may sign one. */
	x = list(3, wl, (const char *const[]){wl_id, gone_id, NULL}, &nx);
	rc = revoked_adopt(x, nx, "by the workload key", &err);
	ok(rc < 0 && strstr(err.msg, "unknown key"),
	   "a list not signed by an update key is refused: %s", rc < 0 ? err.msg : "(accepted)");
	free(x);
	l3 = list(3, upd2, (const char *const[]){wl_id, gone_id, upd2_id, NULL}, &n3);
	rc = revoked_adopt(l3, n3, "list 3", &err);
	ok(rc == 0 && revoked_check(upd2_id, "x", &err) < 0, "an update key may revoke itself");
	x = list(4, upd2, (const char *const[]){wl_id, gone_id, upd2_id, other_id, NULL}, &nx);
	rc = revoked_adopt(x, nx, "by a revoked key", &err);
	held = stored();
	ok(rc < 0 && strstr(err.msg, "by a revoked key: signed by key") &&
	       strstr(err.msg, upd2_id) && held && !strcmp(held, l3),
	   "then a list it signs is refused, even one that names it: %s",
	   rc < 0 ? err.msg : "(accepted)");
	free(held);
	free(x);
	free(l3);

	/* The image's list, beside the fleet's. */
	free(l1);
	l1 = list(1, upd, (const char *const[]){other_id, NULL}, &n1);
	write_file(image_path, l1);
	revoked_load();
	rc = revoked_check(other_id, "update", &err);
	ok(rc < 0 && strstr(err.msg, image_path) && revoked_check(wl_id, "x", &other_err) < 0,
	   "the image's list applies beside the stored one: %s", rc < 0 ? err.msg : "(accepted)");

	/* A stored list that does not verify any more. */
	write_file(fleet_path, "{\"payloadType\": \"x\"}");
	logged[0] = 0;
	revoked_load();
	ok(revoked_check(wl_id, "x", &err) == 0 && strstr(logged, fleet_path) &&
	       strstr(logged, "ignored"),
	   "a stored list that does not verify is ignored, and the log says so");
	rc = revoked_adopt(l2, n2, "list 2 again", &err);
	ok(rc == 0 && revoked_check(wl_id, "x", &err) < 0,
	   "then the next state's list takes its place");

	/* Installed workloads signed by a key it revokes. */
	workloads[0].used = true;
	snprintf(workloads[0].m.name, sizeof(workloads[0].m.name), "app");
	snprintf(workloads[0].signer, sizeof(workloads[0].signer), "%s", other_id);
	logged[0] = 0;
	x = list(5, upd, (const char *const[]){wl_id, gone_id, upd2_id, other_id, NULL}, &nx);
	rc = revoked_adopt(x, nx, "list 5", &err);
	ok(rc == 0 && strstr(logged, "app: its signing key") &&
	       strstr(logged, "will not start again"),
	   "an installed workload signed by a newly revoked key is named in the log");
	free(x);

	free(l1);
	free(l2);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove the scratch folder");
	}
	return done();
}
