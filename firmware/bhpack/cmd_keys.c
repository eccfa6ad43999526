/* bhpack keys: a vendor's whole key set in one new folder (docs/vendor.md):
 * the workload, update and fleet-state signing keys (ECDSA P-256, as
 * keygen makes them) and a UEFI Secure Boot hierarchy (PK, KEK, db with
 * their signed .auth variable updates), made with the same openssl and
 * efitools commands as the TEST-ONLY set in board/common/keys.
 *
 * Everything is made in a temporary folder beside the target and renamed
 * onto it at the end, so a failure leaves no half key set behind. */
#include "bhpack.h"

#include <bulkhead/fs.h>
#include <bulkhead/sign.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const signing_keys[][2] = {
    {"workload", "workload bundles"},
    {"update", "firmware update files"},
    {"state", "fleet desired states"},
};

/* Runs a tool with its output kept; a failure's error carries the end of
 * what it said. */
static int run(char *const argv[], const char *package, struct bh_error *err)
{
	char out[4096];
	size_t len = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return bh_error(err, errno, "run %s", argv[0]);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "%s (Debian package %s)", bh_strerror(errno), package);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return bh_error(err, errno, "run %s", argv[0]);
	}
	/* Keeps the last part: the reason is at the end. */
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR)) {
		len += n > 0 ? (size_t)n : 0;
		if (len > sizeof(out) / 2) {
			memmove(out, out + len - sizeof(out) / 4, sizeof(out) / 4);
			len = sizeof(out) / 4;
		}
	}
	close(fds[0]);
	out[len] = 0;
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = 0;
	if (waitpid(pid, &status, 0) < 0)
		return bh_error(err, errno, "run %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return bh_error(err, 0, "%s failed: %s", argv[0], len ? out : "(no output)");
	return 0;
}

/* One level of the Secure Boot hierarchy: a self-signed RSA certificate,
 * its EFI signature list, and the list signed as a variable update by
 * the level above (the PK by itself). */
static int secureboot_level(const char *dir, const char *name, const char *signer, const char *cn,
                            const char *guid, struct bh_error *err)
{
	char key[4096], crt[4096], esl[4096], auth[4096], skey[4096], scrt[4096], subj[512];

	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, name);
	snprintf(esl, sizeof(esl), "%s/%s.esl", dir, name);
	snprintf(auth, sizeof(auth), "%s/%s.auth", dir, name);
	snprintf(skey, sizeof(skey), "%s/%s.key", dir, signer);
	snprintf(scrt, sizeof(scrt), "%s/%s.crt", dir, signer);
	snprintf(subj, sizeof(subj), "/CN=%s Secure Boot %s/", cn, name);
	char *req[] = {"openssl", "req",     "-new",  "-x509", "-newkey", "rsa:2048",
	               "-nodes",  "-sha256", "-days", "7300",  "-subj",   subj,
	               "-keyout", key,       "-out",  crt,     NULL};
	char *tolist[] = {"cert-to-efi-sig-list", "-g", (char *)guid, crt, esl, NULL};
	char *sign[] = {"sign-efi-sig-list", "-g", (char *)guid, "-k", skey, "-c", scrt,
	                (char *)name,        esl,  auth,         NULL};

	if (run(req, "openssl", err) < 0 || run(tolist, "efitools", err) < 0 ||
	    run(sign, "efitools", err) < 0)
		return bh_error_wrap(err, "Secure Boot %s", name);
	return 0;
}

static int write_readme(const char *dir, const char *guid, const char *ids, struct bh_error *err)
{
	char path[4096], text[8192];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(path, sizeof(path), "%s/README.md", dir);
	snprintf(text, sizeof(text),
	         "# A Bulkhead vendor key set\n"
	         "\n"
	         "Made by `bhpack keys` on %04d-%02d-%02d (UTC). Every `.key` and `.key.pem` file\n"
	         "is a private key: whoever holds one can sign what the devices trust it\n"
	         "for. Keep them offline (below); the public halves (`.pub.pem`, `.crt`,\n"
	         "`.esl`, `.auth`) may be copied anywhere. docs/vendor.md explains the set.\n"
	         "\n"
	         "## Signing keys (ECDSA P-256)\n"
	         "\n"
	         "| private key | signs | public half: Kconfig, place on the device |\n"
	         "|---|---|---|\n"
	         "| `workload.key.pem` | workload bundles (`bhpack build`/`sign --key`; "
	         "`BH_WORKLOAD_SIGNING_KEY` for the bundles baked into the image) | "
	         "`workload.pub.pem`: `BH_TRUSTED_KEYS`, `/etc/bulkhead/keys/workloads/` |\n"
	         "| `update.key.pem` | firmware update files (`make update-image`: "
	         "`BH_UPDATE_SIGNING_KEY`) | `update.pub.pem`: `BH_UPDATE_TRUSTED_KEYS`, "
	         "`/etc/bulkhead/keys/updates/` |\n"
	         "| `state.key.pem` | the fleet's desired states (`bhpack state --key`) | "
	         "`state.pub.pem`: `BH_STATE_TRUSTED_KEYS`, `/etc/bulkhead/keys/state/` |\n"
	         "\n"
	         "Key ids (what `bhpack inspect` and the device's refusals name):\n"
	         "\n"
	         "%s"
	         "\n"
	         "Each device trusts each key for its one purpose only: a workload key\n"
	         "cannot sign a firmware update, nor an update key a desired state.\n"
	         "\n"
	         "## UEFI Secure Boot (`secureboot/`, RSA 2048, owner GUID %s)\n"
	         "\n"
	         "- `PK` (platform key) owns the machine's Secure Boot variables; it signs\n"
	         "  `KEK.auth` and any later change of the PK or KEK.\n"
	         "- `KEK` (key exchange key) signs `db.auth` and later db/dbx updates.\n"
	         "- `db` signs what boots: systemd-boot and every unified kernel image of\n"
	         "  `disk.img` and of update files. Set `BH_SECURE_BOOT_KEY` to `db.key`\n"
	         "  and `BH_SECURE_BOOT_CERT` to `db.crt`.\n"
	         "- `*.auth` are the signed variable updates a firmware in setup mode\n"
	         "  enrols (db and KEK first, PK last: enrolling the PK ends setup mode);\n"
	         "  `*.esl` the unsigned lists, for firmware menus that take those.\n"
	         "\n"
	         "## How to keep them\n"
	         "\n"
	         "- `PK.key` and `KEK.key` are needed only to change the Secure Boot\n"
	         "  database: keep them on an offline machine or in a hardware security\n"
	         "  module (HSM), never on a build machine.\n"
	         "- `update.key.pem` and `db.key` sign every firmware release: keep them on\n"
	         "  the release-signing machine or in an HSM (sbsign and sign-efi-sig-list\n"
	         "  can use a PKCS#11 engine; bhpack signs from a key file today), not on\n"
	         "  developers' machines or in CI that builds every branch.\n"
	         "- `state.key.pem` decides what whole device groups run: keep it with\n"
	         "  the fleet operators, apart from the release keys.\n"
	         "- `workload.key.pem` signs workloads: whoever builds them holds it.\n"
	         "- Keep two offline backups (encrypted, in different places). A lost\n"
	         "  update key means the devices can no longer be updated in the field;\n"
	         "  a leaked one must be replaced by an update signed with it while you\n"
	         "  still can.\n"
	         "- Never commit this folder to a source tree.\n",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, ids, guid);
	if (bh_write_atomic(path, text, strlen(text), 0644, err) < 0)
		return -1;
	if (chmod(path, 0644) < 0) /* past the umask */
		return bh_error(err, errno, "chmod %s", path);
	return 0;
}

static int folder_is_empty(const char *dir, struct bh_error *err)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int empty = 1;

	if (!d)
		return bh_error(err, errno, "open %s", dir);
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* The folder the set is made in: a new one beside dir, which must be
 * missing or empty. */
static int make_tmp(const char *dir, char *tmp, size_t size, struct bh_error *err)
{
	struct stat st;
	int empty;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return bh_error(err, 0, "%s exists and is not a folder", dir);
		empty = folder_is_empty(dir, err);
		if (empty < 0)
			return -1;
		if (!empty)
			return bh_error(err, 0,
			                "%s is not empty: bhpack keys writes a new key set "
			                "only into an empty or new folder, never over keys",
			                dir);
	} else if (errno != ENOENT) {
		return bh_error(err, errno, "check %s", dir);
	}
	if ((size_t)snprintf(tmp, size, "%s.partial-XXXXXX", dir) >= size)
		return bh_error(err, 0, "%s: path too long", dir);
	if (!mkdtemp(tmp))
		return bh_error(err, errno, "create %s", tmp);
	return 0;
}

static int make_set(const char *tmp, const char *cn, char *ids, size_t ids_size,
                    struct bh_error *err)
{
	unsigned char g[16];
	char guid[37], sb[4096];
	size_t used = 0;

	for (size_t i = 0; i < sizeof(signing_keys) / sizeof(signing_keys[0]); i++) {
		char priv[4096], pub[4096], id[SIGN_KEY_ID_LEN + 1];

		snprintf(priv, sizeof(priv), "%s/%s.key.pem", tmp, signing_keys[i][0]);
		snprintf(pub, sizeof(pub), "%s/%s.pub.pem", tmp, signing_keys[i][0]);
		if (sign_keygen(priv, pub, err) < 0 || sign_key_id(pub, id, err) < 0)
			return bh_error_wrap(err, "%s key", signing_keys[i][0]);
		used += (size_t)snprintf(ids + used, ids_size - used, "- %s: `%s` (%s)\n",
		                         signing_keys[i][0], id, signing_keys[i][1]);
	}
	/* The owner GUID of the signature lists: random, version 4. */
	if (getrandom(g, sizeof(g), 0) != sizeof(g))
		return bh_error(err, errno, "read random bytes");
	g[6] = (g[6] & 0x0f) | 0x40;
	g[8] = (g[8] & 0x3f) | 0x80;
	snprintf(guid, sizeof(guid),
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[0], g[1],
	         g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
	         g[15]);
	snprintf(sb, sizeof(sb), "%s/secureboot", tmp);
	if (mkdir(sb, 0700) < 0)
		return bh_error(err, errno, "create %s", sb);
	if (secureboot_level(sb, "PK", "PK", cn, guid, err) < 0 ||
	    secureboot_level(sb, "KEK", "PK", cn, guid, err) < 0 ||
	    secureboot_level(sb, "db", "KEK", cn, guid, err) < 0)
		return -1;
	/* Public halves readable by all; private keys stay 0600 (umask). */
	static const char *const public_files[] = {
	    "workload.pub.pem",   "update.pub.pem",     "state.pub.pem",
	    "secureboot/PK.crt",  "secureboot/PK.esl",  "secureboot/PK.auth",
	    "secureboot/KEK.crt", "secureboot/KEK.esl", "secureboot/KEK.auth",
	    "secureboot/db.crt",  "secureboot/db.esl",  "secureboot/db.auth"};
	for (size_t i = 0; i < sizeof(public_files) / sizeof(public_files[0]); i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", tmp, public_files[i]);
		if (chmod(path, 0644) < 0)
			return bh_error(err, errno, "chmod %s", path);
	}
	if (write_readme(tmp, guid, ids, err) < 0)
		return -1;
	return bh_sync_tree(tmp, err) < 0 ? -1 : 0;
}

int cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
	                                     {"name", required_argument, NULL, 'n'},
	                                     {NULL, 0, NULL, 0}};
	const char *dir = NULL, *cn = "Bulkhead vendor";
	char tmp[4096], parent[4096], ids[1024] = "";
	struct bh_error err;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'n')
			cn = optarg;
		else
			return EXIT_ERROR;
	}
	if (!dir || optind != argc || strchr(cn, '/')) {
		fprintf(stderr, "usage: bhpack keys --dir NEW_FOLDER [--name \"VENDOR NAME\"]\n"
		                "  (--name goes into the Secure Boot certificates' CN; no '/')\n");
		return EXIT_ERROR;
	}
	umask(077);
	if (make_tmp(dir, tmp, sizeof(tmp), &err) < 0) {
		bh_error_print(&err, "bhpack keys");
		return EXIT_ERROR;
	}
	if (make_set(tmp, cn, ids, sizeof(ids), &err) < 0) {
		bh_remove_tree(tmp);
		bh_error_print(&err, "bhpack keys");
		return EXIT_ERROR;
	}
	/* rename(2) replaces an empty folder and fails on one that is not
	 * (filled since the check): dir ends up whole or untouched. */
	if (rename(tmp, dir) < 0) {
		bh_error(&err, errno, "rename %s to %s", tmp, dir);
		bh_remove_tree(tmp);
		bh_error_print(&err, "bhpack keys");
		return EXIT_ERROR;
	}
	snprintf(parent, sizeof(parent), "%s/..", dir);
	if (bh_sync_path(parent, &err) < 0) {
		bh_error_print(&err, "bhpack keys");
		return EXIT_ERROR;
	}
	printf("key set in %s (read %s/README.md; keep the private keys offline):\n%s", dir, dir,
	       ids);
	return EXIT_OK;
}
