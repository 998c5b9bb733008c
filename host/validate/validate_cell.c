/* One cell of `kta validate` (validate.h): its kernel, one `kta run`
 * child, and its counts. The children are kta itself, so a cell runs
 * exactly what a user would run by hand; its command line is in the
 * cell's run.log. */
#include "validate/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "run/results.h"
#include "run/runchild.h"
#include "base/spawn.h"

int validate_cells(const struct vopts *o, struct vcell **cells, unsigned int *n)
{
	unsigned int shards = o->shards ? o->shards : 1, runs = o->runs ? o->runs : 1, k = 0;
	struct vcell *v;

	if (shards > runs)
		shards = runs;
	v = calloc((size_t)o->narches * 2 * shards, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* Arch, then shard, then side: a partial run (Ctrl-C, a CI engine's
	 * first jobs) has both sides of the same shards. */
	for (unsigned int a = 0; a < o->narches; a++) {
		for (unsigned int s = 0; s < shards; s++) {
			for (int side = VSIDE_BEFORE; side <= VSIDE_AFTER; side++) {
				struct vcell *c = &v[k];

				c->index = k++;
				c->arch = o->arches[a];
				c->side = (enum vside)side;
				c->shard = s;
				c->runs = runs / shards + (s < runs % shards);
			}
		}
	}
	*cells = v;
	*n = k;
	return 0;
}

/* The tail of a log, for a reason: its last non-empty lines. */
static void add(char **argv, unsigned int *n, const char *a)
{
	if (*n < 62)
		argv[(*n)++] = (char *)a;
}

static void add_tree(const struct vopts *o, char **argv, unsigned int *n)
{
	if (o->tree) {
		add(argv, n, "--tree");
		add(argv, n, o->tree);
	} else if (o->source) {
		add(argv, n, "--source");
		add(argv, n, o->source);
	}
}

static void append_line(const char *log, const char *line)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd >= 0) {
		dprintf(fd, "%s\n", line);
		close(fd);
	}
}

/* 1 (why in out) when a --suite NAME[:GLOB] is not built beside kta for
 * the cell's arch; a path is kta run's to check. */
static int suites_built(const struct vopts *o, const struct vcell *c, char *out, size_t n)
{
	char dir[PATH_MAX];
	int err = self_dir(dir, sizeof(dir));

	if (err)
		return err;
	for (unsigned int i = 0; i < o->nitems; i++) {
		const char *it = o->items[i];
		size_t len = strcspn(it, ":");
		cleanup_free char *m = NULL;

		if (strchr(it, '/') || path_exists(it))
			continue;
		m = xasprintf("%s/%s/suites/%.*s/suite.txt", dir, c->arch->name, (int)len, it);
		if (!m)
			return -ENOMEM;
		if (!path_exists(m)) {
			snprintf(out, n, "the %.*s suite is not built for %s (no %s): run `make guests-all`, or "
				 "`make ARCH=%s`", (int)len, it, c->arch->name, m, c->arch->name);
			return 1;
		}
	}
	return 0;
}

/* Run argv with its output appended to log; the exit status. */
static int child(char **argv, const char *log)
{
	struct spawn_opts so = { 0 };
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return -errno;
	dprintf(fd, "$");
	for (unsigned int i = 0; argv[i]; i++)
		dprintf(fd, " %s", argv[i]);
	dprintf(fd, "\n");
	so.output = SPAWN_TO_FD;
	so.out_fd = fd;
	rc = spawn_run(argv, &so, NULL);
	close(fd);
	return rc;
}

/* The kernel a suites cell boots: kta's minimal build of the side's tree.
 * A series that touches only tools/ changes no kernel: both sides boot
 * the tree's own. */
static int build_kernel(const struct vopts *o, const struct vcell *c, const char *dir, const char *log,
			char *image, size_t n)
{
	cleanup_free char *art = path_join(dir, "kbuild");
	char *argv[64] = { 0 };
	unsigned int k = 0;
	cleanup_buf struct buf b = { 0 };
	int rc;

	if (!art)
		return -ENOMEM;
	add(argv, &k, o->kta);
	add(argv, &k, "kernel");
	add(argv, &k, "build");
	add_tree(o, argv, &k);
	add(argv, &k, "--arch");
	add(argv, &k, c->arch->name);
	add(argv, &k, "--artifacts");
	add(argv, &k, art);
	if (o->kind == 'S') {
		add(argv, &k, "--fragments");
		add(argv, &k, "selftests");
	}
	if (o->series_kernel ? c->side == VSIDE_AFTER : o->kind == 'S') {
		add(argv, &k, "--patches");
		add(argv, &k, o->patches);
	}
	/* The image's path is the last line of its output (spawn merges
	 * stdout into the log). */
	rc = child(argv, log);
	if (rc != 0)
		return rc;
	if (read_file(log, &b, 64 << 20) || !b.len)
		return EXIT_INFRA;
	{
		/* The image's path: the last line that is an existing file. */
		char *end = b.data + b.len, *line;

		while (end > b.data) {
			while (end > b.data && end[-1] == '\n')
				*--end = '\0';
			line = end;
			while (line > b.data && line[-1] != '\n')
				line--;
			if (line[0] == '/' && access(line, R_OK) == 0) {
				snprintf(image, n, "%s", line);
				return 0;
			}
			end = line;
		}
	}
	return EXIT_INFRA;
}

/* A JSON file kta run wrote, or NULL after saying why. */
static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);

	if (!root)
		pr_err("%s: %s (line %d)", path, jerr.text, jerr.line);
	return root;
}

static int read_suites(const char *path, struct vresult *r)
{
	json_t *root = load_json(path), *tests, *t;
	size_t i;

	if (!root)
		return -EINVAL;
	tests = json_object_get(root, "tests");
	json_array_foreach(tests, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *out = json_string_value(json_object_get(t, "outcome"));
		char base[192];
		char *hash;
		struct vtally *row = NULL;

		if (!name || !out)
			continue;
		snprintf(base, sizeof(base), "%s", name);
		hash = strrchr(base, '#');
		if (hash && hash[1] && strspn(hash + 1, "0123456789") == strlen(hash + 1))
			*hash = '\0';
		for (size_t j = 0; j < r->nt; j++)
			if (!strcmp(r->t[j].name, base))
				row = &r->t[j];
		if (!row) {
			struct vtally *nt = realloc(r->t, (r->nt + 1) * sizeof(*nt));

			if (!nt) {
				json_decref(root);
				return -ENOMEM;
			}
			r->t = nt;
			row = &r->t[r->nt++];
			memset(row, 0, sizeof(*row));
			snprintf(row->name, sizeof(row->name), "%s", base);
		}
		/* kta's own judgement: an expected failure (xfail) passed. */
		if (!strcmp(out, "skip"))
			row->skips++;
		else if (!strcmp(out, "pass") || !strcmp(out, "xfail"))
			row->runs++;
		else if (strcmp(out, "pending"))
			row->runs++, row->fails++;
	}
	json_decref(root);
	return 0;
}

/* What the tests were: the initramfs kta run composed is content-addressed
 * (agent, tests, plan), and a selftests build has its cache key. */
static void read_tests_id(const char *art, bool selftests, struct vresult *r)
{
	cleanup_free char *kt = path_join(art, "kernel.txt"), *st = path_join(art, "selftests.json");
	cleanup_buf struct buf b = { 0 };
	const char *key = NULL;
	json_t *root = NULL;
	char initramfs[80] = "";

	if (kt && !read_file(kt, &b, 1 << 20) && b.data) {
		char *p = strstr(b.data, "initramfs=");

		if (p) {
			char *slash, *end = strchr(p, '\n');

			if (end)
				*end = '\0';
			slash = strrchr(p, '/');
			snprintf(initramfs, sizeof(initramfs), "%.16s", slash ? slash + 1 : p + 10);
		}
	}
	if (selftests && st) {
		json_error_t jerr;

		root = json_load_file(st, 0, &jerr);
		key = json_string_value(json_object_get(json_array_get(json_object_get(root, "builds"), 0), "key"));
	}
	snprintf(r->tests_id, sizeof(r->tests_id), "initramfs %s%s%.64s", initramfs[0] ? initramfs : "?",
		 key ? ", selftests " : "", key ? key : "");
	json_decref(root);
}

/* The kernel the run booted, when the guest's agent came up, and
 * whether the run went to its end: a
 * kernel that panics or stops answering in the third of ten runs leaves
 * seven counted and the rest never started, which the counts alone would
 * hide (and a series that makes the kernel die must show). */
static int read_run(const char *path, struct vresult *r)
{
	json_t *root = load_json(path), *k, *t;
	const char *status;
	size_t i;

	if (!root)
		return -EINVAL;
	k = json_object_get(root, "kernel");
	snprintf(r->kernel, sizeof(r->kernel), "%s", json_string_value(json_object_get(k, "version")) ?: "");
	snprintf(r->kernel_sha256, sizeof(r->kernel_sha256), "%s",
		 json_string_value(json_object_get(k, "sha256")) ?: "");
	r->boot_ms = (unsigned long long)json_integer_value(
		json_object_get(json_object_get(root, "times_ms"), "agent_hello"));
	json_array_foreach(json_object_get(root, "tests"), i, t) {
		r->planned++;
		r->started += json_is_true(json_object_get(t, "started"));
	}
	status = json_string_value(json_object_get(root, "status")) ?: "";
	if (strcmp(status, "complete")) {
		snprintf(r->stopped, sizeof(r->stopped), "%s: %s", status,
			 json_string_value(json_object_get(root, "status_message")) ?: "");
		r->died = !strcmp(status, "kernel-panic") || !strcmp(status, "guest-hung");
	}
	json_decref(root);
	return 0;
}

static int read_selftests(const char *path, struct vresult *r)
{
	json_t *root = load_json(path), *subs, *s;
	size_t i;

	if (!root)
		return -EINVAL;
	subs = json_object_get(root, "subtests");
	r->t = calloc(json_array_size(subs) + 1, sizeof(*r->t));
	if (!r->t) {
		json_decref(root);
		return -ENOMEM;
	}
	json_array_foreach(subs, i, s) {
		json_t *c = json_object_get(s, "selftests");
		struct vtally *row = &r->t[r->nt];

		if (!json_is_string(json_object_get(s, "name")) || !c)
			continue;
		snprintf(row->name, sizeof(row->name), "%s", json_string_value(json_object_get(s, "name")));
		row->runs = (unsigned long)json_integer_value(json_object_get(c, "runs"));
		row->fails = (unsigned long)json_integer_value(json_object_get(c, "failures"));
		row->skips = (unsigned long)json_integer_value(json_object_get(c, "skipped"));
		r->nt++;
	}
	json_decref(root);
	return 0;
}

static void qemu_version(const struct arch_profile *a, char *out, size_t n)
{
	char *argv[] = { (char *)a->qemu_binary, "--version", NULL };
	cleanup_buf struct buf b = { 0 };

	out[0] = '\0';
	if (spawn_run(argv, NULL, &b) == 0 && b.len) {
		char *nl = memchr(b.data, '\n', b.len);

		if (nl)
			*nl = '\0';
		snprintf(out, n, "%s", b.data);
	}
}

int validate_run_cell(const struct vopts *o, const struct vcell *c, const char *plan, unsigned int ncells,
		      const char *dir, struct vresult *r)
{
	cleanup_free char *log = path_join(dir, "run.log"), *art = path_join(dir, "run");
	cleanup_free char *json = path_join(dir, "run/results.json"), *st = path_join(dir, "run/selftests.json");
	cleanup_free char *res = path_join(dir, "result.json");
	char runs[16], iters[16], timeout[16], image[4096] = "";
	char *argv[64] = { 0 };
	unsigned int k = 0;
	unsigned long long t0 = monotonic_ms(), t1;
	int rc, err;

	memset(r, 0, sizeof(*r));
	if (!log || !art || !json || !st || !res)
		return -ENOMEM;
	snprintf(r->plan, sizeof(r->plan), "%s", plan);
	r->ncells = ncells;
	r->index = c->index;
	snprintf(r->arch, sizeof(r->arch), "%s", c->arch->name);
	r->side = c->side;
	r->shard = c->shard;
	r->runs = c->runs;
	r->round = c->round;
	snprintf(r->tree_series, sizeof(r->tree_series), "%s%s", c->side == VSIDE_AFTER ? "series " : "no series",
		 c->side == VSIDE_AFTER ? o->series_sha : "");
	qemu_version(c->arch, r->qemu, sizeof(r->qemu));
	snprintf(r->tree, sizeof(r->tree), "%s%s", o->tree ? "tree " : o->source ? "source " : "source debian:7.3 (default)",
		 o->tree ? o->tree : o->source ? o->source : "");
	snprintf(r->machine, sizeof(r->machine), "-M %s -cpu %s", c->arch->machine, c->arch->cpu_tcg);
	err = mkdir_p(dir, 0755);
	if (err)
		return err;
	unlink(log);

	/* The kernel: suites boot kta's minimal build; the selftests, the
	 * side's selftests kernel (built by `kta run` itself), or the
	 * series' when the series leaves the kernel alone. */
	/* The suites must be built for this arch before a kernel build of
	 * tens of minutes makes the omission expensive. */
	if (o->kind == 's' && (err = suites_built(o, c, r->reason, sizeof(r->reason)))) {
		if (err < 0)
			return err;
		snprintf(r->status, sizeof(r->status), "infra");
		r->exit_code = EXIT_USAGE;
		pr_err("cell %u: %s", c->index, r->reason);
		return vresult_write(res, r) ?: 0;
	}
	if (!o->kernel_version && (o->kind != 'S' || !o->series_kernel)) {
		rc = build_kernel(o, c, dir, log, image, sizeof(image));
		if (rc < 0)
			return rc;
		if (rc) {
			r->exit_code = rc;
			snprintf(r->status, sizeof(r->status), "%s",
				 rc == EXIT_BOOT_FAILED ? "not-run"
				 : rc == EXIT_INTERRUPTED || rc == EXIT_TERMINATED ? "interrupted" : "infra");
			runchild_log_tail(log, 3, r->reason, sizeof(r->reason));
			r->wall_ms = r->build_ms = monotonic_ms() - t0;
			return vresult_write(res, r) ?: 0;
		}
	}
	t1 = monotonic_ms();
	r->build_ms = t1 - t0;

	add(argv, &k, o->kta);
	add(argv, &k, "run");
	add(argv, &k, "--arch");
	add(argv, &k, c->arch->name);
	add(argv, &k, "--artifacts");
	add(argv, &k, art);
	add(argv, &k, "--json");
	add(argv, &k, json);
	snprintf(runs, sizeof(runs), "%u", c->runs);
	add(argv, &k, "--runs");
	add(argv, &k, runs);
	if (image[0]) {
		add(argv, &k, "--kernel");
		add(argv, &k, image);
	} else if (o->kernel_version) {
		add(argv, &k, "--kernel-version");
		add(argv, &k, o->kernel_version);
	}
	if (o->stress) {
		add(argv, &k, "--stress");
		add(argv, &k, o->stress);
	}
	if (o->timeout_s) {
		snprintf(timeout, sizeof(timeout), "%u", o->timeout_s);
		add(argv, &k, o->kind == 'S' ? "--subtimeout" : "--timeout");
		add(argv, &k, timeout);
	}
	if (o->kind == 'S') {
		add(argv, &k, "--selftests");
		add(argv, &k, o->selftests);
		add_tree(o, argv, &k);
		if (o->asan)
			add(argv, &k, "--asan");
		if (o->st_toolchain) {
			add(argv, &k, "--selftests-toolchain");
			add(argv, &k, o->st_toolchain);
		}
		if (c->side == VSIDE_AFTER) {
			add(argv, &k, "--patches");
			add(argv, &k, o->patches);
		}
	} else {
		if (o->iterations) {
			snprintf(iters, sizeof(iters), "%u", o->iterations);
			add(argv, &k, "--iterations");
			add(argv, &k, iters);
		}
		for (unsigned int i = 0; i < o->nitems; i++) {
			add(argv, &k, o->kind == 's' ? "--suite" : "--test");
			add(argv, &k, o->items[i]);
		}
	}
	/* A kernel that dies before the agent's hello ran no test, so a
	 * second boot cannot bias any count; Debian's 7.3.4 panicked now and
	 * then under TCG ("Fatal exception in interrupt") before init (x86
	 * live patching on a TCG thread per vCPU: arch.c). One
	 * retry, recorded in the result and the report, so a series that
	 * makes booting flaky still shows. */
	unlink(json);
	rc = child(argv, log);
	if (rc == EXIT_BOOT_FAILED && runchild_boot_failed(json)) {
		char tail[400];

		runchild_log_tail(log, 3, tail, sizeof(tail));
		snprintf(r->retried, sizeof(r->retried), "%s", tail);
		pr_warn("cell %u (%s %s): the kernel did not reach the agent; booting it once more", c->index,
			c->arch->name, vside_name(c->side));
		append_line(log, "kta validate: the kernel did not reach the agent; booting it once more");
		unlink(json);
		rc = child(argv, log);
	}
	r->wall_ms = monotonic_ms() - t0;
	r->exit_code = rc;
	if (rc < 0)
		return rc;
	if (rc == EXIT_OK || rc == EXIT_TEST_FAILED) {
		snprintf(r->status, sizeof(r->status), "ran");
		err = o->kind == 'S' ? read_selftests(st, r) : read_suites(json, r);
		err = err ?: read_run(json, r);
		read_tests_id(art, o->kind == 'S', r);
		if (err) {
			snprintf(r->status, sizeof(r->status), "infra");
			snprintf(r->reason, sizeof(r->reason), "cannot read the run's results (%s)", strerror(-err));
		}
	} else {
		snprintf(r->status, sizeof(r->status), "%s",
			 rc == EXIT_BOOT_FAILED && runchild_boot_failed(json) ? "boot-failed"
			 : rc == EXIT_BOOT_FAILED ? "not-run"
			 : rc == EXIT_INTERRUPTED || rc == EXIT_TERMINATED ? "interrupted" : "infra");
		runchild_log_tail(log, 3, r->reason, sizeof(r->reason));
	}
	return vresult_write(res, r);
}
