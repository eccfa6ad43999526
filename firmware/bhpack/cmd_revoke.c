/* bhpack revoke: write and sign a key revocation list (bulkhead-revocations/1
 * in a DSSE envelope, docs/vendor.md), or --check one as the device does. */
#include "bhpack.h"

#include <bulkhead/dsse.h>
#include <bulkhead/fs.h>
#include <bulkhead/revoke.h>
#include <bulkhead/state.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A list file, its signature checked against keys_dir (NULL: not). */
static int read_list(const char *path, const char *keys_dir, struct revocations *r,
                     struct bh_error *err)
{
	size_t len = 0;
	char *text = bh_read_file(path, REVOKE_MAX_BYTES, &len, err);
	int rc;

	if (!text)
		return -1;
	rc = revoke_read(text, len, path, keys_dir, r, err);
	free(text);
	return rc;
}

static int check(const char *path, const char *keys_dir, const char *held_path)
{
	struct revocations *r = malloc(sizeof(*r)), *held = malloc(sizeof(*held));
	struct bh_error err;
	char issued[21];
	int rc = EXIT_ERROR;

	if (!r || !held)
		goto out;
	if (read_list(path, keys_dir, r, &err) < 0) {
		printf("verdict=refused\n");
		bh_error_print(&err, "bhpack revoke");
		rc = EXIT_REFUSED;
		goto out;
	}
	if (held_path) {
		if (read_list(held_path, keys_dir, held, &err) < 0) {
			bh_error_print(&err, "bhpack revoke: --held");
			goto out;
		}
		switch (revoke_compare(held, r, path, &err)) {
		case REVOKE_CONFLICT:
			printf("verdict=refused\n");
			bh_error_print(&err, "bhpack revoke");
			rc = EXIT_REFUSED;
			goto out;
		case REVOKE_OLDER:
			printf("verdict=older\n%s: serial %" PRIu64
			       " is older than the held %" PRIu64
			       ": the device keeps the held list\n",
			       path, r->serial, held->serial);
			rc = EXIT_REFUSED;
			goto out;
		case REVOKE_SAME:
			printf("verdict=same\n");
			break;
		case REVOKE_NEWER:
			printf("verdict=newer\n");
			break;
		}
	} else {
		printf("verdict=accepted\n");
	}
	state_time_format(r->issued, issued);
	printf("%s: serial %" PRIu64 ", issued %s, %zu keys revoked, signed by %s\n", path,
	       r->serial, issued, r->n, r->signer);
	for (size_t i = 0; i < r->n; i++)
		printf("revoked %s%s%s\n", r->keys[i].key_id, r->keys[i].reason[0] ? " " : "",
		       r->keys[i].reason);
	rc = EXIT_OK;
out:
	free(r);
	free(held);
	return rc;
}

/* A key id, or the id of a key file. */
static int key_arg(const char *arg, char id[SIGN_KEY_ID_LEN + 1], struct bh_error *err)
{
	struct stat st;

	if (stat(arg, &st) == 0)
		return sign_key_id(arg, id, err);
	if (strlen(arg) != SIGN_KEY_ID_LEN)
		return bh_error(err, 0,
		                "--revoke %s: neither a key file nor a key id (%d hex digits)", arg,
		                SIGN_KEY_ID_LEN);
	snprintf(id, SIGN_KEY_ID_LEN + 1, "%s", arg);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bhpack revoke --key UPDATE-KEY.pem [--from OLD] [--serial N]\n"
	        "                     [--revoke KEY [--reason TEXT]] ... [--issued TIME] -o FILE\n"
	        "       bhpack revoke --check FILE --keys DIR [--held FILE]\n"
	        "KEY is a key id (as bhpack prints it) or a key file (public or private PEM).\n"
	        "--reason applies to the --revoke before it. --from starts from an older list:\n"
	        "its keys stay revoked and the serial defaults to one higher. The list is\n"
	        "signed with an update key: the device checks it against\n"
	        "/etc/bulkhead/keys/updates. --check exits 1 when the device would refuse the\n"
	        "list (or, with --held, keep the held one) and says why (verdict=).\n");
}

int cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'K'},    {"from", required_argument, NULL, 'f'},
	    {"serial", required_argument, NULL, 's'}, {"revoke", required_argument, NULL, 'r'},
	    {"reason", required_argument, NULL, 'R'}, {"issued", required_argument, NULL, 'i'},
	    {"output", required_argument, NULL, 'o'}, {"check", required_argument, NULL, 'c'},
	    {"keys", required_argument, NULL, 'k'},   {"held", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	const char *key = NULL, *from = NULL, *out = NULL, *checkfile = NULL, *keys_dir = NULL,
	           *held = NULL;
	struct revocations *r = calloc(1, sizeof(*r)), *old = calloc(1, sizeof(*old));
	char *payload = NULL, *env = NULL, *end;
	char ids[REVOKE_MAX_KEYS][SIGN_KEY_ID_LEN + 1];
	const char *reasons[REVOKE_MAX_KEYS];
	size_t plen = 0, elen = 0, n_ids = 0;
	uint64_t serial = 0;
	struct bh_error err;
	int c, rc = EXIT_ERROR;

	if (!r || !old)
		goto done;
	r->issued = (int64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			key = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 's':
			errno = 0;
			serial = strtoull(optarg, &end, 10);
			if (errno || *end || !serial || optarg[0] == '-') {
				fprintf(stderr,
				        "bhpack revoke: --serial '%s' is not a whole number "
				        "from 1 up\n",
				        optarg);
				goto done;
			}
			break;
		case 'r':
			if (n_ids == REVOKE_MAX_KEYS) {
				fprintf(stderr, "bhpack revoke: at most %d keys\n",
				        REVOKE_MAX_KEYS);
				goto done;
			}
			if (key_arg(optarg, ids[n_ids], &err) < 0) {
				bh_error_print(&err, "bhpack revoke");
				goto done;
			}
			reasons[n_ids++] = NULL;
			break;
		case 'R':
			if (!n_ids) {
				fprintf(stderr,
				        "bhpack revoke: --reason follows the --revoke it is for\n");
				goto done;
			}
			reasons[n_ids - 1] = optarg;
			break;
		case 'i':
			if (state_time_parse(optarg, &r->issued) < 0) {
				fprintf(stderr,
				        "bhpack revoke: '%s' is not a UTC time like "
				        "2026-12-06T16:00:00Z\n",
				        optarg);
				goto done;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			checkfile = optarg;
			break;
		case 'k':
			keys_dir = optarg;
			break;
		case 'H':
			held = optarg;
			break;
		case 'h':
			usage(stdout);
			rc = EXIT_OK;
			goto done;
		default:
			usage(stderr);
			goto done;
		}
	}
	if (checkfile) {
		if (!keys_dir || optind != argc) {
			usage(stderr);
			goto done;
		}
		rc = check(checkfile, keys_dir, held);
		goto done;
	}
	if (!key || !out || optind != argc || (!n_ids && !from) || (!serial && !from)) {
		usage(stderr);
		goto done;
	}
	if (from) {
		/* Its keys stay revoked: carried over first, with their reasons. */
		if (read_list(from, NULL, old, &err) < 0) {
			bh_error_print(&err, "bhpack revoke: --from");
			goto done;
		}
		if (!serial)
			serial = old->serial + 1;
		if (serial <= old->serial) {
			fprintf(stderr,
			        "bhpack revoke: --serial %" PRIu64
			        " must be higher than %s's %" PRIu64 "\n",
			        serial, from, old->serial);
			goto done;
		}
		for (size_t i = 0; i < old->n; i++)
			if (revoke_add(r, old->keys[i].key_id, old->keys[i].reason, &err) < 0)
				goto fail;
	}
	r->serial = serial;
	for (size_t i = 0; i < n_ids; i++)
		if (revoke_add(r, ids[i], reasons[i], &err) < 0)
			goto fail;
	/* Written, then read back with the device's own parser: a list the
	 * device would refuse is never signed. */
	if (revoke_write(r, &payload, &plen, &err) < 0 ||
	    revoke_parse(payload, plen, "the new revocation list", old, &err) < 0 ||
	    dsse_sign(REVOKE_PAYLOAD_TYPE, payload, plen, key, &env, &elen, &err) < 0 ||
	    bh_write_atomic(out, env, elen, 0644, &err) < 0)
		goto fail;
	printf("%s: serial %" PRIu64 ", %zu keys revoked, signed\n", out, r->serial, r->n);
	rc = EXIT_OK;
	goto done;
fail:
	bh_error_print(&err, "bhpack revoke");
done:
	free(payload);
	free(env);
	free(r);
	free(old);
	return rc;
}
