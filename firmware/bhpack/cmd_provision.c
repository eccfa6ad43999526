/* bhpack provision: makes one gateway of a fleet itself at flashing time
 * (docs/fleet.md, "Provisioning"). Writes the provisioning document
 * (include/bulkhead/provision.h) onto the EFI system partition of a disk
 * image or a flashed disk, where the gateway's first boot finds it, moves
 * it to /data and deletes it; or, with -o, into a file.
 *
 * The ESP is found from the disk's GPT by its partition type (the EFI
 * system partition's GUID), and written with mtools' mcopy at its offset:
 * no loop device, no mount, no root needed for an image. */
#include "bhpack.h"

#include <bulkhead/fs.h>
#include <bulkhead/provision.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B as it is stored (mixed endian). */
static const unsigned char ESP_TYPE[16] = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                           0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The byte offset of the disk's EFI system partition. */
static int find_esp(const char *disk, uint64_t *offset, struct bh_error *err)
{
	unsigned char hdr[512], e[512];
	uint64_t lba;
	uint32_t n, size;
	int fd = open(disk, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s", disk);
	if (pread(fd, hdr, 512, 512) != 512 || memcmp(hdr, "EFI PART", 8)) {
		close(fd);
		return bh_error(err, 0, "%s: no GPT (a disk.img of a Bulkhead build?)", disk);
	}
	lba = le64(hdr + 72);
	n = le32(hdr + 80);
	size = le32(hdr + 84);
	if (size < 128 || size > sizeof(e) || n > 1024) {
		close(fd);
		return bh_error(err, 0, "%s: a GPT with %u entries of %u bytes", disk, n, size);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (pread(fd, e, size, (off_t)(lba * 512 + (uint64_t)i * size)) != (ssize_t)size)
			break;
		if (!memcmp(e, ESP_TYPE, 16)) {
			*offset = le64(e + 32) * 512;
			close(fd);
			return 0;
		}
	}
	close(fd);
	return bh_error(err, 0, "%s: its GPT has no EFI system partition", disk);
}

static int run(char *const argv[], struct bh_error *err)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		setenv("MTOOLS_SKIP_CHECK", "1", 1);
		execvp(argv[0], argv);
		fprintf(stderr, "bhpack provision: %s: %s (Debian package mtools)\n", argv[0],
		        bh_strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return bh_error(err, errno, "run %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return bh_error(err, 0, "%s failed (status %d)", argv[0], WEXITSTATUS(status));
	return 0;
}

static int write_esp(const char *disk, const char *json, size_t len, struct bh_error *err)
{
	char image[4096 + 32], tmp[] = "/tmp/bhpack-provision.XXXXXX";
	uint64_t off = 0;
	int fd, rc;

	if (find_esp(disk, &off, err) < 0)
		return -1;
	snprintf(image, sizeof(image), "%s@@%" PRIu64, disk, off);
	fd = mkstemp(tmp);
	if (fd < 0)
		return bh_error(err, errno, "create %s", tmp);
	rc = bh_write_all(fd, json, len) < 0 ? bh_error(err, errno, "write %s", tmp) : 0;
	close(fd);
	if (rc == 0) {
		char *mmd[] = {"mmd", "-D", "s", "-i", image, "::/bulkhead", NULL};
		char *mcopy[] = {"mcopy", "-o", "-i", image, tmp, "::" PROVISION_ESP_PATH, NULL};

		run(mmd, err); /* it may be there already */
		rc = run(mcopy, err);
	}
	unlink(tmp);
	return rc;
}

static char *read_pem(const char *path, struct bh_error *err)
{
	return bh_read_file(path, PROVISION_PEM_MAX - 1, NULL, err);
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: bhpack provision (--disk DISK | -o FILE) [--registry HOST[:PORT]]\n"
	        "           [--repository REPO] [--group NAME] [--ca CA.pem] [--poll-interval S]\n"
	        "           [--user NAME --password-file FILE]\n"
	        "           [--device-id ID (--ca-key CA.key --ca-cert CA.pem [--days N] |\n"
	        "                            --device-cert CERT.pem --device-key KEY.pem)]\n"
	        "           [--broker HOST:PORT] [--broker-ca CA.pem] [--topic-prefix P]\n"
	        "           [--status-period MINUTES]\n"
	        "Writes the gateway's provisioning onto the EFI system partition of DISK (a\n"
	        "disk.img, or a flashed disk) as %s, or into FILE.\n"
	        "What is not given comes from the image's built-in defaults (Kconfig, Fleet).\n"
	        "--ca-key/--ca-cert make a new device key and certificate (CN = the device id,\n"
	        "client auth, --days, default 3650) signed by the vendor's device CA.\n"
	        "--broker and --broker-ca: the MQTT broker the gateway reports to (telemetry),\n"
	        "under the device id, which must be its certificate's CN.\n",
	        PROVISION_ESP_PATH);
	return EXIT_ERROR;
}

int cmd_provision(int argc, char **argv)
{
	static const struct option opts[] = {{"disk", required_argument, NULL, 'd'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"registry", required_argument, NULL, 'r'},
	                                     {"repository", required_argument, NULL, 'R'},
	                                     {"group", required_argument, NULL, 'g'},
	                                     {"ca", required_argument, NULL, 'c'},
	                                     {"poll-interval", required_argument, NULL, 'i'},
	                                     {"user", required_argument, NULL, 'u'},
	                                     {"password-file", required_argument, NULL, 'p'},
	                                     {"device-id", required_argument, NULL, 'D'},
	                                     {"device-cert", required_argument, NULL, 'C'},
	                                     {"device-key", required_argument, NULL, 'K'},
	                                     {"ca-key", required_argument, NULL, 'k'},
	                                     {"ca-cert", required_argument, NULL, 'A'},
	                                     {"days", required_argument, NULL, 'y'},
	                                     {"broker", required_argument, NULL, 'b'},
	                                     {"broker-ca", required_argument, NULL, 'B'},
	                                     {"topic-prefix", required_argument, NULL, 'P'},
	                                     {"status-period", required_argument, NULL, 'S'},
	                                     {NULL, 0, NULL, 0}};
	const char *ca_key = NULL, *ca_cert = NULL;
	unsigned days = 3650;
	const char *disk = NULL, *out = NULL, *ca = NULL, *cert = NULL, *key = NULL, *pwfile = NULL;
	const char *broker_ca = NULL;
	struct provision p = {0}, check;
	struct bh_error err;
	char *json = NULL;
	size_t len;
	int c, rc = EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			disk = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			snprintf(p.registry, sizeof(p.registry), "%s", optarg);
			break;
		case 'R':
			snprintf(p.repository, sizeof(p.repository), "%s", optarg);
			break;
		case 'g':
			snprintf(p.group, sizeof(p.group), "%s", optarg);
			break;
		case 'c':
			ca = optarg;
			break;
		case 'i':
			p.poll_interval = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			snprintf(p.username, sizeof(p.username), "%s", optarg);
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 'D':
			snprintf(p.device_id, sizeof(p.device_id), "%s", optarg);
			break;
		case 'C':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'k':
			ca_key = optarg;
			break;
		case 'A':
			ca_cert = optarg;
			break;
		case 'y':
			days = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			snprintf(p.broker, sizeof(p.broker), "%s", optarg);
			break;
		case 'B':
			broker_ca = optarg;
			break;
		case 'P':
			snprintf(p.topic_prefix, sizeof(p.topic_prefix), "%s", optarg);
			break;
		case 'S':
			p.status_period = (uint32_t)strtoul(optarg, NULL, 10);
			if (!p.status_period) {
				fprintf(stderr, "bhpack provision: --status-period %s: minutes, "
				                "1 to %d\n", optarg, PROVISION_PERIOD_MAX);
				return EXIT_ERROR;
			}
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || !disk == !out)
		return usage();
	if (pwfile) {
		char *pw = bh_read_file(pwfile, sizeof(p.password) - 1, NULL, &err);

		if (!pw)
			goto fail;
		pw[strcspn(pw, "\r\n")] = 0;
		snprintf(p.password, sizeof(p.password), "%s", pw);
		memset(pw, 0, strlen(pw));
		free(pw);
	}
	if ((ca && !(p.ca = read_pem(ca, &err))) ||
	    (cert && !(p.device_cert = read_pem(cert, &err))) ||
	    (key && !(p.device_key = read_pem(key, &err))) ||
	    (broker_ca && !(p.broker_ca = read_pem(broker_ca, &err))))
		goto fail;
	/* A new identity signed by the vendor's device CA, or the factory's own. */
	if (!ca_key != !ca_cert || (ca_key && (cert || key)) || (ca_key && !p.device_id[0]) ||
	    days < 1 || days > 36500) {
		fprintf(stderr,
		        "bhpack provision: --ca-key and --ca-cert go together, with "
		        "--device-id, instead of --device-cert/--device-key; --days 1..36500\n");
		goto out;
	}
	if (ca_key && device_identity_make(p.device_id, ca_key, ca_cert, days, &p.device_cert,
	                                   &p.device_key, &err) < 0)
		goto fail;
	if (provision_write(&p, &json, &len, &err) < 0)
		goto fail;
	/* Exactly the checks the gateway makes, before anything is written. */
	if (provision_parse(json, len, "the provisioning", &check, &err) < 0)
		goto fail;
	provision_free(&check);
	if (out ? bh_write_atomic(out, json, len, 0600, &err) : write_esp(disk, json, len, &err))
		goto fail;
	printf("provisioned %s: %s%s%s%s%s%s\n", out ? out : disk,
	       p.registry[0] ? p.registry : "(built-in registry)", p.group[0] ? ", group " : "",
	       p.group, p.device_id[0] ? ", with a device identity" : "",
	       p.broker[0] ? ", reporting to " : "", p.broker);
	rc = EXIT_OK;
	goto out;
fail:
	bh_error_print(&err, "bhpack provision");
out:
	if (json) {
		memset(json, 0, len);
		free(json);
	}
	provision_free(&p);
	return rc;
}
