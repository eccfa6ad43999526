/* bhpack fetch (not in the help: for the tests and for debugging a
 * registry): drives libbulkhead's registry client exactly as the device
 * does and prints what each step cost and how it failed, as key=value
 * lines:
 *   head REF [--polls N]             the conditional poll, N times on one client
 *   manifest REF [-o FILE]
 *   blob REPO@DIGEST --size N -o FILE [--resumes N]
 *   pull REF -o FILE [--type bundle|update|state] [--resumes N]
 *   state REF --keys DIR [--group G] [--applied-serial N] [--now TIME] */
#include "bhpack.h"
#include "registry_cli.h"

#include <bulkhead/artifact.h>
#include <bulkhead/state.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fetch_args {
	const char *out, *type, *keys;
	unsigned polls, resumes;
	uint64_t size;
	struct state_check chk;
};

static void print_stats(struct registry *r)
{
	const struct registry_stats *s = registry_stats(r);

	printf("requests=%" PRIu64 " sent=%" PRIu64 " received=%" PRIu64 " connections=%" PRIu64
	       "\n",
	       s->requests, s->bytes_sent, s->bytes_received, s->connections);
}

static int do_head(struct registry *r, const struct registry_ref *ref, const struct fetch_args *a,
                   struct bh_error *err)
{
	char digest[REGISTRY_DIGEST_LEN + 1];

	for (unsigned i = 0; i < a->polls; i++) {
		registry_stats_reset(r);
		if (registry_head_manifest(r, ref->repo, ref->digest[0] ? ref->digest : ref->tag,
		                           digest, err) < 0)
			return -1;
		printf("poll=%u digest=%s ", i + 1, digest);
		print_stats(r);
	}
	return 0;
}

static int do_manifest(struct registry *r, const struct registry_ref *ref,
                       const struct fetch_args *a, struct bh_error *err)
{
	char digest[REGISTRY_DIGEST_LEN + 1], type[REGISTRY_MEDIA_TYPE_MAX], *body = NULL;
	size_t len = 0;

	if (registry_get_manifest(r, ref->repo, ref->digest[0] ? ref->digest : ref->tag, &body,
	                          &len, type, digest, err) < 0)
		return -1;
	printf("digest=%s media_type=%s size=%zu\n", digest, type, len);
	if (a->out) {
		FILE *f = fopen(a->out, "we");

		if (!f || fwrite(body, 1, len, f) != len || fclose(f) != 0) {
			free(body);
			return bh_error(err, 0, "write %s", a->out);
		}
	}
	free(body);
	return 0;
}

static int get_blob(struct registry *r, const char *repo, const char *digest, uint64_t size,
                    const struct fetch_args *a, struct bh_error *err)
{
	struct registry_fetch f;
	int rc = registry_get_blob(r, repo, digest, size, a->out, a->resumes, &f, err);

	printf("blob=%s size=%" PRIu64 " resumed_from=%" PRIu64 " downloaded=%" PRIu64
	       " refetched=%" PRIu64 " resumes=%u\n",
	       digest, f.size, f.resumed_from, f.downloaded, f.refetched, f.resumes);
	return rc;
}

static int do_pull(struct registry *r, const struct registry_ref *ref, const struct fetch_args *a,
                   struct bh_error *err)
{
	char digest[REGISTRY_DIGEST_LEN + 1], type[REGISTRY_MEDIA_TYPE_MAX], *body = NULL;
	const char *want = NULL;
	struct artifact art;
	size_t len = 0;
	int rc;

	if (a->type)
		want = !strcmp(a->type, "bundle")   ? ARTIFACT_BUNDLE
		       : !strcmp(a->type, "update") ? ARTIFACT_UPDATE
		                                    : ARTIFACT_STATE;
	if (registry_get_manifest(r, ref->repo, ref->digest[0] ? ref->digest : ref->tag, &body,
	                          &len, type, digest, err) < 0)
		return -1;
	rc = artifact_manifest_parse(body, len, digest, want, &art, err);
	free(body);
	if (rc < 0)
		return -1;
	printf("manifest=%s artifact_type=%s layer=%s layer_size=%" PRIu64 "\n", digest,
	       art.artifact_type, art.layer_digest, art.layer_size);
	return get_blob(r, ref->repo, art.layer_digest, art.layer_size, a, err);
}

static int do_state(struct registry *r, const struct registry_ref *ref, const struct fetch_args *a,
                    struct bh_error *err)
{
	char digest[REGISTRY_DIGEST_LEN + 1], type[REGISTRY_MEDIA_TYPE_MAX], *body = NULL;
	struct state *s = malloc(sizeof(*s));
	enum state_verdict v;
	struct artifact art;
	size_t len = 0;
	int rc = -1;

	if (!s)
		return bh_error(err, 0, "out of memory");
	if (registry_get_manifest(r, ref->repo, ref->digest[0] ? ref->digest : ref->tag, &body,
	                          &len, type, digest, err) < 0)
		goto out;
	rc = artifact_manifest_parse(body, len, digest, ARTIFACT_STATE, &art, err);
	free(body);
	body = NULL;
	if (rc < 0)
		goto out;
	rc = -1;
	if (art.layer_size > STATE_MAX_BYTES) {
		bh_error(err, 0, "%s: the state layer is %" PRIu64 " bytes, at most %d", digest,
		         art.layer_size, STATE_MAX_BYTES);
		goto out;
	}
	if (registry_get_blob_mem(r, ref->repo, art.layer_digest, STATE_MAX_BYTES, &body, &len,
	                          err) < 0)
		goto out;
	rc = state_read(body, len, art.layer_digest, &a->chk, s, &v, err);
	printf("verdict=%s serial=%" PRIu64 "\n", state_verdict_name(v), s->serial);
out:
	free(body);
	free(s);
	return rc;
}

int cmd_fetch(int argc, char **argv)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"polls", required_argument, NULL, 'p'},
	                                     {"resumes", required_argument, NULL, 'r'},
	                                     {"size", required_argument, NULL, 'z'},
	                                     {"type", required_argument, NULL, 't'},
	                                     {"keys", required_argument, NULL, 'k'},
	                                     {"group", required_argument, NULL, 'g'},
	                                     {"applied-serial", required_argument, NULL, 'a'},
	                                     {"now", required_argument, NULL, 'n'},
	                                     REGISTRY_CLI_OPTIONS,
	                                     {NULL, 0, NULL, 0}};
	struct fetch_args a = {.polls = 1, .resumes = 3, .chk.now = (int64_t)time(NULL)};
	struct registry_cli cli = {0};
	struct registry *r = NULL;
	struct registry_ref ref;
	struct bh_error err;
	const char *verb;
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if ((rc = registry_cli_option(&cli, c, optarg)) < 0)
			return EXIT_ERROR;
		if (rc)
			continue;
		switch (c) {
		case 'o':
			a.out = optarg;
			break;
		case 'p':
			a.polls = (unsigned)atoi(optarg);
			break;
		case 'r':
			a.resumes = (unsigned)atoi(optarg);
			break;
		case 'z':
			a.size = strtoull(optarg, NULL, 10);
			break;
		case 't':
			a.type = optarg;
			break;
		case 'k':
			a.chk.keys_dir = optarg;
			break;
		case 'g':
			a.chk.group = optarg;
			break;
		case 'a':
			a.chk.applied_serial = strtoull(optarg, NULL, 10);
			break;
		case 'n':
			if (state_time_parse(optarg, &a.chk.now) < 0) {
				fprintf(stderr, "bhpack fetch: --now wants a UTC time\n");
				return EXIT_ERROR;
			}
			break;
		default:
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 2) {
		fprintf(stderr,
		        "usage: bhpack fetch head|manifest|blob|pull|state [options] REF\n");
		return EXIT_ERROR;
	}
	verb = argv[optind];
	if (registry_ref_parse(argv[optind + 1], 1, &ref, &err) < 0 ||
	    registry_cli_open(&cli, &ref, &r, &err) < 0) {
		bh_error_print(&err, "bhpack fetch");
		return EXIT_ERROR;
	}
	if (!strcmp(verb, "head"))
		rc = do_head(r, &ref, &a, &err);
	else if (!strcmp(verb, "manifest"))
		rc = do_manifest(r, &ref, &a, &err);
	else if (!strcmp(verb, "blob") && a.out && ref.digest[0] && a.size)
		rc = get_blob(r, ref.repo, ref.digest, a.size, &a, &err);
	else if (!strcmp(verb, "pull") && a.out)
		rc = do_pull(r, &ref, &a, &err);
	else if (!strcmp(verb, "state") && a.chk.keys_dir)
		rc = do_state(r, &ref, &a, &err);
	else
		rc = bh_error(&err, 0, "unknown fetch verb %s or missing option", verb);
	registry_cli_print_result(stdout, r);
	print_stats(r);
	fflush(stdout);
	if (rc < 0)
		bh_error_print(&err, "bhpack fetch");
	registry_close(r);
	memset(cli.password, 0, sizeof(cli.password));
	return rc < 0 ? EXIT_REFUSED : EXIT_OK;
}
