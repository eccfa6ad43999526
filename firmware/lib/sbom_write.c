#include "sbom_write.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void feed(mbedtls_sha256_context *ctx, const char *s)
{
	if (s)
		mbedtls_sha256_update(ctx, (const unsigned char *)s, strlen(s) + 1);
}

void sbom_content_hash(const struct sbom_image *img, const char *salt, char hex[65])
{
	mbedtls_sha256_context ctx;
	unsigned char d[32];

	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts(&ctx, 0);
	feed(&ctx, salt);
	feed(&ctx, img->version);
	for (size_t c = 0; c < img->n_comps; c++) {
		feed(&ctx, img->comps[c].name);
		feed(&ctx, img->comps[c].version);
		feed(&ctx, img->comps[c].source_sha256);
	}
	for (size_t i = 0; i < img->n_files; i++) {
		feed(&ctx, img->files[i].path);
		feed(&ctx, img->files[i].sha256);
	}
	mbedtls_sha256_finish(&ctx, d);
	mbedtls_sha256_free(&ctx);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void iso_time(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int write_json_atomic(yyjson_mut_doc *doc, const char *path, struct bh_error *err)
{
	yyjson_write_err werr;
	size_t len;
	char *text = yyjson_mut_write_opts(doc, YYJSON_WRITE_PRETTY_TWO_SPACES, NULL, &len, &werr);
	int rc;

	if (!text)
		return bh_error(err, 0, "write %s: %s", path, werr.msg);
	rc = bh_write_atomic(path, text, len, 0644, err);
	free(text);
	return rc;
}
