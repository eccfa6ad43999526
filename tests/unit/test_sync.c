/* The fleet's device-side messages and timing (include/bulkhead/sync.h) and
 * the provisioning document (include/bulkhead/provision.h, with the
 * telemetry's broker fields): what bhd and
 * bhsync exchange survives a round trip; every kind of bad input is an
 * error naming the field; polls are jittered within +-20%; the retry
 * after a failure grows, stays under an hour and honours Retry-After. */
#include "tap.h"

#include <bulkhead/provision.h>
#include <bulkhead/sync.h>

#include <stdlib.h>
#include <string.h>

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static struct bh_error err;

static void bad_request(const char *json, const char *want, const char *what)
{
	static struct sync_request q;
	int r = sync_request_read(json, strlen(json), &q, &err);

	ok(r < 0 && strstr(err.msg, want), "request: refuses %s: %s", what,
	   r < 0 ? err.msg : "(accepted)");
}

static void bad_provision(const char *json, const char *want, const char *what)
{
	struct provision p;
	int r = provision_parse(json, strlen(json), "p.json", &p, &err);

	ok(r < 0 && strstr(err.msg, "p.json") && strstr(err.msg, want),
	   "provisioning: refuses %s: %s", what, r < 0 ? err.msg : "(accepted)");
	if (r == 0)
		provision_free(&p);
}

int main(void)
{
	static struct sync_request q, q2;
	static struct sync_result r, r2;
	struct provision p, p2;
	struct backoff b;
	size_t len;
	char *json;

	/* A request: written, read back the same. */
	snprintf(q.cfg.registry, sizeof(q.cfg.registry), "10.0.2.2:5000");
	snprintf(q.cfg.repository, sizeof(q.cfg.repository), "acme/fleet");
	snprintf(q.cfg.group, sizeof(q.cfg.group), "lab");
	snprintf(q.cfg.client_key_pem, sizeof(q.cfg.client_key_pem),
	         "-----BEGIN EC PRIVATE KEY-----");
	snprintf(q.cfg.password, sizeof(q.cfg.password), "pa\"ss\\word");
	q.cfg.poll_interval = 60;
	snprintf(q.keys_dir, sizeof(q.keys_dir), "/etc/bulkhead/keys/state");
	snprintf(q.settled, sizeof(q.settled), D1);
	q.applied_serial = 42;
	q.update_allowed = true;
	snprintf(q.have[q.n_have++], sizeof(q.have[0]), D1);
	snprintf(q.have[q.n_have++], sizeof(q.have[0]), D2);
	snprintf(q.failed_updates[q.n_failed++], sizeof(q.failed_updates[0]), D2);
	ok(sync_request_write(&q, &json, &len, &err) == 0 &&
	       sync_request_read(json, len, &q2, &err) == 0,
	   "a request round-trips: %s", err.msg);
	free(json);
	ok(!memcmp(&q, &q2, sizeof(q)), "every field of the request survives, quotes included");

	/* A result likewise. */
	r.outcome = SYNC_READY;
	snprintf(r.state_digest, sizeof(r.state_digest), D1);
	r.serial = 7;
	r.poll_interval = 30;
	snprintf(r.workloads[0].name, sizeof(r.workloads[0].name), "web");
	snprintf(r.workloads[0].layer, sizeof(r.workloads[0].layer), D2);
	snprintf(r.workloads[0].path, sizeof(r.workloads[0].path), "/data/sync/blobs/x");
	r.n_workloads = 1;
	r.fault = REGISTRY_RATE_LIMITED;
	r.http_status = 429;
	r.retry_after_s = -1;
	ok(sync_result_write(&r, &json, &len, &err) == 0 &&
	       sync_result_read(json, len, &r2, &err) == 0,
	   "a result round-trips: %s", err.msg);
	free(json);
	ok(!memcmp(&r, &r2, sizeof(r)), "every field of the result survives");

	/* Bad requests name the field. */
	bad_request("[]", "$", "a list");
	bad_request("{\"config\": {}}", "$.config.registry", "a config without a registry");
	bad_request("{\"config\": 1}", "$.config", "a config that is not an object");
	bad_request("not json", "not JSON", "garbage");
	json = NULL;
	sync_request_write(&q, &json, &len, &err);
	{
		char *t = malloc(len + 64), *at = strstr(json, "\"poll_interval\":60");

		snprintf(t, len + 64, "%.*s\"poll_interval\":1%s", (int)(at - json), json,
		         at + strlen("\"poll_interval\":60"));
		bad_request(t, "$.config.poll_interval", "a poll interval of 1 s");
		at = strstr(json, D1);
		snprintf(t, len + 64, "%.*ssha256:xyz%s", (int)(at - json), json, at + strlen(D1));
		bad_request(t, "$.settled", "a settled digest that is not one");
		snprintf(t, len + 64, "{\"extra\":1,%s", json + 1);
		bad_request(t, "extra", "an unknown field");
		free(t);
	}
	free(json);
	{
		char *big = malloc(SYNC_MESSAGE_MAX + 2);

		memset(big, ' ', SYNC_MESSAGE_MAX + 1);
		big[SYNC_MESSAGE_MAX + 1] = 0;
		bad_request(big, "at most", "a request over the size limit");
		free(big);
	}

	/* When to poll. */
	ok(sync_next_poll_ms(100, 0.0) == 80000 && sync_next_poll_ms(100, 0.999999) <= 120000 &&
	       sync_next_poll_ms(100, 0.5) == 100000,
	   "polls are jittered within +-20%% of the interval");
	sync_backoff_init(&b, 1);
	{
		int64_t first = sync_retry_ms(&b, -1), last = first, max = 0;

		for (int i = 0; i < 20; i++) {
			last = sync_retry_ms(&b, -1);
			if (last > max)
				max = last;
		}
		ok(first >= SYNC_BACKOFF_FIRST_MS / 2 && first <= SYNC_BACKOFF_FIRST_MS,
		   "the first retry comes after 15 to 30 s (%lld ms)", (long long)first);
		ok(max <= SYNC_BACKOFF_MAX_MS && last >= SYNC_BACKOFF_MAX_MS / 2,
		   "retries grow to the hour and stay under it (%lld ms)", (long long)last);
		backoff_reset(&b);
		ok(sync_retry_ms(&b, 600) >= 600000, "Retry-After is honoured when it is longer");
		backoff_reset(&b);
		ok(sync_retry_ms(&b, 99999) <= SYNC_BACKOFF_MAX_MS,
		   "a Retry-After beyond the hour waits the hour");
	}

	/* Provisioning. */
	memset(&p, 0, sizeof(p));
	snprintf(p.registry, sizeof(p.registry), "registry.example:5000");
	snprintf(p.repository, sizeof(p.repository), "acme/fleet");
	snprintf(p.group, sizeof(p.group), "lab");
	snprintf(p.username, sizeof(p.username), "gw");
	snprintf(p.password, sizeof(p.password), "secret");
	p.poll_interval = 120;
	p.ca = strdup("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	snprintf(p.device_id, sizeof(p.device_id), "gw-0001");
	snprintf(p.broker, sizeof(p.broker), "broker.example:8883");
	snprintf(p.topic_prefix, sizeof(p.topic_prefix), "acme/fleet");
	p.status_period = 5;
	p.broker_ca = strdup("-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n");
	ok(provision_write(&p, &json, &len, &err) == 0 &&
	       provision_parse(json, len, "p.json", &p2, &err) == 0,
	   "provisioning round-trips: %s", err.msg);
	ok(!strcmp(p2.registry, p.registry) && !strcmp(p2.group, "lab") &&
	       p2.poll_interval == 120 && p2.ca && !strcmp(p2.ca, p.ca) &&
	       !strcmp(p2.password, "secret") && !p2.device_key,
	   "provisioning fields survive");
	ok(!strcmp(p2.device_id, "gw-0001") && !strcmp(p2.broker, "broker.example:8883") &&
	       !strcmp(p2.topic_prefix, "acme/fleet") && p2.status_period == 5 && p2.broker_ca &&
	       !strcmp(p2.broker_ca, p.broker_ca),
	   "provisioning: the broker, its CA, the topic prefix and the status period survive");
	free(json);
	provision_free(&p);
	provision_free(&p2);
	bad_provision("{}", "$.format", "no format");
	bad_provision("{\"format\":\"bulkhead-provision/2\"}", "bulkhead-provision/1",
	              "another format");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"group\":\"a b\"}", "$.group",
	              "a group that cannot be part of a tag");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"ca\":\"hello\"}", "$.ca",
	              "a CA that is not PEM");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"username\":\"u\"}", "password",
	              "a user without a password");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"device_cert\":"
	              "\"-----BEGIN CERTIFICATE-----x-----END \"}",
	              "device_key", "a certificate without its key");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"poll_interval\":5}",
	              "$.poll_interval", "a poll interval under 10 s");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"colour\":\"red\"}", "colour",
	              "an unknown field");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"broker\":\"broker.example\"}",
	              "$.broker: broker \"broker.example\": expected host:port", "a broker without a port");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"broker\":\"b:70000\"}", "port 1 to 65535",
	              "a broker port out of range");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"topic_prefix\":\"a/#\"}",
	              "$.topic_prefix", "a topic prefix with a wildcard");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"topic_prefix\":\"a//b\"}",
	              "$.topic_prefix", "a topic prefix with an empty level");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"device_id\":\"gw/1\"}", "$.device_id",
	              "a device id that is not one topic level");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"status_period\":0}", "$.status_period",
	              "a status period of 0 minutes");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"status_period\":1441}", "$.status_period",
	              "a status period over a day");
	bad_provision("{\"format\":\"bulkhead-provision/1\",\"broker_ca\":\"hello\"}", "$.broker_ca",
	              "a broker CA that is not PEM");
	return done();
}
