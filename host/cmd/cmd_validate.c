/* `kta validate`: one command for "does this series fix what it claims,
 * on which architectures, with what confidence, and does it break
 * anything?" (validate.h for the model, verdict.h for the statistics). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "base/spawn.h"
#include "run/matrix.h"
#include "kbuild/patches.h"
#include "run/results.h"
#include "base/sha256.h"
#include "validate/validate.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta validate --patches SERIES [--tree DIR | --source debian:V] [--arch all|LIST]\n"
		"                    (--suite NAME... | --test PATH... | --selftests SEL [--asan])\n"
		"                    [--runs N | --until-confident [--first N] [--runs MAX] [--budget S]]\n"
		"                    [--stress SPEC] [--jobs N] [--out DIR]\n"
		"       kta validate ... --plan [--shards K] [--format github|k8s]\n"
		"       kta validate ... --cell I [--shards K] [--out DIR]\n"
		"       kta validate --merge RESULT... [--out DIR]\n"
		"       kta validate --replay REPORT.json\n"
		"\n"
		"Runs the tests on each architecture without the series (before) and with it (after),\n"
		"N times each (in one boot per cell: `kta run --runs`), and judges each test x arch:\n"
		"  fixed / regressed   Fisher's exact test, one-sided, p <= alpha (/ looks)\n"
		"  no change           the difference's interval within +-margin (two one-sided tests)\n"
		"  inconclusive        neither; \"needs about N runs\": per side, the runs at which the\n"
		"                      rates seen so far, if they held, would decide\n"
		"Kernels: suites and --test boot kta's minimal build of each side's tree (one build for\n"
		"both when the series touches only tools/); --selftests boot the selftests kernel of\n"
		"the patched tree (or of each side's, when the series touches the kernel).\n"
		"\n"
		"  --runs N            runs per side (default 10); with --until-confident the budget\n"
		"                      (default 320)\n"
		"  --until-confident   look at the data after --first (default 5) runs, then doubling,\n"
		"                      up to --runs; each look at alpha / (number of looks): Bonferroni,\n"
		"                      so the chance of any wrong verdict over all looks stays <= alpha\n"
		"  --budget S          --until-confident: start no look after S seconds\n"
		"  --alpha A, --margin D   error rate (0.05) and the \"no change\" margin (0.05)\n"
		"  --iterations N, --timeout S, --stress SPEC   as for kta run\n"
		"  --kernel-version V  Debian's prebuilt kernel on both sides (a series in tools/ only)\n"
		"  --selftests-toolchain root|host   as for kta run\n"
		"  --shards K          split each side's runs into K cells (default 1)\n"
		"  --jobs N            cells at once here (default: cores / 2, at most one per 3 GB free)\n"
		"  --out DIR           report and cells (default kta-out/<time>-validate-<pid>); a rerun with\n"
		"                      the same --out keeps the cells that finished\n"
		"  --plan              print the cells as a CI job matrix (GitHub Actions strategy.matrix\n"
		"                      JSON, or --format k8s: an Indexed Job's completions and cells)\n"
		"  --cell I            run cell I only; writes DIR/cell-I/result.json\n"
		"  --merge RESULT...   one table from cell results (a missing or duplicated cell is named)\n"
		"  --replay REPORT     run a report's command again\n"
		"\n"
		"Writes DIR/validate.json, DIR/validate.xml (JUnit), DIR/validate.svg (the plot).\n"
		"Exit: 0 nothing regressed; 1 a test regressed; 2 results missing or not run; 125 the\n"
		"series applies nowhere; 128 bad input; 200 infrastructure; 130/143 interrupted.\n");
}

/* Does the series change anything outside tools/ (the kernel itself)? */
static int series_scope(struct vopts *o)
{
	struct patch_series s = { 0 };
	int err = patch_series_load(o->patches, &s);

	if (err)
		return err;
	snprintf(o->series_sha, sizeof(o->series_sha), "%s", s.sha256);
	o->series_kernel = false;
	for (size_t i = 0; !err && i < s.n; i++) {
		cleanup_buf struct buf text = { 0 }, files = { 0 };

		err = read_file(s.v[i].path, &text, 64 << 20);
		err = err ?: patch_text_files(text.data ? text.data : "", s.v[i].strip, &files);
		for (char *p = files.data, *nl; !err && p && p < files.data + files.len; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(files.data + files.len - p));
			if (!nl)
				nl = files.data + files.len;
			if (nl > p && strncmp(p, "tools/", 6))
				o->series_kernel = true;
		}
	}
	patch_series_free(&s);
	return err;
}

static void mix(struct sha256 *h, const char *s)
{
	s = s ? s : "-";
	sha256_update(h, s, strlen(s) + 1);
}

void validate_fingerprint(const struct vopts *o, int argc, char **argv, char out[17])
{
	struct sha256 h;
	char hex[65];

	(void)argc;
	(void)argv;
	sha256_init(&h);
	mix(&h, o->series_sha);
	mix(&h, o->tree);
	mix(&h, o->source);
	for (unsigned int i = 0; i < o->narches; i++)
		mix(&h, o->arches[i]->name);
	sha256_update(&h, &o->kind, 1);
	for (unsigned int i = 0; i < o->nitems; i++)
		mix(&h, o->items[i]);
	mix(&h, o->selftests);
	mix(&h, o->st_toolchain);
	mix(&h, o->kernel_version);
	mix(&h, o->stress);
	{
		char nums[128];

		snprintf(nums, sizeof(nums), "%d %u %u %d %u %u %u", o->asan, o->runs, o->shards, o->until_confident,
			 o->first, o->iterations, o->timeout_s);
		mix(&h, nums);
	}
	sha256_hex(&h, hex);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

/* --plan: the cells as a job matrix an existing CI engine takes as is. */
static int print_plan(const struct vopts *o, const struct vcell *c, unsigned int n, const char *plan,
		      const char *format)
{
	json_t *root, *list = json_array();
	char *text;

	for (unsigned int i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:i, s:s, s:s, s:i, s:i}", "cell", c[i].index, "arch",
						      c[i].arch->name, "side", vside_name(c[i].side), "shard",
						      c[i].shard, "runs", c[i].runs));
	if (!strcmp(format, "k8s"))
		/* An Indexed Job: completions = cells, and each pod runs
		 * `kta validate ... --cell $JOB_COMPLETION_INDEX`. */
		root = json_pack("{s:s, s:i, s:i, s:o}", "plan", plan, "completions", n, "parallelism",
				 o->jobs ? o->jobs : n, "cells", list);
	else
		root = json_pack("{s:o}", "include", list);
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!text)
		return -ENOMEM;
	printf("%s\n", text);
	free(text);
	return 0;
}

struct job {
	pid_t pid;
	unsigned int cell;
	unsigned long long started;
};

static void progress(unsigned int done, unsigned int total, unsigned long runs_done, unsigned long runs_total,
		     unsigned long long t0)
{
	double s = (double)(monotonic_ms() - t0) / 1000, rate = s > 0 ? (double)runs_done / s : 0;
	double left = rate > 0 ? (double)(runs_total - runs_done) / rate : 0;

	if (!isatty(2))
		return;
	fprintf(stderr, "\rkta validate: cells %u/%u, %.2f runs/s, about %d:%02d left   ", done, total, rate,
		(int)left / 60, (int)left % 60);
	if (done == total)
		fprintf(stderr, "\n");
}

static int cell_dir(const char *out, unsigned int i, char *dir, size_t n)
{
	return (size_t)snprintf(dir, n, "%s/cell-%u", out, i) >= n ? -ENAMETOOLONG : 0;
}

/* A finished cell from an earlier run into the same directory: kept. */
static bool cell_done(const char *dir, const char *plan, unsigned int index)
{
	cleanup_free char *path = path_join(dir, "result.json");
	struct vresult r;
	bool ok;

	if (!path || !path_exists(path))
		return false;
	if (vresult_read(path, &r))
		return false;
	ok = !strcmp(r.plan, plan) && r.index == index && (!strcmp(r.status, "ran") || !strcmp(r.status, "not-run"));
	vresult_free(&r);
	return ok;
}

/* Run cells (those not done yet) jobs at a time, each in a child process;
 * SIGINT/SIGTERM reach each cell's group through the interrupt module,
 * and finished cells stay. */
static int run_cells(const struct vopts *o, const struct vcell *c, unsigned int n, const char *plan,
		     unsigned int ncells, const char *out)
{
	struct job *jobs = calloc(o->jobs, sizeof(*jobs));
	unsigned int next = 0, running = 0, done = 0;
	unsigned long runs_total = 0, runs_done = 0;
	unsigned long long t0 = monotonic_ms();
	int rc = 0;

	if (!jobs)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		runs_total += c[i].runs;
	while (done < n) {
		int status;
		pid_t pid;

		while (!interrupt_signal() && running < o->jobs && next < n) {
			char dir[PATH_MAX];
			const struct vcell *cc = &c[next++];

			if (cell_dir(out, cc->index, dir, sizeof(dir))) {
				done++;
				continue;
			}
			if (cell_done(dir, plan, cc->index)) {
				pr_info("cell %u (%s %s shard %u): kept from an earlier run", cc->index, cc->arch->name,
					vside_name(cc->side), cc->shard);
				done++;
				runs_done += cc->runs;
				continue;
			}
			/* Its own group, which the interrupt module passes a
			 * stop to (the cell's `kta run` stops its QEMU and
			 * keeps what it has); it goes when validate goes, even
			 * by SIGKILL. */
			pid = spawn_fork(&(struct spawn_opts){ .output = SPAWN_INHERIT, .new_pgrp = true });
			if (pid < 0) {
				rc = (int)pid;
				break;
			}
			if (pid == 0) {
				struct vresult r;
				int e;

				e = validate_run_cell(o, cc, plan, ncells, dir, &r);
				vresult_free(&r);
				_exit(e < 0 ? EXIT_INFRA : 0);
			}
			interrupt_watch(pid);
			for (unsigned int j = 0; j < o->jobs; j++) {
				if (!jobs[j].pid) {
					jobs[j] = (struct job){ pid, (unsigned int)(cc - c), monotonic_ms() };
					break;
				}
			}
			running++;
			pr_info("cell %u: %s %s, shard %u, %u run%s (%s)", cc->index, cc->arch->name,
				vside_name(cc->side), cc->shard, cc->runs, cc->runs == 1 ? "" : "s", dir);
		}
		if (interrupt_signal() && next < n) {
			done += n - next;
			next = n;
		}
		if (!running)
			break;
		pid = spawn_wait_any(&status, 100);
		if (pid <= 0)
			continue;
		for (unsigned int j = 0; j < o->jobs; j++) {
			const struct vcell *cc;

			if (jobs[j].pid != pid)
				continue;
			cc = &c[jobs[j].cell];
			interrupt_unwatch(pid);
			jobs[j].pid = 0;
			running--;
			done++;
			runs_done += cc->runs;
			pr_info("cell %u: %s %s shard %u done in %.1f s", cc->index, cc->arch->name, vside_name(cc->side),
				cc->shard, (double)(monotonic_ms() - jobs[j].started) / 1000);
			progress(done, n, runs_done, runs_total, t0);
		}
	}
	free(jobs);
	return rc;
}

/* Read every result.json under out/cell-*. */
static int read_results(const char *out, const struct vcell *c, unsigned int n, struct vresult **res, size_t *nres)
{
	struct vresult *v = calloc(n + 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		char dir[PATH_MAX];
		cleanup_free char *path = NULL;

		if (cell_dir(out, c[i].index, dir, sizeof(dir)))
			continue;
		path = path_join(dir, "result.json");
		if (path && path_exists(path) && !vresult_read(path, &v[k]))
			k++;
	}
	*res = v;
	*nres = k;
	return 0;
}

static unsigned long long started_ms;

static int report(const char *out, struct vmerged *m, const struct verdict_rule *rule, const struct vresult *r,
		  size_t n, int argc, char **argv)
{
	cleanup_free char *json = path_join(out, "validate.json"), *xml = path_join(out, "validate.xml");
	cleanup_free char *svg = path_join(out, "validate.svg"), *txt = path_join(out, "validate.txt");
	bool regressed = false, incomplete = m->missing || m->mismatched;
	unsigned int not_applied = 0, arches = 0;
	FILE *f;
	int err;

	if (!json || !xml || !svg || !txt)
		return EXIT_INFRA;
	validate_print_table(stdout, m, rule);
	fflush(stdout);
	f = fopen(txt, "we");
	if (f) {
		validate_print_table(f, m, rule);
		fclose(f);
	}
	err = validate_write_json(json, m, rule, r, n, argc, argv);
	err = err ?: validate_write_junit(xml, m);
	err = err ?: validate_write_svg(svg, m);
	if (err)
		return pr_err("cannot write the report in %s: %s", out, strerror(-err)), EXIT_INFRA;
	{
		unsigned long long wall = 0, build = 0, boot = 0;

		for (size_t i = 0; i < n; i++) {
			wall += r[i].wall_ms;
			build += r[i].build_ms;
			boot += r[i].boot_ms;
		}
		/* Summed over cells (they may have run at once): where the
		 * machine's time went. Runs: each cell's wall less its build
		 * and its guest's boot. */
		printf("# time in cells: %.1f s: kernel builds %.1f s, boots %.1f s, runs %.1f s (%zu cells)\n",
		       (double)wall / 1000, (double)build / 1000, (double)boot / 1000,
		       (double)(wall > build + boot ? wall - build - boot : 0) / 1000, n);
	}
	if (started_ms)
		printf("# wall time of this validate: %.1f s\n", (double)(monotonic_ms() - started_ms) / 1000);
	printf("# report: %s (JSON), %s (JUnit), %s (plot)\n", json, xml, svg);
	for (size_t i = 0; i < m->nrows; i++) {
		regressed |= m->rows[i].v.kind == VERDICT_REGRESSED;
		incomplete |= m->rows[i].not_run[0] || m->rows[i].not_run[1];
	}
	for (size_t i = 0; i < n; i++) {
		arches += r[i].side == VSIDE_AFTER;
		not_applied += r[i].side == VSIDE_AFTER && !strcmp(r[i].status, "not-run");
	}
	if (interrupt_signal())
		return interrupt_exit_code(interrupt_signal());
	if (regressed)
		return EXIT_TEST_FAILED;
	if (arches && not_applied == arches)
		return EXIT_BOOT_FAILED;
	return incomplete ? 2 : EXIT_OK;
}

static int do_merge(char **files, int nfiles, const char *out, const struct verdict_rule *rule, int argc,
		    char **argv)
{
	struct vresult *r = calloc((size_t)nfiles + 1, sizeof(*r));
	struct vmerged m;
	size_t n = 0;
	int rc;

	if (!r)
		return EXIT_INFRA;
	for (int i = 0; i < nfiles; i++) {
		if (vresult_read(files[i], &r[n])) {
			for (size_t j = 0; j < n; j++)
				vresult_free(&r[j]);
			free(r);
			return EXIT_USAGE;
		}
		n++;
	}
	if (validate_merge(r, n, rule, &m)) {
		free(r);
		return EXIT_INFRA;
	}
	if (mkdir_p(out, 0755))
		return pr_err("cannot create `%s`", out), EXIT_INFRA;
	rc = report(out, &m, rule, r, n, argc, argv);
	vmerged_free(&m);
	for (size_t j = 0; j < n; j++)
		vresult_free(&r[j]);
	free(r);
	return rc;
}

/* The report's command again, in a new directory (or --out's): the same
 * cells, kernels and tests from the recorded options. */
static int do_replay(const char *path, const char *self, const char *out)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *cmd, *a;
	char **argv;
	size_t i, k = 0;

	if (!root)
		return pr_err("%s: %s", path, jerr.text), EXIT_USAGE;
	cmd = json_object_get(root, "command");
	if (!json_is_array(cmd) || json_array_size(cmd) < 2 ||
	    strcmp(json_string_value(json_array_get(cmd, 0)) ?: "", "validate")) {
		json_decref(root);
		return pr_err("%s: no command to replay (not a kta validate report?)", path), EXIT_USAGE;
	}
	argv = calloc(json_array_size(cmd) + 4, sizeof(*argv));
	if (!argv) {
		json_decref(root);
		return EXIT_INFRA;
	}
	argv[k++] = (char *)"kta";
	json_array_foreach(cmd, i, a) {
		const char *s = json_string_value(a);

		if (!s) {
			json_decref(root);
			return pr_err("%s: the command has a non-string", path), EXIT_USAGE;
		}
		if (!strcmp(s, "--out") || !strcmp(s, "-o")) {
			i++;
			continue;
		}
		if (!strncmp(s, "--out=", 6) || !strcmp(s, "--replay"))
			continue;
		argv[k++] = strdup(s);
	}
	if (out) {
		argv[k++] = (char *)"--out";
		argv[k++] = (char *)out;
	}
	fprintf(stderr, "kta: replaying:");
	for (i = 0; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "\n");
	json_decref(root);
	execv(self, argv);
	return pr_err("cannot run %s: %s", self, strerror(errno)), EXIT_INFRA;
}

/* Rows decided at a look are frozen there (the counts and verdict of that
 * look): the later looks of the same arch, run for its other tests, do not
 * reopen them. */
struct frozen {
	struct vrow *rows;
	size_t n;
};

static const struct vrow *frozen_find(const struct frozen *z, const char *arch, const char *test)
{
	for (size_t i = 0; i < z->n; i++)
		if (!strcmp(z->rows[i].arch, arch) && !strcmp(z->rows[i].test, test))
			return &z->rows[i];
	return NULL;
}

static int until_confident(struct vopts *o, const char *plan, const char *out, int argc, char **argv)
{
	unsigned int ns[32], looks = verdict_schedule(o->first, o->runs, ns, 32), ncells;
	struct vcell *all;
	bool arch_open[VALIDATE_MAX_ARCHES];
	struct frozen z = { 0 };
	struct vresult *r = NULL;
	struct vmerged m = { 0 };
	size_t nr = 0;
	unsigned long long t0 = monotonic_ms();
	unsigned int k;
	int rc;

	o->rule.looks = looks;
	ncells = o->narches * 2 * looks;
	all = calloc(ncells, sizeof(*all));
	if (!all)
		return EXIT_INFRA;
	for (unsigned int a = 0; a < o->narches; a++) {
		arch_open[a] = true;
		for (unsigned int l = 0; l < looks; l++) {
			for (int s = 0; s < 2; s++) {
				struct vcell *c = &all[(a * looks + l) * 2 + s];

				c->index = (a * looks + l) * 2 + s;
				c->arch = o->arches[a];
				c->side = (enum vside)s;
				c->round = l;
				c->runs = ns[l] - (l ? ns[l - 1] : 0);
			}
		}
	}
	printf("# stopping rule: looks after %u", ns[0]);
	for (unsigned int l = 1; l < looks; l++)
		printf(", %u", ns[l]);
	printf(" runs per side; each look at %.3g/%u = %.4g (Bonferroni over the %u planned looks, so the\n"
	       "# chance that any look's verdict is wrong stays <= %.3g however the looks depend on each other);\n"
	       "# a test is decided at its first decisive look, an arch stops when all its tests are decided\n",
	       o->rule.alpha, looks, o->rule.alpha / looks, looks, o->rule.alpha);
	for (k = 0; k < looks && !interrupt_signal(); k++) {
		struct vcell batch[2 * VALIDATE_MAX_ARCHES];
		unsigned int nb = 0;

		if (o->budget_s && monotonic_ms() - t0 > (unsigned long long)o->budget_s * 1000) {
			printf("# budget of %u s spent before look %u: stopping\n", o->budget_s, k + 1);
			break;
		}
		for (unsigned int a = 0; a < o->narches; a++)
			if (arch_open[a])
				for (int s = 0; s < 2; s++)
					batch[nb++] = all[(a * looks + k) * 2 + s];
		if (!nb)
			break;
		rc = run_cells(o, batch, nb, plan, ncells, out);
		if (rc)
			break;
		for (size_t j = 0; j < nr; j++)
			vresult_free(&r[j]);
		free(r);
		vmerged_free(&m);
		if (read_results(out, all, ncells, &r, &nr) || validate_merge(r, nr, &o->rule, &m))
			return EXIT_INFRA;
		/* Judge this look; freeze what it decides; close decided
		 * arches. */
		for (unsigned int a = 0; a < o->narches; a++) {
			bool open = false, any = false;

			if (!arch_open[a])
				continue;
			for (size_t i = 0; i < m.nrows; i++) {
				struct vrow *row = &m.rows[i];
				struct vrow *nz;

				if (strcmp(row->arch, o->arches[a]->name))
					continue;
				any = true;
				if (frozen_find(&z, row->arch, row->test))
					continue;
				if (row->v.kind == VERDICT_INCONCLUSIVE) {
					open = true;
					continue;
				}
				nz = realloc(z.rows, (z.n + 1) * sizeof(*nz));
				if (!nz)
					return EXIT_INFRA;
				z.rows = nz;
				z.rows[z.n] = *row;
				z.rows[z.n].decided_at = ns[k];
				z.n++;
			}
			arch_open[a] = open && any;
		}
		printf("# look %u/%u at %u runs per side: %zu of %zu test x arch decided\n", k + 1, looks, ns[k], z.n,
		       m.nrows);
		fflush(stdout);
	}
	/* The report: frozen rows as they were decided, the rest as they
	 * stand (inconclusive with what they would need). */
	for (size_t i = 0; i < m.nrows; i++) {
		const struct vrow *f = frozen_find(&z, m.rows[i].arch, m.rows[i].test);

		if (f)
			m.rows[i] = *f;
	}
	/* Cells a decided arch never needed are not "missing". */
	m.missing = 0;
	m.problems[0] = '\0';
	rc = report(out, &m, &o->rule, r, nr, argc, argv);
	for (size_t j = 0; j < nr; j++)
		vresult_free(&r[j]);
	free(r);
	free(z.rows);
	vmerged_free(&m);
	free(all);
	return rc;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "patches", required_argument, NULL, 'p' },
		{ "tree", required_argument, NULL, 1001 },
		{ "source", required_argument, NULL, 1002 },
		{ "arch", required_argument, NULL, 'a' },
		{ "suite", required_argument, NULL, 's' },
		{ "test", required_argument, NULL, 't' },
		{ "selftests", required_argument, NULL, 1003 },
		{ "asan", no_argument, NULL, 1004 },
		{ "runs", required_argument, NULL, 'n' },
		{ "until-confident", no_argument, NULL, 1005 },
		{ "first", required_argument, NULL, 1006 },
		{ "budget", required_argument, NULL, 1007 },
		{ "alpha", required_argument, NULL, 1008 },
		{ "margin", required_argument, NULL, 1009 },
		{ "stress", required_argument, NULL, 1010 },
		{ "iterations", required_argument, NULL, 1011 },
		{ "timeout", required_argument, NULL, 1012 },
		{ "shards", required_argument, NULL, 1013 },
		{ "jobs", required_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		{ "plan", no_argument, NULL, 1014 },
		{ "format", required_argument, NULL, 1015 },
		{ "cell", required_argument, NULL, 1016 },
		{ "merge", no_argument, NULL, 1017 },
		{ "replay", required_argument, NULL, 1018 },
		{ "kernel-version", required_argument, NULL, 1019 },
		{ "selftests-toolchain", required_argument, NULL, 1020 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vopts o = { .rule = { .alpha = 0.05, .margin = 0.05, .looks = 1 }, .first = 5 };
	struct matrix_opts mo = { 0 };
	const char *arch_list = "x86_64", *format = "github", *replay = NULL;
	bool plan_only = false, merge = false, runs_given = false;
	unsigned int cell = UINT_MAX, ncells;
	char self[PATH_MAX], outbuf[PATH_MAX], plan[17];
	struct vcell *cells = NULL;
	int opt, err = 0, rc;

	started_ms = monotonic_ms();
	/* The plan's fingerprint does not depend on which kta runs the
	 * cells ($KTA_SELF). */
	if (kta_self(self, sizeof(self)))
		return EXIT_INFRA;
	o.kta = self;
	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, "p:a:s:t:n:j:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': o.patches = optarg; break;
		case 1001: o.tree = optarg; break;
		case 1002: o.source = optarg; break;
		case 'a': arch_list = optarg; break;
		case 's':
		case 't':
			if (o.kind && o.kind != opt) {
				pr_err("--suite and --test cannot be mixed in one validate");
				err = -EINVAL;
			} else if (o.nitems == VALIDATE_MAX_ITEMS) {
				pr_err("at most %d suites or tests", VALIDATE_MAX_ITEMS);
				err = -EINVAL;
			} else {
				o.kind = (char)opt;
				o.items[o.nitems++] = optarg;
			}
			break;
		case 1003: o.selftests = optarg; break;
		case 1004: o.asan = true; break;
		case 'n': err = cmd_parse_uint("--runs", optarg, &o.runs); runs_given = true; break;
		case 1005: o.until_confident = true; break;
		case 1006: err = cmd_parse_uint("--first", optarg, &o.first); break;
		case 1007: err = cmd_parse_uint("--budget", optarg, &o.budget_s); break;
		case 1008: err = cmd_parse_prob("--alpha", optarg, 0.5, &o.rule.alpha); break;
		case 1009: err = cmd_parse_prob("--margin", optarg, 0.5, &o.rule.margin); break;
		case 1010: o.stress = optarg; break;
		case 1011: err = cmd_parse_uint("--iterations", optarg, &o.iterations); break;
		case 1012: err = cmd_parse_uint("--timeout", optarg, &o.timeout_s); break;
		case 1013: err = cmd_parse_uint("--shards", optarg, &o.shards); break;
		case 'j': err = cmd_parse_uint("--jobs", optarg, &o.jobs); break;
		case 'o': o.out = optarg; break;
		case 1014: plan_only = true; break;
		case 1015: format = optarg; break;
		case 1016: err = cmd_parse_uint("--cell", optarg, &cell); break;
		case 1017: merge = true; break;
		case 1018: replay = optarg; break;
		case 1019: o.kernel_version = optarg; break;
		case 1020: o.st_toolchain = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (err)
		return EXIT_USAGE;
	if (replay)
		return do_replay(replay, self, o.out);
	if (!o.out) {
		if (kta_out_dir("validate", outbuf, sizeof(outbuf)))
			return EXIT_INFRA;
		o.out = outbuf;
	}
	if (merge) {
		if (optind >= argc)
			return pr_err("--merge: name the cell results (cell-*/result.json)"), EXIT_USAGE;
		started_ms = 0; /* a merge's own time says nothing */
		return do_merge(argv + optind, argc - optind, o.out, &o.rule, argc, argv);
	}
	rc = cmd_no_more_args(argc, argv, optind, usage);
	if (rc >= 0)
		return rc;
	if (o.selftests) {
		if (o.kind)
			return pr_err("--selftests goes alone (not with --suite or --test)"), EXIT_USAGE;
		o.kind = 'S';
	}
	if (!o.patches)
		return pr_err("--patches SERIES: the series to validate"), EXIT_USAGE;
	if (!o.kind)
		return pr_err("what to run: --suite NAME, --test PATH or --selftests SEL"), EXIT_USAGE;
	if (o.asan && o.kind != 'S')
		return pr_err("--asan goes with --selftests (kta's suites have their own ASAN builds)"), EXIT_USAGE;
	if (strcmp(format, "github") && strcmp(format, "k8s"))
		return pr_err("--format: github or k8s"), EXIT_USAGE;
	if (o.until_confident && (o.shards > 1 || plan_only || cell != UINT_MAX))
		return pr_err("--until-confident decides when to stop here: not with --shards, --plan or --cell"),
		       EXIT_USAGE;
	if (!runs_given)
		o.runs = o.until_confident ? 320 : 10;
	if (!o.runs || !o.first)
		return pr_err("--runs and --first: at least 1"), EXIT_USAGE;
	if (o.until_confident && o.first > o.runs)
		return pr_err("--first %u is more than --runs %u", o.first, o.runs), EXIT_USAGE;
	if (matrix_parse_arches(arch_list, &mo))
		return EXIT_USAGE;
	for (unsigned int i = 0; i < mo.narches && i < VALIDATE_MAX_ARCHES; i++)
		o.arches[o.narches++] = mo.arches[i];
	if (!o.jobs) {
		/* A guest has 2 vCPUs (one host thread each under TCG) and
		 * up to ~3 GB with a selftests payload. */
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		unsigned long long avail = (unsigned long long)sysconf(_SC_AVPHYS_PAGES) *
					   (unsigned long long)sysconf(_SC_PAGESIZE);
		unsigned int by_mem = (unsigned int)(avail / (3ULL << 30));

		o.jobs = cores >= 4 ? (unsigned int)(cores / 2) : 1;
		if (by_mem && o.jobs > by_mem)
			o.jobs = by_mem;
	}
	err = series_scope(&o);
	if (err)
		return err == -ENOENT || err == -EINVAL ? EXIT_USAGE : EXIT_INFRA;
	if (o.kernel_version && o.series_kernel)
		return pr_err("--kernel-version: the series changes the kernel, which Debian's prebuilt %s "
			      "cannot carry; let kta build each side's kernel", o.kernel_version), EXIT_USAGE;
	validate_fingerprint(&o, argc, argv, plan);
	if (o.until_confident) {
		if (mkdir_p(o.out, 0755))
			return pr_err("cannot create `%s`", o.out), EXIT_INFRA;
		interrupt_begin();
		pr_info("validate %s: the series %s %s; cells in %s", plan, o.patches,
			o.series_kernel ? "changes the kernel: each side boots its own"
					: "changes only tools/: both sides boot the same kernel",
			o.out);
		return until_confident(&o, plan, o.out, argc, argv);
	}
	if (validate_cells(&o, &cells, &ncells))
		return EXIT_INFRA;
	if (plan_only) {
		rc = print_plan(&o, cells, ncells, plan, format) ? EXIT_INFRA : EXIT_OK;
		free(cells);
		return rc;
	}
	if (mkdir_p(o.out, 0755)) {
		free(cells);
		return pr_err("cannot create `%s`", o.out), EXIT_INFRA;
	}
	pr_info("validate %s: %u cells (%u arch%s x before/after x %u shard%s); the series %s %s; in %s", plan, ncells,
		o.narches, o.narches == 1 ? "" : "es", ncells / o.narches / 2, ncells / o.narches / 2 == 1 ? "" : "s",
		o.patches,
		o.series_kernel ? "changes the kernel: each side boots its own"
				: "changes only tools/: both sides boot the same kernel",
		o.out);
	if (cell != UINT_MAX) {
		char dir[PATH_MAX];
		struct vresult r;

		if (cell >= ncells) {
			free(cells);
			return pr_err("--cell %u: the plan has cells 0 to %u", cell, ncells - 1), EXIT_USAGE;
		}
		if (cell_dir(o.out, cell, dir, sizeof(dir))) {
			free(cells);
			return EXIT_USAGE;
		}
		err = validate_run_cell(&o, &cells[cell], plan, ncells, dir, &r);
		free(cells);
		if (err)
			return pr_err("cell %u: %s", cell, strerror(-err)), EXIT_INFRA;
		printf("%s/result.json\n", dir);
		rc = !strcmp(r.status, "ran") ? EXIT_OK
		     : !strcmp(r.status, "not-run") || !strcmp(r.status, "boot-failed") ? EXIT_BOOT_FAILED
		     : !strcmp(r.status, "interrupted") ? EXIT_INTERRUPTED : EXIT_INFRA;
		vresult_free(&r);
		return rc;
	}
	{
		struct vresult *r = NULL;
		struct vmerged m;
		size_t nr = 0;

		interrupt_begin();
		err = run_cells(&o, cells, ncells, plan, ncells, o.out);
		err = err ?: read_results(o.out, cells, ncells, &r, &nr);
		err = err ?: validate_merge(r, nr, &o.rule, &m);
		free(cells);
		if (err)
			return pr_err("validate: %s", strerror(-err)), EXIT_INFRA;
		if (!nr && !interrupt_signal()) {
			vmerged_free(&m);
			free(r);
			return pr_err("no cell left a result: see %s/cell-*/run.log", o.out), EXIT_INFRA;
		}
		if (!nr)
			m.ncells = ncells;
		rc = report(o.out, &m, &o.rule, r, nr, argc, argv);
		vmerged_free(&m);
		for (size_t j = 0; j < nr; j++)
			vresult_free(&r[j]);
		free(r);
		return rc;
	}
}
