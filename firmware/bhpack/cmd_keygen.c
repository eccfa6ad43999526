#include "bhpack.h"

#include <bulkhead/sign.h>

#include <getopt.h>
#include <stdio.h>

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"private", required_argument, NULL, 'k'},
					     {"public", required_argument, NULL, 'p'},
					     {NULL, 0, NULL, 0}};
	const char *priv = NULL, *pub = NULL;
	char id[SIGN_KEY_ID_LEN + 1];
	struct bh_error err;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			priv = optarg;
		else if (c == 'p')
			pub = optarg;
		else
			return EXIT_ERROR;
	}
	if (!priv || !pub || optind != argc) {
		fprintf(stderr, "usage: bhpack keygen --private KEY.pem --public KEY.pub.pem\n");
		return EXIT_ERROR;
	}
	if (sign_keygen(priv, pub, &err) < 0 || sign_key_id(pub, id, &err) < 0) {
		bh_error_print(&err, "bhpack keygen");
		return EXIT_ERROR;
	}
	printf("key id %s\nprivate key %s (keep it secret)\npublic key %s (goes into the firmware's "
	       "trusted keys)\n", id, priv, pub);
	return EXIT_OK;
}
