/* A vendor's workload as the SDK test builds it outside the tree
 * (tests/e2e/vendor_example.py, docs/vendor.md "The SDK"): a container
 * that answers every TCP connection on the port given with one JSON line,
 * {"name":..., "sha256":...}, the SHA-256 (mbedTLS) of its name, written
 * with yyjson. Both libraries come from the SDK, linked statically. */
#include <mbedtls/sha256.h>
#include <yyjson.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *answer(const char *name)
{
	unsigned char sum[32];
	char hex[65], *json;
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root = yyjson_mut_obj(doc);

	mbedtls_sha256((const unsigned char *)name, strlen(name), sum, 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_str(doc, root, "name", name);
	yyjson_mut_obj_add_str(doc, root, "sha256", hex);
	json = yyjson_mut_write(doc, 0, NULL);
	yyjson_mut_doc_free(doc);
	return json;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int one = 1, s;
	char *line;

	if (argc != 3) {
		fprintf(stderr, "usage: %s NAME PORT\n", argv[0]);
		return 2;
	}
	line = answer(argv[1]);
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!line || s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0) {
		perror("sdk-hello: listen");
		return 1;
	}
	printf("sdk-hello: %s\n", line);
	fflush(stdout);
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		if (write(c, line, strlen(line)) < 0 || write(c, "\n", 1) < 0)
			perror("sdk-hello: write");
		close(c);
	}
}
