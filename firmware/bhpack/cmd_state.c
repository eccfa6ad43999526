/* bhpack state: write and sign a desired state (bulkhead-state/1 in a DSSE
 * envelope, docs/fleet.md), or --check one as the device does. */
#include "bhpack.h"

#include <bulkhead/dsse.h>
#include <bulkhead/fs.h>
#include <bulkhead/state.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* VERSION@sha256:... */
static int split_at_digest(const char *arg, char *version, size_t vcap, char *digest)
{
	const char *at = strchr(arg, '@');

	if (!at || (size_t)(at - arg) >= vcap || strlen(at + 1) > REGISTRY_DIGEST_LEN)
		return -1;
	memcpy(version, arg, (size_t)(at - arg));
	version[at - arg] = 0;
	strcpy(digest, at + 1);
	return 0;
}

static int parse_workload(const char *arg, struct state_workload *w)
{
	const char *eq = strchr(arg, '=');

	if (!eq || (size_t)(eq - arg) >= sizeof(w->name))
		return -1;
	memcpy(w->name, arg, (size_t)(eq - arg));
	w->name[eq - arg] = 0;
	return split_at_digest(eq + 1, w->version, sizeof(w->version), w->bundle);
}

/* The signed list, as its file holds it; state_parse checks its form. */
static int carry_revocations(const char *path, struct state *s, struct bh_error *err)
{
	size_t len = 0;
	char *text = bh_read_file(path, REVOKE_MAX_BYTES, &len, err);

	if (!text)
		return bh_error_wrap(err, "--revocations");
	memcpy(s->revocations, text, len);
	s->revocations[len] = 0;
	s->revocations_len = len;
	free(text);
	return 0;
}

static int check(const char *path, const struct state_check *c)
{
	char *buf = malloc(STATE_MAX_BYTES + 1), exp[21];
	struct state *s = malloc(sizeof(*s));
	enum state_verdict v = STATE_MALFORMED;
	struct bh_error err;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = EXIT_ERROR;
	ssize_t n = -1;

	if (fd < 0 || !buf || !s) {
		fprintf(stderr, "bhpack state: open %s: %s\n", path, bh_strerror(errno));
		goto out;
	}
	n = read(fd, buf, STATE_MAX_BYTES + 1);
	if (n < 0) {
		fprintf(stderr, "bhpack state: read %s: %s\n", path, bh_strerror(errno));
		goto out;
	}
	if (state_read(buf, (size_t)n, path, c, s, &v, &err) < 0) {
		printf("verdict=%s\n", state_verdict_name(v));
		bh_error_print(&err, "bhpack state");
		rc = EXIT_REFUSED;
		goto out;
	}
	state_time_format(s->expires, exp);
	printf("verdict=%s\n%s: group %s, serial %" PRIu64 ", expires %s, poll every %u s, "
	       "%zu workloads, firmware %s, %s revocation list, signed by %s\n",
	       state_verdict_name(v), path, s->group, s->serial, exp, s->poll_interval,
	       s->n_workloads, s->has_firmware ? s->firmware_version : "not managed",
	       s->revocations_len ? "with a" : "no", s->key_id);
	rc = EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(s);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: bhpack state --key KEY.pem --group NAME --serial N\n"
	       "                    (--expires TIME | --valid-days D) [--issued TIME]\n"
	       "                    [--poll-interval S] [--firmware VERSION@DIGEST]\n"
	       "                    [--workload NAME=VERSION@DIGEST ...]\n"
	       "                    [--revocations LIST] -o FILE\n"
	       "       bhpack state --check FILE --keys DIR [--group NAME] [--applied-serial N]\n"
	       "                    [--now TIME]\n"
	       "TIME is UTC, like 2026-12-06T16:00:00Z. DIGEST is what `bhpack push` printed.\n"
	       "LIST is a key revocation list signed by `bhpack revoke`: the state carries it.\n"
	       "--check exits 1 when the device would refuse the state and says why (verdict=).\n");
}

int cmd_state(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'K'},
	                                     {"group", required_argument, NULL, 'g'},
	                                     {"serial", required_argument, NULL, 's'},
	                                     {"expires", required_argument, NULL, 'e'},
	                                     {"valid-days", required_argument, NULL, 'd'},
	                                     {"issued", required_argument, NULL, 'i'},
	                                     {"poll-interval", required_argument, NULL, 'p'},
	                                     {"firmware", required_argument, NULL, 'f'},
	                                     {"workload", required_argument, NULL, 'w'},
	                                     {"revocations", required_argument, NULL, 'r'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"check", required_argument, NULL, 'c'},
	                                     {"keys", required_argument, NULL, 'k'},
	                                     {"applied-serial", required_argument, NULL, 'a'},
	                                     {"now", required_argument, NULL, 'n'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *key = NULL, *out = NULL, *checkfile = NULL, *expires = NULL, *revocations = NULL;
	struct state_check chk = {.now = (int64_t)time(NULL)};
	struct state *s = calloc(1, sizeof(*s));
	char *payload = NULL, *env = NULL;
	size_t plen = 0, elen = 0;
	long valid_days = 0;
	struct bh_error err;
	int c, rc = EXIT_ERROR;

	if (!s)
		return EXIT_ERROR;
	s->issued = chk.now;
	s->poll_interval = 300;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			key = optarg;
			break;
		case 'g':
			snprintf(s->group, sizeof(s->group), "%s", optarg);
			chk.group = optarg;
			break;
		case 's':
			s->serial = strtoull(optarg, NULL, 10);
			break;
		case 'e':
			expires = optarg;
			break;
		case 'd':
			valid_days = atol(optarg);
			break;
		case 'i':
			if (state_time_parse(optarg, &s->issued) < 0)
				goto bad_time;
			break;
		case 'p':
			s->poll_interval = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			if (split_at_digest(optarg, s->firmware_version,
			                    sizeof(s->firmware_version), s->firmware_update) < 0) {
				fprintf(stderr, "bhpack state: --firmware wants VERSION@DIGEST\n");
				goto done;
			}
			s->has_firmware = 1;
			break;
		case 'w':
			if (s->n_workloads == STATE_MAX_WORKLOADS ||
			    parse_workload(optarg, &s->workloads[s->n_workloads]) < 0) {
				fprintf(stderr,
				        "bhpack state: --workload wants NAME=VERSION@DIGEST "
				        "(at most %d)\n",
				        STATE_MAX_WORKLOADS);
				goto done;
			}
			s->n_workloads++;
			break;
		case 'r':
			revocations = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			checkfile = optarg;
			break;
		case 'k':
			chk.keys_dir = optarg;
			break;
		case 'a':
			chk.applied_serial = strtoull(optarg, NULL, 10);
			break;
		case 'n':
			if (state_time_parse(optarg, &chk.now) < 0)
				goto bad_time;
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
		if (!chk.keys_dir || optind != argc) {
			usage(stderr);
			goto done;
		}
		rc = check(checkfile, &chk);
		goto done;
	}
	if (!key || !out || !s->group[0] || !s->serial || (!expires == !valid_days) ||
	    optind != argc) {
		usage(stderr);
		goto done;
	}
	if (expires && state_time_parse(expires, &s->expires) < 0)
		goto bad_time;
	if (valid_days)
		s->expires = s->issued + (int64_t)valid_days * 86400;
	if (revocations && carry_revocations(revocations, s, &err) < 0) {
		bh_error_print(&err, "bhpack state");
		goto done;
	}
	/* Written, then read back with the device's own parser: a state the
	 * device would refuse is never signed. */
	if (state_write(s, &payload, &plen, &err) < 0 ||
	    state_parse(payload, plen, "the new state", s, &err) < 0 ||
	    dsse_sign(STATE_PAYLOAD_TYPE, payload, plen, key, &env, &elen, &err) < 0 ||
	    bh_write_atomic(out, env, elen, 0644, &err) < 0) {
		bh_error_print(&err, "bhpack state");
		goto done;
	}
	printf("%s: group %s, serial %" PRIu64 ", %zu workloads%s, signed\n", out, s->group,
	       s->serial, s->n_workloads, s->revocations_len ? ", a revocation list" : "");
	rc = EXIT_OK;
	goto done;
bad_time:
	fprintf(stderr, "bhpack state: '%s' is not a UTC time like 2026-12-06T16:00:00Z\n", optarg);
done:
	free(payload);
	free(env);
	free(s);
	return rc;
}
