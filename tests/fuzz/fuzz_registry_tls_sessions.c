/* libFuzzer harness for the TLS session file a gateway's fetcher reads
 * before each poll (firmware/lib/registry_tls_sessions.c): untrusted
 * bytes from /data. The first byte chooses whether the harness writes the
 * file's header for the client's registry and CA bundle first (so that
 * the fuzzer reaches the session lines and libcurl's and Mbed TLS's
 * readers of the session data), or the bytes are the whole file. Each
 * load is followed by a save, which exports what was imported. Neither
 * may crash, leak or read out of bounds, whatever the bytes. */
#include <bulkhead/hash.h>
#include <bulkhead/registry.h>
#include <bulkhead/registry_tls_sessions.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CA_FILE KEYS_DIR "/bulkhead-TEST-ONLY-state.pub.pem" /* any readable file */
#define HOST    "registry.invalid:5000"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz-tls-sessions-XXXXXX";
static char in[64], out[64], header[256];

static void cleanup(void)
{
	unlink(in);
	unlink(out);
	rmdir(dir);
}

static void setup(void)
{
	char hex[65];
	struct bh_error err;

	if (!mkdtemp(dir) || sha256_file(CA_FILE, hex, NULL, &err) < 0)
		abort();
	snprintf(in, sizeof(in), "%s/in", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	atexit(cleanup);
	snprintf(header, sizeof(header), "%s\nregistry %s\nca sha256:%s\nverified %lld\n",
	         REGISTRY_TLS_SESSIONS_FORMAT, HOST, hex, (long long)time(NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry_opts o = {.ca_file = CA_FILE};
	struct registry_tls_sessions *s;
	struct registry *r;
	struct bh_error err;
	FILE *f;
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1)
		return 0;
	f = fopen(in, "we");
	if (!f)
		abort();
	if (data[0] & 1)
		fputs(header, f);
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	if (registry_open(&r, HOST, &o, &err) < 0)
		abort();
	if (registry_tls_sessions_attach(r, &s, &err) < 0)
		abort();
	registry_tls_sessions_load(s, in, &err);
	registry_tls_sessions_save(s, out, &err);
	registry_tls_sessions_detach(s);
	registry_close(r);
	return 0;
}
