/* File and buffer digests with mbedTLS. */
#include <bulkhead/sbom.h>

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <unistd.h>

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[2 * n] = 0;
}

void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char d[32];

	mbedtls_sha256(data, len, d, 0);
	to_hex(d, 32, hex);
}

void sha1_hex(const void *data, size_t len, char hex[41])
{
	unsigned char d[20];

	mbedtls_sha1(data, len, d);
	to_hex(d, 20, hex);
}

int sha256_file(const char *path, char hex[65], uint64_t *size, struct bh_error *err)
{
	mbedtls_sha256_context ctx;
	unsigned char buf[65536], d[32];
	uint64_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts(&ctx, 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		mbedtls_sha256_update(&ctx, buf, n);
		total += n;
	}
	if (n < 0) {
		int e = errno;

		close(fd);
		mbedtls_sha256_free(&ctx);
		return bh_error(err, e, "read %s", path);
	}
	close(fd);
	mbedtls_sha256_finish(&ctx, d);
	mbedtls_sha256_free(&ctx);
	to_hex(d, 32, hex);
	if (size)
		*size = total;
	return 0;
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
		mbedtls_sha1_update(&ctx, buf, n);
	close(fd);
	mbedtls_sha1_finish(&ctx, d);
	mbedtls_sha1_free(&ctx);
	if (n < 0)
		return bh_error(err, EIO, "read %s", path);
	to_hex(d, 20, hex);
	return 0;
}
