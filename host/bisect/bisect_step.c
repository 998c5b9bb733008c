/* One bisect step's boot: `kta run --kernel-version ABI --runs N` (or
 * --kernel IMAGE, a commit's build) as a
 * child, its output in dir/run.log, its results.json read back into
 * rounds run and rounds failed.
 */
#include "bisect/bisect.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/interrupt.h"
#include "base/log.h"
#include "run/results.h"
#include "run/runchild.h"
#include "base/spawn.h"
#include "base/util.h"

static int run_child(const char **argv, const char *log, const char *json, int mode)
{
	int fd = open(log, O_WRONLY | O_CREAT | mode | O_CLOEXEC, 0644), rc;

	if (fd < 0)
		return -errno;
	if (mode == O_APPEND)
		dprintf(fd, "kta bisect: the kernel did not reach the agent; booting it once more\n");
	dprintf(fd, "$");
	for (unsigned int i = 0; argv[i]; i++)
		dprintf(fd, " %s", argv[i]);
	dprintf(fd, "\n");
	unlink(json);
	rc = bisect_child(argv, fd);
	close(fd);
	return rc;
}

int bisect_child(const char *const *argv, int out_fd)
{
	/* Its own group, so that a stop reaches it (and its QEMU) through
	 * the interrupt module and never the shell that started kta. */
	struct spawn_opts so = { .output = SPAWN_TO_FD, .out_fd = out_fd, .new_pgrp = true };
	pid_t pid;
	int rc = spawn_start((char *const *)argv, &so, &pid, NULL);

	if (!rc) {
		interrupt_watch(pid);
		rc = spawn_wait(pid);
		interrupt_unwatch(pid);
	}
	return rc;
}

/* "name#7" -> 7, the name cut at '#'; 1 for a name without a round. */
static unsigned long round_of(char *name)
{
	char *hash = strrchr(name, '#');

	if (!hash || !hash[1] || strspn(hash + 1, "0123456789") != strlen(hash + 1))
		return 1;
	*hash = '\0';
	return strtoul(hash + 1, NULL, 10);
}

int bisect_read_rounds(const char *path, const struct bisect_sel *s, unsigned int runs, struct bisect_boot *b)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *tests, *t;
	cleanup_free unsigned char *st = calloc(runs + 1, 1); /* bit 0 ran, 1 failed, 2 skipped */
	size_t i;

	if (!root || !st) {
		json_decref(root);
		return root ? -ENOMEM : -EINVAL;
	}
	snprintf(b->kernel, sizeof(b->kernel), "%s",
		 json_string_value(json_object_get(json_object_get(root, "kernel"), "version")) ?: "");
	b->boot_ms = (unsigned long long)json_integer_value(
		json_object_get(json_object_get(root, "times_ms"), "agent_hello"));
	b->booted = b->boot_ms > 0;
	tests = json_object_get(root, "tests");
	json_array_foreach(tests, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *out = json_string_value(json_object_get(t, "outcome"));
		char base[256];
		unsigned long r;

		/* A test the agent never started (the kernel had died in an
		 * earlier one) is no evidence: the death is the failure of
		 * the round it happened in. */
		if (!name || !out || !strcmp(out, "pending") || json_is_false(json_object_get(t, "started")))
			continue;
		snprintf(base, sizeof(base), "%s", name);
		r = round_of(base);
		if (r < 1 || r > runs || (s->only && fnmatch(s->only, base, 0)))
			continue;
		st[r] |= 1;
		if (!strcmp(out, "skip"))
			st[r] |= 4;
		else if (strcmp(out, "pass") && strcmp(out, "xfail"))
			st[r] |= 2;
	}
	json_decref(root);
	for (unsigned int r = 1; r <= runs; r++) {
		if (!(st[r] & 1))
			continue;
		if (st[r] & 2)
			b->runs++, b->fails++;
		else if (st[r] & 4)
			b->skips++;
		else
			b->runs++;
	}
	return 0;
}

unsigned int bisect_sel_args(const struct bisect_sel *s, char num[2][16], const char **argv, unsigned int k)
{
	if (s->iterations) {
		snprintf(num[0], 16, "%u", s->iterations);
		argv[k++] = "--iterations";
		argv[k++] = num[0];
	}
	if (s->timeout_s) {
		snprintf(num[1], 16, "%u", s->timeout_s);
		argv[k++] = "--timeout";
		argv[k++] = num[1];
	}
	for (unsigned int i = 0; i < s->nenv; i++) {
		argv[k++] = "--env";
		argv[k++] = s->env[i];
	}
	for (unsigned int i = 0; i < s->nitems; i++) {
		argv[k++] = s->kind[i] == 's' ? "--suite" : "--test";
		argv[k++] = s->items[i];
	}
	return k;
}

int bisect_boot(const struct bisect_sel *s, const char *abi, const char *image, unsigned int runs, const char *dir,
		struct bisect_boot *out)
{
	cleanup_free char *log = path_join(dir, "run.log"), *json = path_join(dir, "results.json"),
			  *art = path_join(dir, "run");
	char nruns[16], num[2][16];
	const char *argv[96];
	unsigned int k = 0;
	uint64_t t0 = monotonic_ms();
	int rc, err;

	memset(out, 0, sizeof(*out));
	if (!log || !json || !art)
		return -ENOMEM;
	err = mkdir_p(dir, 0755);
	if (err)
		return err;
	snprintf(nruns, sizeof(nruns), "%u", runs);
	argv[k++] = s->kta;
	argv[k++] = "run";
	argv[k++] = "--arch";
	argv[k++] = s->arch;
	argv[k++] = image ? "--kernel" : "--kernel-version";
	argv[k++] = image ? image : abi;
	if (s->flavour && !image) {
		argv[k++] = "--flavour";
		argv[k++] = s->flavour;
	}
	argv[k++] = "--runs";
	argv[k++] = nruns;
	argv[k++] = "--artifacts";
	argv[k++] = art;
	argv[k++] = "--json";
	argv[k++] = json;
	k = bisect_sel_args(s, num, argv, k);
	argv[k] = NULL;
	rc = run_child(argv, log, json, O_TRUNC);
	/* A kernel that died before the agent's hello ran nothing: Debian's
	 * kernels panic now and then under TCG before init ("Fatal
	 * exception in interrupt"). One more boot, said in the step's log
	 * and its line, so that a flake does not skip a version. */
	if (rc == EXIT_BOOT_FAILED && runchild_boot_failed(json) && !interrupt_signal()) {
		runchild_log_tail(log, 1, out->retried, sizeof(out->retried));
		rc = run_child(argv, log, json, O_APPEND);
	}
	out->wall_ms = monotonic_ms() - t0;
	if (rc < 0)
		return rc;
	out->exit_code = rc;
	/* Only a whole run counts: an interrupted one's unfinished tests
	 * are not failures. */
	if ((rc == EXIT_OK || rc == EXIT_TEST_FAILED) && path_exists(json) && bisect_read_rounds(json, s, runs, out) == 0)
		return 0;
	out->runs = out->fails = out->skips = 0;
	runchild_log_tail(log, 1, out->why, sizeof(out->why));
	return 0;
}
