/* Container state: ids, the state file, the status derived from the live
 * process (never trusted from the file), id range allocation, signals. */
#include "tap.h"

#include "libbhc.h"

#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/bhc-unit-XXXXXX";

/* A state folder holding text as its state.json. */
static void raw_state(int rootfd, const char *id, const char *text)
{
	struct bh_error err;
	int dirfd = bhc_state_dir_create(rootfd, id, &err), fd;

	fd = openat(dirfd, "state.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
	close(dirfd);
}

static int make_state(const char *id, pid_t pid, uint64_t start, uint32_t base, bool fifo)
{
	struct bh_error err;
	struct bhc_state st = {0};
	int rootfd = bhc_root_open(root, false, &err), dirfd, r;

	dirfd = bhc_state_dir_create(rootfd, id, &err);
	snprintf(st.id, sizeof(st.id), "%s", id);
	snprintf(st.bundle, sizeof(st.bundle), "/b/%s", id);
	st.pid = pid;
	st.start_time = start;
	st.uid_base = base;
	r = bhc_state_write(dirfd, &st, NULL, &err);
	if (fifo)
		mkfifoat(dirfd, "exec.fifo", 0600);
	close(dirfd);
	close(rootfd);
	return r;
}

int main(void)
{
	struct bh_error err;
	struct bhc_state st;
	uint32_t base;
	char *json;
	int rootfd;

	ok(mkdtemp(root) != NULL, "temporary root");
	ok(bhc_id_check("web-1.a_b", &err) == 0, "a plain id is accepted");
	ok(bhc_id_check("a/b", &err) < 0 && strstr(err.msg, "may only hold"),
	   "an id with a slash: %s", err.msg);
	ok(bhc_id_check("../etc", &err) < 0, "an id with dots and a slash");
	ok(bhc_id_check(".hidden", &err) < 0, "an id starting with a dot");
	ok(bhc_id_check("", &err) < 0, "an empty id");

	ok(make_state("me", getpid(), bhc_proc_start_time(getpid()), BHC_UID_RANGE_BASE, true) == 0,
	   "state written");
	ok(bhc_state_load(root, "me", &st, &err) == 0 && st.pid == getpid() &&
	       st.status == BHC_CREATED && !strcmp(st.bundle, "/b/me"),
	   "a live process with its exec fifo: created");
	json = bhc_state_json(&st, &err);
	ok(json && strstr(json, "\"status\": \"created\"") && strstr(json, "\"id\": \"me\"") &&
	       strstr(json, "\"ociVersion\": \"1.") && strstr(json, "\"pid\""),
	   "state JSON per spec");
	free(json);
	bhc_state_free(&st);
	{
		char fifo[64];

		snprintf(fifo, sizeof(fifo), "%s/me/exec.fifo", root);
		unlink(fifo);
	}
	ok(bhc_state_load(root, "me", &st, &err) == 0 && st.status == BHC_RUNNING,
	   "fifo gone: running");
	bhc_state_free(&st);

	ok(make_state("reused", getpid(), bhc_proc_start_time(getpid()) + 1,
	              BHC_UID_RANGE_BASE + 2 * BHC_UID_RANGE_SIZE, false) == 0 &&
	       bhc_state_load(root, "reused", &st, &err) == 0 && st.status == BHC_STOPPED,
	   "a pid whose start time differs is a recycled pid: stopped");
	json = bhc_state_json(&st, &err);
	ok(json && strstr(json, "\"stopped\"") && !strstr(json, "\"pid\""),
	   "a stopped state has no pid");
	free(json);
	bhc_state_free(&st);
	ok(bhc_state_load(root, "nosuch", &st, &err) < 0 && strstr(err.msg, "does not exist"),
	   "unknown id: %s", err.msg);

	rootfd = bhc_root_open(root, false, &err);
	ok(bhc_uid_base_pick(rootfd, &base, &err) == 0 &&
	       base == BHC_UID_RANGE_BASE + BHC_UID_RANGE_SIZE,
	   "the lowest free id range is picked (%#x)", base);
	ok(bhc_state_dir_create(rootfd, "me", &err) < 0 && strstr(err.msg, "exists already"),
	   "an id is taken once");
	ok(bhc_state_remove(rootfd, "me", &err) == 0 &&
	       bhc_state_remove(rootfd, "reused", &err) == 0 &&
	       bhc_uid_base_pick(rootfd, &base, &err) == 0 && base == BHC_UID_RANGE_BASE,
	   "removed states free their ranges");

	/* States that cannot be read in full: their ranges are unknown, so
	 * nothing is handed out (a state read in part was once a free slot). */
	{
		static char big[20000];
		int n = snprintf(big, sizeof(big), "{\"annotations\": {\"a\": \"");

		memset(big + n, 'x', 16000);
		snprintf(big + n + 16000, sizeof(big) - (size_t)n - 16000,
		         "\"}, \"bhc\": {\"uidBase\": %u}}", BHC_UID_RANGE_BASE);
		raw_state(rootfd, "big", big);
		ok(bhc_uid_base_pick(rootfd, &base, &err) == 0 &&
		       base == BHC_UID_RANGE_BASE + BHC_UID_RANGE_SIZE,
		   "a state larger than one read still holds its range");
		ok(mkdirat(rootfd, "nostate", 0700) == 0 &&
		       bhc_uid_base_pick(rootfd, &base, &err) == 0,
		   "a state folder without a state file (a create that died first) holds no range");
		raw_state(rootfd, "cut", "{\"bhc\": {\"uidBa");
		ok(bhc_uid_base_pick(rootfd, &base, &err) < 0 && strstr(err.msg, "'cut'") &&
		       strstr(err.msg, "host ids"),
		   "a state cut short stops the pick: %s", err.msg);
		bhc_state_remove(rootfd, "cut", &err);
		raw_state(rootfd, "other", "{\"bhc\": {}}");
		ok(bhc_uid_base_pick(rootfd, &base, &err) < 0 && strstr(err.msg, "'other'"),
		   "a state without its uidBase stops the pick: %s", err.msg);
		bhc_state_remove(rootfd, "other", &err);
		ok(mkdirat(rootfd, "dir", 0700) == 0 &&
		       mkdirat(rootfd, "dir/state.json", 0700) == 0 &&
		       bhc_uid_base_pick(rootfd, &base, &err) < 0 && strstr(err.msg, "'dir'"),
		   "a state that cannot be read stops the pick: %s", err.msg);
		bh_remove_tree_at(rootfd, "dir");
		bh_remove_tree_at(rootfd, "big");
		bh_remove_tree_at(rootfd, "nostate");
	}
	close(rootfd);
	rmdir(root);

	ok(bhc_signal_parse("TERM") == SIGTERM && bhc_signal_parse("SIGKILL") == SIGKILL &&
	       bhc_signal_parse("9") == 9 && bhc_signal_parse("sigusr1") == SIGUSR1,
	   "signal names and numbers");
	ok(bhc_signal_parse("FOO") < 0 && bhc_signal_parse("0") < 0 && bhc_signal_parse("99") < 0 &&
	       bhc_signal_parse("") < 0,
	   "bad signals");
	ok(bh_cap_from_name("CAP_SYS_ADMIN") == 21 &&
	       bh_cap_from_name("cap_checkpoint_restore") == 40 &&
	       bh_cap_from_name("CAP_NOPE") < 0,
	   "capability names");
	ok(bhc_rlimit_from_name("RLIMIT_NOFILE") >= 0 && bhc_rlimit_from_name("RLIMIT_X") < 0,
	   "rlimit names");
	return done();
}
