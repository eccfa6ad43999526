/* The SHA-256 of a blob download, computed on a second thread that reads
 * dest.part back (pread) behind the thread that receives and writes it.
 *
 * Why: Mbed TLS's SHA-256 is plain C (it has no SHA-NI path on x86_64)
 * and took about 45% of the client's CPU time on a 100 MiB blob, the
 * TLS decryption most of the rest; done one after the other on one core,
 * they left the second core idle. The bytes hashed are the bytes in the
 * file, so what is verified is what will be renamed into place.
 *
 * Shared between the two threads, under mu: end (how far the file holds
 * the download; only the writer moves it, only forward) and closing (the
 * writer is done: hash up to end, then stop). The rest belongs to the
 * hasher thread until reg_hasher_finish has joined it: sha, hashed,
 * read_errno. The writer never rewrites bytes below end, so the hasher
 * may read them without a lock. */
#include "registry_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define HASH_CHUNK (256 * 1024)

/* The hasher wakes when this much is waiting (or at the end), not for
 * every TLS record the writer passes on. */
#define HASH_BATCH (128 * 1024)

static void *hash_behind(void *arg)
{
	struct reg_hasher *h = arg;

	for (;;) {
		uint64_t end;
		int closing;

		pthread_mutex_lock(&h->mu);
		while (h->end - h->hashed < HASH_BATCH && !h->closing)
			pthread_cond_wait(&h->cv, &h->mu);
		end = h->end;
		closing = h->closing;
		pthread_mutex_unlock(&h->mu);
		while (h->hashed < end) {
			size_t want =
			    end - h->hashed < HASH_CHUNK ? (size_t)(end - h->hashed) : HASH_CHUNK;
			ssize_t n = pread(h->fd, h->buf, want, (off_t)h->hashed);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				h->read_errno = n < 0 ? errno : EIO;
				return NULL;
			}
			mbedtls_sha256_update(h->sha, h->buf, (size_t)n);
			h->hashed += (uint64_t)n;
		}
		if (closing)
			return NULL;
	}
}

int reg_hasher_start(struct reg_hasher *h, int fd, uint64_t from, mbedtls_sha256_context *sha)
{
	h->fd = fd;
	h->sha = sha;
	h->end = h->hashed = from;
	h->closing = 0;
	h->read_errno = 0;
	h->running = 0;
	h->buf = malloc(HASH_CHUNK);
	if (!h->buf)
		return -1;
	if (pthread_mutex_init(&h->mu, NULL)) {
		free(h->buf);
		return -1;
	}
	if (pthread_cond_init(&h->cv, NULL)) {
		pthread_mutex_destroy(&h->mu);
		free(h->buf);
		return -1;
	}
	if (pthread_create(&h->thread, NULL, hash_behind, h)) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		free(h->buf);
		return -1;
	}
	h->running = 1;
	return 0;
}

void reg_hasher_wrote(void *arg, uint64_t n)
{
	struct reg_hasher *h = arg;

	pthread_mutex_lock(&h->mu);
	h->end += n;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

int reg_hasher_finish(struct reg_hasher *h)
{
	int e;

	if (!h->running)
		return 0;
	pthread_mutex_lock(&h->mu);
	h->closing = 1;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	h->running = 0;
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h->buf);
	h->buf = NULL;
	/* end is the writer's own again: the thread is gone. */
	e = h->read_errno ? h->read_errno : h->hashed != h->end ? EIO : 0;
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}
