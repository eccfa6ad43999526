/* File, descriptor and buffer digests with mbedTLS (include/bulkhead/hash.h). */
#include <bulkhead/hash.h>

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <unistd.h>

void hex_encode(const void *data, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *d = data;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = 0;
}

void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char d[32];

	mbedtls_sha256(data, len, d, 0);
	hex_encode(d, 32, hex);
}

void sha1_hex(const void *data, size_t len, char hex[41])
{
	unsigned char d[20];

	mbedtls_sha1(data, len, d);
	hex_encode(d, 20, hex);
}

int sha256_fd(int fd, const char *what, uint64_t max, char hex[65], uint64_t *size,
	      struct bh_error *err)
{
	mbedtls_sha256_context ctx;
	unsigned char buf[65536], d[32];
	uint64_t total = 0;
	ssize_t n = 0;

	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts(&ctx, 0);
	while (total < max &&
	       (n = read(fd, buf, max - total < sizeof(buf) ? (size_t)(max - total) : sizeof(buf))) > 0) {
		mbedtls_sha256_update(&ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (n < 0) {
		int e = errno;

		mbedtls_sha256_free(&ctx);
		return bh_error(err, e, "read %s", what);
	}
	mbedtls_sha256_finish(&ctx, d);
	mbedtls_sha256_free(&ctx);
	hex_encode(d, 32, hex);
	if (size)
		*size = total;
	return 0;
}

static int hash_open(const char *path, int flags, char hex[65], uint64_t *size,
		     struct bh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags), rc;

	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	rc = sha256_fd(fd, path, UINT64_MAX, hex, size, err);
	close(fd);
	return rc;
}

int sha256_file(const char *path, char hex[65], uint64_t *size, struct bh_error *err)
{
	return hash_open(path, O_NOFOLLOW, hex, size, err);
}

int sha256_path(const char *path, char hex[65], uint64_t *size, struct bh_error *err)
{
	return hash_open(path, 0, hex, size, err);
}

int sha1_file(const char *path, char hex[41], struct bh_error *err)
{
	mbedtls_sha1_context ctx;
	unsigned char buf[65536], d[20];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	mbedtls_sha1_init(&ctx);
	mbedtls_sha1_starts(&ctx);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		mbedtls_sha1_update(&ctx, buf, (size_t)n);
	close(fd);
	mbedtls_sha1_finish(&ctx, d);
	mbedtls_sha1_free(&ctx);
	if (n < 0)
		return bh_error(err, EIO, "read %s", path);
	hex_encode(d, 20, hex);
	return 0;
}
