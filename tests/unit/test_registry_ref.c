/* Registry references, artifact manifests and desired-state fields
 * (firmware/lib/registry_ref.c, artifact.c, state.c): what is accepted,
 * and that each refusal names the part that is wrong. */
#include "tap.h"

#include <bulkhead/artifact.h>
#include <bulkhead/registry.h>
#include <bulkhead/state.h>

#include <stdlib.h>
#include <string.h>

#define D64 "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"

static int refused(const char *ref, const char *needle)
{
	struct registry_ref r;
	struct bh_error err = {0};

	return registry_ref_parse(ref, 1, &r, &err) < 0 && strstr(err.msg, needle);
}

static int state_refused(const char *json, const char *needle)
{
	static struct state s;
	struct bh_error err = {0};
	int rc = state_parse(json, strlen(json), "s.json", &s, &err);

	if (rc == 0 || !strstr(err.msg, needle))
		printf("#   got: %s\n", rc == 0 ? "accepted" : err.msg);
	return rc < 0 && strstr(err.msg, needle);
}

#define STATE_HEAD                                                                                 \
	"{\"format\":\"bulkhead-state/1\",\"group\":\"lab\",\"serial\":3,"                         \
	"\"issued\":\"2026-12-01T00:00:00Z\",\"expires\":\"2026-12-08T00:00:00Z\","                \
	"\"poll_interval\":60,"

int main(void)
{
	struct registry_ref r;
	struct bh_error err;
	struct artifact a = {0}, b;
	static struct state s;
	char *json = NULL;
	size_t len = 0;
	int64_t t = 0;

	ok(registry_ref_parse("https://reg.example:5000/fleet/web:1.0", 1, &r, &err) == 0 &&
	       !strcmp(r.host, "reg.example:5000") && !strcmp(r.repo, "fleet/web") &&
	       !strcmp(r.tag, "1.0") && !r.digest[0],
	   "https://host:port/repo:tag");
	ok(registry_ref_parse("127.0.0.1:5000/a/b-c__d.e@sha256:" D64, 1, &r, &err) == 0 &&
	       !strcmp(r.repo, "a/b-c__d.e") && !strcmp(r.digest, "sha256:" D64) && !r.tag[0],
	   "host:port/repo@sha256:...");
	ok(refused("http://reg/x:1", "only https"), "http:// is refused");
	ok(refused("reg/Fleet:1", "repository 'Fleet'"), "an upper-case repository is refused");
	ok(refused("reg/x:-bad", "tag '-bad'"), "a tag starting with - is refused");
	ok(refused("reg/x@sha256:abc", "not a sha256"), "a short digest is refused");
	ok(refused("reg/x", "name a tag"), "a reference to nothing is refused when one is needed");
	ok(refused("reg:99999x/x:1", "not a host"), "a bad port is refused");
	ok(refused("reg/a//b:1", "repository"), "an empty path component is refused");

	ok(state_time_parse("2026-12-06T16:00:00Z", &t) == 0 && t == 1796572800,
	   "an RFC 3339 UTC time");
	ok(state_time_parse("2026-02-30T00:00:00Z", &t) < 0 &&
	       state_time_parse("2026-12-06 16:00:00Z", &t) < 0 &&
	       state_time_parse("2026-12-06T16:00:00+01:00", &t) < 0,
	   "Feb 30, a space, an offset: refused");

	strcpy(a.artifact_type, ARTIFACT_UPDATE);
	strcpy(a.layer_media_type, ARTIFACT_UPDATE_LAYER);
	strcpy(a.layer_digest, "sha256:" D64);
	a.layer_size = 12345;
	strcpy(a.title, "update-1.bhu");
	ok(artifact_manifest_write(&a, &json, &len, &err) == 0 &&
	       artifact_manifest_parse(json, len, "m", ARTIFACT_UPDATE, &b, &err) == 0 &&
	       !memcmp(&a, &b, sizeof(a)),
	   "an artifact manifest reads back as written");
	ok(artifact_manifest_parse(json, len, "m", ARTIFACT_BUNDLE, &b, &err) < 0 &&
	       strstr(err.msg, "expected application/vnd.bulkhead.bundle.v1"),
	   "an update artifact is refused where a bundle is expected");
	free(json);
	{
		const char *two = "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST_MEDIA_TYPE
		                  "\",\"artifactType\":\"" ARTIFACT_STATE
		                  "\",\"config\":{\"mediaType\":\"" OCI_EMPTY_MEDIA_TYPE
		                  "\"},\"layers\":[{},{}]}";

		ok(artifact_manifest_parse(two, strlen(two), "m", NULL, &b, &err) < 0 &&
		       strstr(err.msg, "exactly one layer"),
		   "a manifest with two layers is refused");
	}

	{
		const char *good =
		    STATE_HEAD "\"workloads\":[{\"name\":\"web\",\"version\":\"1.0\","
		               "\"bundle\":\"sha256:" D64 "\"}]}";

		ok(state_parse(good, strlen(good), "s", &s, &err) == 0 && s.serial == 3 &&
		       s.n_workloads == 1 && !s.has_firmware && s.poll_interval == 60,
		   "a state without firmware");
	}
	ok(state_refused(STATE_HEAD "\"workloads\":[],\"extra\":1}", "unknown field 'extra'"),
	   "an unknown field is named");
	ok(state_refused(STATE_HEAD "\"firmware\":{\"version\":\"1.0\",\"update\":\"sha256:" D64
	                            "\"}}",
	                 "workloads is missing"),
	   "a missing workloads list");
	ok(state_refused(STATE_HEAD "\"workloads\":[{\"name\":\"web\",\"version\":\"1\","
	                            "\"bundle\":\"sha256:12\"}]}",
	                 "workloads[0].bundle"),
	   "a bad bundle digest names workloads[0].bundle");
	ok(state_refused(STATE_HEAD "\"workloads\":[{\"name\":\"web\",\"version\":\"1\","
	                            "\"bundle\":\"sha256:" D64
	                            "\"},{\"name\":\"web\",\"version\":\"2\","
	                            "\"bundle\":\"sha256:" D64 "\"}]}",
	                 "listed twice"),
	   "a workload listed twice");
	ok(state_refused(STATE_HEAD "\"firmware\":{\"version\":\"1/2\",\"update\":\"sha256:" D64
	                            "\"},\"workloads\":[]}",
	                 "firmware.version"),
	   "a bad firmware version names firmware.version");
	ok(state_refused("{\"format\":\"bulkhead-state/1\",\"group\":\"lab\",\"serial\":0}",
	                 "serial"),
	   "serial 0 is refused");
	ok(state_refused(
	       "{\"format\":\"bulkhead-state/1\",\"group\":\"lab\",\"serial\":1,"
	       "\"issued\":\"2026-12-08T00:00:00Z\",\"expires\":\"2026-12-01T00:00:00Z\"}",
	       "expires must be later"),
	   "an expiry before the issue time is refused");
	ok(state_refused("{\"format\":\"bulkhead-state/2\"}", "format is 'bulkhead-state/2'"),
	   "another format is refused");
	return done();
}
