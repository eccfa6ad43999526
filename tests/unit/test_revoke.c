/* Key revocation lists (include/bulkhead/revoke.h): a signed list reads
 * back; a list with a wrong signature, by an unknown key, of another
 * format or with a bad field is refused with an error naming it; a
 * revoked key is refused with the list and the reason named; a list
 * replaces another only with a higher serial that keeps every revoked
 * key; a desired state carries a list and refuses a malformed one. */
#include "tap.h"

#include <bulkhead/dsse.h>
#include <bulkhead/revoke.h>
#include <bulkhead/state.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define K1  "0123456789abcdef0123456789abcdef"
#define K2  "fedcba9876543210fedcba9876543210"
#define NOW "\"issued\": \"2026-12-07T10:00:00Z\""

static struct bh_error err;
static char dir[64], trusted[96], other[96];

static char *sign(const char *payload, const char *key_dir, size_t *len)
{
	char key[128], *env = NULL;

	snprintf(key, sizeof(key), "%s/k.key.pem", key_dir);
	if (dsse_sign(REVOKE_PAYLOAD_TYPE, payload, strlen(payload), key, &env, len, &err) < 0) {
		fprintf(stderr, "sign: %s\n", err.msg);
		exit(1);
	}
	return env;
}

static void bad_payload(const char *json, const char *want, const char *what)
{
	static struct revocations r;
	int rc = revoke_parse(json, strlen(json), "l.json", &r, &err);

	ok(rc < 0 && strstr(err.msg, "l.json") && strstr(err.msg, want), "refuses %s: %s", what,
	   rc < 0 ? err.msg : "(accepted)");
}

static void keypair(const char *sub, char *out, size_t size)
{
	char priv[160], pub[160];

	snprintf(out, size, "%s/%s", dir, sub);
	snprintf(priv, sizeof(priv), "%s/k.key.pem", out);
	snprintf(pub, sizeof(pub), "%s/k.pub.pem", out);
	if (mkdir(out, 0700) < 0 || sign_keygen(priv, pub, &err) < 0) {
		fprintf(stderr, "keygen: %s\n", err.msg);
		exit(1);
	}
}

int main(void)
{
	static struct revocations r, held, next;
	static struct state st;
	const char *good =
	    "{\"format\": \"bulkhead-revocations/1\", \"serial\": 2, " NOW
	    ", \"revoked\": [{\"key_id\": \"" K1 "\", \"reason\": \"laptop stolen\"},"
	    " {\"key_id\": \"" K2 "\"}]}";
	char *env, *tampered, *json = NULL, *p, state_json[2048], keys_dir[96];
	size_t len = 0, jlen = 0;
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/bh-revoke-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	keypair("trusted", trusted, sizeof(trusted));
	keypair("other", other, sizeof(other));
	/* The folder holds the private key too: its id is the same. */
	snprintf(keys_dir, sizeof(keys_dir), "%s", trusted);

	/* A good list. */
	env = sign(good, trusted, &len);
	rc = revoke_read(env, len, "list.dsse", keys_dir, &r, &err);
	ok(rc == 0 && r.serial == 2 && r.n == 2 && !strcmp(r.keys[0].key_id, K1) &&
	       !strcmp(r.keys[0].reason, "laptop stolen") && !r.keys[1].reason[0] &&
	       strlen(r.signer) == SIGN_KEY_ID_LEN,
	   "a signed list reads back: serial, keys, reasons, signer %s", rc ? err.msg : r.signer);
	ok(revoke_find(&r, K2) && !revoke_find(&r, "00000000000000000000000000000000") &&
	       !revoke_find(NULL, K1),
	   "revoke_find finds a listed key only");
	rc = revoke_check(&r, "/etc/bulkhead/keys/revoked.dsse", K1, "bundle x.bundle", &err);
	ok(rc < 0 && strstr(err.msg, "bundle x.bundle") && strstr(err.msg, K1) &&
	       strstr(err.msg, "/etc/bulkhead/keys/revoked.dsse") && strstr(err.msg, "serial 2") &&
	       strstr(err.msg, "laptop stolen"),
	   "a revoked key is refused, naming the file, key, list, serial and reason: %s",
	   rc < 0 ? err.msg : "(accepted)");
	ok(revoke_check(&r, "l", "00000000000000000000000000000000", "x", &err) == 0 &&
	       revoke_check(NULL, "l", K1, "x", &err) == 0,
	   "a key no list names is not refused");

	/* Signatures. */
	tampered = strdup(env);
	p = strstr(tampered, "\"payload\": \"");
	p += strlen("\"payload\": \"") + 10;
	*p = *p == 'A' ? 'B' : 'A';
	rc = revoke_read(tampered, strlen(tampered), "list.dsse", keys_dir, &r, &err);
	ok(rc < 0 && strstr(err.msg, "list.dsse") && strstr(err.msg, "bad signature"),
	   "a tampered list is refused: %s", rc < 0 ? err.msg : "(accepted)");
	free(tampered);
	free(env);
	env = sign(good, other, &len);
	rc = revoke_read(env, len, "list.dsse", keys_dir, &r, &err);
	ok(rc < 0 && strstr(err.msg, "list.dsse") && strstr(err.msg, "unknown key"),
	   "a list signed by a key not trusted is refused: %s", rc < 0 ? err.msg : "(accepted)");
	free(env);
	{
		const char *state_env =
		    "{\"payloadType\": \"application/vnd.bulkhead.state.v1+json\", "
		    "\"payload\": \"e30=\", \"signatures\": [{\"keyid\": \"x\", "
		    "\"sig\": \"\"}]}";

		rc = revoke_read(state_env, strlen(state_env), "list.dsse", keys_dir, &r, &err);
	}
	ok(rc < 0 && strstr(err.msg, "list.dsse") && strstr(err.msg, "payloadType"),
	   "an envelope of another type (a state) is refused: %s", rc < 0 ? err.msg : "(accepted)");
	rc = revoke_read("not json", 8, "list.dsse", keys_dir, &r, &err);
	ok(rc < 0 && strstr(err.msg, "list.dsse"), "a file that is not an envelope is refused: %s",
	   rc < 0 ? err.msg : "(accepted)");

	/* Fields. */
	bad_payload("[]", "not a JSON object", "an array");
	bad_payload("{\"format\": \"bulkhead-revocations/2\", \"serial\": 1, " NOW
	            ", \"revoked\": []}",
	            "bulkhead-revocations/2", "an unknown format");
	bad_payload("{\"format\": \"bulkhead-revocations/1\", \"serial\": 0, " NOW
	            ", \"revoked\": []}",
	            "serial", "serial 0");
	bad_payload("{\"format\": \"bulkhead-revocations/1\", \"serial\": 1, "
	            "\"issued\": \"yesterday\", \"revoked\": []}",
	            "issued", "a bad time");
	bad_payload("{\"format\": \"bulkhead-revocations/1\", \"serial\": 1, " NOW "}", "revoked",
	            "no revoked list");
	bad_payload("{\"format\": \"bulkhead-revocations/1\", \"serial\": 1, " NOW
	            ", \"revoked\": [{\"key_id\": \"ABC\"}]}",
	            "not a key id", "a key id that is not 32 hex digits");
	bad_payload("{\"format\": \"bulkhead-revocations/1\", \"serial\": 1, " NOW
	            ", \"revoked\": [{\"reason\": \"x\"}]}",
	            "key_id is missing", "an entry without key_id");
	bad_payload("{\"format\": \"bulkhead-revocations/1\", \"serial\": 1, " NOW
	            ", \"revoked\": [{\"key_id\": \"" K1 "\"}, {\"key_id\": \"" K1 "\"}]}",
	            "twice", "a key listed twice");
	bad_payload("{\"format\": \"bulkhead-revocations/1\", \"serial\": 1, " NOW
	            ", \"revoked\": [], \"unrevoke\": []}",
	            "unrevoke", "an unknown field");

	/* Which list wins. */
	revoke_parse(good, strlen(good), "held", &held, &err);
	next = held;
	ok(revoke_compare(NULL, &next, "n", &err) == REVOKE_NEWER,
	   "with no list held, any is newer");
	ok(revoke_compare(&held, &next, "n", &err) == REVOKE_SAME, "the same list is the same");
	next.serial = 1;
	ok(revoke_compare(&held, &next, "n", &err) == REVOKE_OLDER,
	   "a lower serial is older: the held list stays");
	next.serial = 3;
	revoke_add(&next, "00000000000000000000000000000000", NULL, &err);
	ok(revoke_compare(&held, &next, "n", &err) == REVOKE_NEWER,
	   "a higher serial that keeps every key is newer");
	next = held;
	next.serial = 3;
	next.n = 1; /* K2 left out */
	rc = revoke_compare(&held, &next, "new.dsse", &err);
	ok(rc == REVOKE_CONFLICT && strstr(err.msg, "new.dsse") && strstr(err.msg, K2),
	   "a higher serial that leaves out a revoked key is refused: %s",
	   rc == REVOKE_CONFLICT ? err.msg : "(accepted)");
	next = held;
	revoke_add(&next, "00000000000000000000000000000000", NULL, &err);
	rc = revoke_compare(&held, &next, "new.dsse", &err);
	ok(rc == REVOKE_CONFLICT && strstr(err.msg, "serial 2"),
	   "the same serial with other keys is refused: %s",
	   rc == REVOKE_CONFLICT ? err.msg : "(accepted)");

	/* Round trip through revoke_write. */
	rc = revoke_write(&held, &json, &jlen, &err);
	ok(rc == 0 && revoke_parse(json, jlen, "w", &next, &err) == 0 && next.serial == 2 &&
	       next.n == 2 && !strcmp(next.keys[0].reason, "laptop stolen"),
	   "revoke_write writes what revoke_parse reads");
	free(json);

	/* Carried in a desired state. */
	env = sign(good, trusted, &len);
	snprintf(state_json, sizeof(state_json),
	         "{\"format\": \"bulkhead-state/1\", \"group\": \"lab\", \"serial\": 1, "
	         "\"issued\": \"2026-12-07T10:00:00Z\", \"expires\": \"2026-12-08T10:00:00Z\", "
	         "\"poll_interval\": 300, \"workloads\": [], \"revocations\": %s}",
	         env);
	rc = state_parse(state_json, strlen(state_json), "s.json", &st, &err);
	ok(rc == 0 && st.revocations_len > 0 &&
	       revoke_read(st.revocations, st.revocations_len, "carried", keys_dir, &r, &err) ==
	           0 &&
	       r.serial == 2,
	   "a state carries a signed list that still verifies: %s", rc ? err.msg : "yes");
	rc = state_write(&st, &json, &jlen, &err);
	ok(rc == 0 && strstr(json, "\"revocations\"") &&
	       state_parse(json, jlen, "again", &st, &err) == 0 && st.revocations_len > 0,
	   "state_write keeps the list");
	free(json);
	free(env);
	snprintf(state_json, sizeof(state_json),
	         "{\"format\": \"bulkhead-state/1\", \"group\": \"lab\", \"serial\": 1, "
	         "\"issued\": \"2026-12-07T10:00:00Z\", \"expires\": \"2026-12-08T10:00:00Z\", "
	         "\"poll_interval\": 300, \"workloads\": [], \"revocations\": {\"payload\": 1}}");
	rc = state_parse(state_json, strlen(state_json), "s.json", &st, &err);
	ok(rc < 0 && strstr(err.msg, "s.json: revocations"),
	   "a state carrying something else than a list is refused: %s",
	   rc < 0 ? err.msg : "(accepted)");

	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove the scratch folder");
	}
	return done();
}
