/* bhpack push: publish a workload bundle, an update file or a signed
 * desired state in an OCI registry as an artifact (docs/fleet.md): the
 * file as the one layer of an image manifest with our artifactType. */
#include "bhpack.h"
#include "registry_cli.h"

#include <bulkhead/artifact.h>
#include <bulkhead/dsse.h>
#include <bulkhead/registry_push.h>
#include <bulkhead/state.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Which artifact a file is: a bundle or an update, checked whole (every
 * member's hash) so that nothing broken is published. */
static const char *file_type(const char *path, struct bh_error *err)
{
	struct bh_error e2;
	struct bundle b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s", path), NULL;
	if (bundle_check_as(fd, path, BUNDLE_FORMAT, NULL, &b, err) == 0) {
		bundle_free(&b);
		close(fd);
		return ARTIFACT_BUNDLE;
	}
	if (lseek(fd, 0, SEEK_SET) == 0 &&
	    bundle_check_as(fd, path, UPDATE_FORMAT, NULL, &b, &e2) == 0) {
		bundle_free(&b);
		close(fd);
		return ARTIFACT_UPDATE;
	}
	close(fd);
	bh_error(err, 0,
	         "%s is neither a workload bundle nor an update file (as a bundle: %s; "
	         "as an update: %s)",
	         path, err->msg, e2.msg);
	return NULL;
}

/* A state file must be an envelope of a valid state for the tag's group
 * (REPO:group-NAME), signed by a key in keys (when given). */
static int check_state(const char *path, const char *tag, const char *keys, struct bh_error *err)
{
	char *buf = NULL, *payload = NULL, kid[SIGN_KEY_ID_LEN + 1];
	enum dsse_failure why;
	struct state *s = NULL;
	size_t plen = 0;
	ssize_t n;
	int rc = -1, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	buf = malloc(STATE_MAX_BYTES + 1);
	s = malloc(sizeof(*s));
	if (!buf || !s) {
		bh_error(err, ENOMEM, "read %s", path);
		goto out;
	}
	n = read(fd, buf, STATE_MAX_BYTES + 1);
	if (n < 0 || n > STATE_MAX_BYTES) {
		bh_error(err, n < 0 ? errno : 0, "read %s%s", path,
		         n > STATE_MAX_BYTES ? ": larger than a state envelope may be" : "");
		goto out;
	}
	if (dsse_open(buf, (size_t)n, path, STATE_PAYLOAD_TYPE, keys, &payload, &plen, kid, &why,
	              err) < 0 ||
	    state_parse(payload, plen, path, s, err) < 0)
		goto out;
	if (strncmp(tag, "group-", 6) || strcmp(tag + 6, s->group)) {
		bh_error(err, 0, "%s is the state of group %s: publish it at tag group-%s, not %s",
		         path, s->group, s->group, tag);
		goto out;
	}
	rc = 0;
out:
	free(payload);
	free(buf);
	free(s);
	close(fd);
	return rc;
}

static int push(struct registry_cli *cli, const char *path, const char *type,
                const struct registry_ref *ref, char digest[REGISTRY_DIGEST_LEN + 1],
                struct bh_error *err)
{
	struct registry *r = NULL;
	struct artifact a = {0};
	char cfg[REGISTRY_DIGEST_LEN + 1], tmp[4096], *json = NULL;
	size_t len = 0;
	int rc = -1;

	snprintf(a.artifact_type, sizeof(a.artifact_type), "%s", type);
	snprintf(a.layer_media_type, sizeof(a.layer_media_type), "%s", artifact_layer_type(type));
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(a.title, sizeof(a.title), "%s", basename(tmp));
	if (registry_cli_open(cli, ref, &r, err) < 0)
		return -1;
	if (registry_push_blob_file(r, ref->repo, path, a.layer_digest, &a.layer_size, err) < 0 ||
	    registry_push_blob_mem(r, ref->repo, OCI_EMPTY_DATA, 2, cfg, err) < 0 ||
	    artifact_manifest_write(&a, &json, &len, err) < 0 ||
	    registry_push_manifest(r, ref->repo, ref->tag, OCI_MANIFEST_MEDIA_TYPE, json, len,
	                           digest, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		registry_cli_print_result(stderr, r);
	free(json);
	registry_close(r);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bhpack push [registry options] BUNDLE|UPDATE REF\n"
	        "       bhpack push [registry options] --state FILE [--keys DIR] REPO:group-NAME\n"
	        "REF is [https://]host[:port]/repository:tag. Prints the artifact's manifest\n"
	        "digest: the value a desired state names. --keys checks the state's signature\n"
	        "against those public keys before it is published.\n%s",
	        REGISTRY_CLI_USAGE);
}

int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {{"state", required_argument, NULL, 's'},
	                                     {"keys", required_argument, NULL, 'k'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     REGISTRY_CLI_OPTIONS,
	                                     {NULL, 0, NULL, 0}};
	struct registry_cli cli = {0};
	const char *state = NULL, *keys = NULL, *path, *type;
	char digest[REGISTRY_DIGEST_LEN + 1];
	struct registry_ref ref;
	struct bh_error err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((rc = registry_cli_option(&cli, c, optarg)) != 0) {
			if (rc < 0)
				return EXIT_ERROR;
		} else if (c == 's') {
			state = optarg;
		} else if (c == 'k') {
			keys = optarg;
		} else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind != argc - (state ? 1 : 2)) {
		usage(stderr);
		return EXIT_ERROR;
	}
	path = state ? state : argv[optind];
	if (registry_ref_parse(argv[argc - 1], 1, &ref, &err) < 0)
		goto fail;
	if (ref.digest[0] || !ref.tag[0]) {
		bh_error(&err, 0, "reference %s: push to a tag (REPO:tag), not a digest",
		         argv[argc - 1]);
		goto fail;
	}
	if (state) {
		type = ARTIFACT_STATE;
		if (check_state(state, ref.tag, keys, &err) < 0)
			goto fail;
	} else if (!(type = file_type(path, &err))) {
		goto fail;
	}
	if (push(&cli, path, type, &ref, digest, &err) < 0)
		goto fail;
	printf("%s\n", digest);
	memset(cli.password, 0, sizeof(cli.password));
	return EXIT_OK;
fail:
	memset(cli.password, 0, sizeof(cli.password));
	bh_error_print(&err, "bhpack push");
	return EXIT_ERROR;
}
