/* Bisecting commits of a kernel tree: `kta bisect run` is the command
 * `git bisect run` calls (build HEAD with kta kernel build, cached and
 * incremental; judge it by repeated runs), and `kta bisect --tree` drives
 * git bisect with it and reports the culprit with each step's evidence.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arch.h"
#include "bisect/bisect.h"
#include "bisect/bisect_stats.h"
#include "base/log.h"
#include "run/results.h"
#include "base/spawn.h"
#include "base/stats.h"
#include "base/util.h"

static int git(const char *tree, struct buf *out, const char *a1, const char *a2, const char *a3, const char *a4,
	       const char *a5)
{
	const char *argv[] = { "git", "-C", tree, a1, a2, a3, a4, a5, NULL };
	struct spawn_opts so = { 0 };
	int rc = spawn_run((char *const *)argv, &so, out);

	if (out && out->data)
		while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == ' '))
			out->data[--out->len] = '\0';
	return rc;
}

/* What one commit gave: its build and its runs. */
struct cstep {
	char commit[41], subject[160];
	int build_exit;
	unsigned long long build_ms, boot_ms, run_wall_ms;
	unsigned long runs, fails, boots;
	const char *verdict;   /* "old", "new", "skip" */
	char why[256];
};

/* Build HEAD of tree; the image's path, or the build's exit code. */
static int build_head(const struct bopts *o, const char *dir, char *image, size_t n, unsigned long long *ms)
{
	cleanup_free char *log = path_join(dir, "build.log"), *art = path_join(dir, "kbuild");
	const char *argv[16];
	struct spawn_opts so = { 0 };
	cleanup_buf struct buf out = { 0 };
	unsigned int k = 0;
	uint64_t t0 = monotonic_ms();
	int fd, rc;

	if (!log || !art)
		return -ENOMEM;
	argv[k++] = o->sel.kta;
	argv[k++] = "kernel";
	argv[k++] = "build";
	argv[k++] = "--tree";
	argv[k++] = o->tree;
	argv[k++] = "--arch";
	argv[k++] = o->arch->name;
	argv[k++] = "--artifacts";
	argv[k++] = art;
	if (o->fragments) {
		argv[k++] = "--fragments";
		argv[k++] = o->fragments;
	}
	argv[k] = NULL;
	/* The image's path is the last line of its output (spawn merges
	 * stdout and stderr); the rest is the build's log. */
	rc = spawn_run((char *const *)argv, &so, &out);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (out.data && write(fd, out.data, out.len) != (ssize_t)out.len)
			pr_warn("cannot write %s", log);
		close(fd);
	}
	*ms = monotonic_ms() - t0;
	if (rc)
		return rc;
	while (out.len && out.data[out.len - 1] == '\n')
		out.data[--out.len] = '\0';
	{
		const char *last = out.data ? strrchr(out.data, '\n') : NULL;

		snprintf(image, n, "%s", last ? last + 1 : out.data ? out.data : "");
	}
	return path_exists(image) ? 0 : EXIT_INFRA;
}

/* Build and judge HEAD: fixed runs (measure > 0: an end) or the SPRT
 * between p_old and p_new. */
static int step_head(const struct bopts *o, const char *base, unsigned int measure, struct cstep *c)
{
	cleanup_buf struct buf b = { 0 }, subj = { 0 };
	char dir[PATH_MAX], image[PATH_MAX];
	struct sprt s;
	unsigned long batch;
	int rc, err;

	memset(c, 0, sizeof(*c));
	c->verdict = "skip";
	if (git(o->tree, &b, "rev-parse", "HEAD", NULL, NULL, NULL) || !b.data)
		return pr_err("%s: not a git work tree with a HEAD", o->tree), EXIT_USAGE;
	snprintf(c->commit, sizeof(c->commit), "%s", b.data);
	if (!git(o->tree, &subj, "log", "-1", "--format=%s", NULL, NULL) && subj.data)
		snprintf(c->subject, sizeof(c->subject), "%s", subj.data);
	snprintf(dir, sizeof(dir), "%s/%.12s", base, c->commit);
	err = mkdir_p(dir, 0755);
	if (err)
		return pr_err("cannot create `%s`: %s", dir, strerror(-err)), EXIT_INFRA;
	rc = build_head(o, dir, image, sizeof(image), &c->build_ms);
	c->build_exit = rc;
	if (rc < 0)
		return pr_err("cannot build: %s", strerror(-rc)), EXIT_INFRA;
	if (rc) {
		snprintf(c->why, sizeof(c->why), "the build exited %d (see %s/build.log)", rc, dir);
		return rc == EXIT_BOOT_FAILED ? EXIT_BOOT_FAILED : EXIT_INFRA;
	}
	if (!measure && sprt_init(&s, fmin(o->p_old, o->p_new), fmax(o->p_old, o->p_new), o->alpha, o->beta))
		return pr_err("--p-old and --p-new: two different rates between 0 and 1"), EXIT_USAGE;
	batch = measure ? measure : sprt_min_runs(&s);
	for (;;) {
		struct bisect_boot bb;
		char bdir[PATH_MAX + 16];

		if (!measure && s.runs + batch > o->max_runs)
			batch = o->max_runs - s.runs;
		snprintf(bdir, sizeof(bdir), "%s/boot-%lu", dir, c->boots + 1);
		err = bisect_boot(&o->sel, NULL, image, (unsigned int)batch, bdir, &bb);
		if (err)
			return pr_err("cannot run: %s", strerror(-err)), EXIT_INFRA;
		c->boots++;
		c->boot_ms += bb.boot_ms;
		c->run_wall_ms += bb.wall_ms;
		if (bb.exit_code == EXIT_INTERRUPTED || bb.exit_code == EXIT_TERMINATED)
			return bb.exit_code;
		if (!bb.booted || (bb.exit_code != EXIT_OK && bb.exit_code != EXIT_TEST_FAILED)) {
			snprintf(c->why, sizeof(c->why), "%s: exit %d: %s", bb.booted ? "the run failed" : "did not boot",
				 bb.exit_code, bb.why);
			return EXIT_BOOT_FAILED;
		}
		if (bb.retried[0])
			snprintf(c->why, sizeof(c->why), "booted twice: the first boot died before the agent (%s)",
				 bb.retried);
		c->runs += bb.runs;
		c->fails += bb.fails;
		if (measure)
			return 0;
		if (sprt_add(&s, bb.runs, bb.fails) != SPRT_CONTINUE) {
			bool like_fail = sprt_state(&s) == SPRT_BAD;

			c->verdict = like_fail == (o->p_new > o->p_old) ? "new" : "old";
			return 0;
		}
		if (s.runs >= o->max_runs || !bb.runs) {
			snprintf(c->why, sizeof(c->why), "%lu/%lu: not decided within %u runs", c->fails, c->runs,
				 o->max_runs);
			return EXIT_BOOT_FAILED;
		}
		batch *= 2;
	}
}

static void log_step(const char *path, const struct cstep *c)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "commit", c->commit,
			      "subject", c->subject, "verdict", c->verdict, "build_exit", c->build_exit, "build_ms",
			      (json_int_t)c->build_ms, "boot_ms", (json_int_t)c->boot_ms, "run_wall_ms",
			      (json_int_t)c->run_wall_ms, "runs", (json_int_t)c->runs, "failures",
			      (json_int_t)c->fails, "boots", (json_int_t)c->boots, "why", c->why);
	char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	FILE *f = path && line ? fopen(path, "ae") : NULL;

	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
	free(line);
	json_decref(j);
}

static void print_cstep(const struct cstep *c)
{
	printf("%.12s %-5s %3lu/%-3lu boots %lu, build %.1f s, boot %.1f s, runs %.1f s  %.60s%s%s\n", c->commit,
	       c->verdict, c->fails, c->runs, c->boots, (double)c->build_ms / 1000, (double)c->boot_ms / 1000,
	       (double)c->run_wall_ms / 1000, c->subject, c->why[0] ? "\n    " : "", c->why);
	fflush(stdout);
}

int bisect_run(const struct bopts *o)
{
	cleanup_buf struct buf gd = { 0 };
	char base[PATH_MAX], logp[PATH_MAX];
	struct cstep c;
	int rc;

	if (!o->log) {
		if (git(o->tree, &gd, "rev-parse", "--absolute-git-dir", NULL, NULL, NULL) || !gd.data)
			return pr_err("%s: not a git work tree (kta bisect run builds its HEAD)", o->tree), EXIT_USAGE;
		snprintf(logp, sizeof(logp), "%s/kta-bisect.jsonl", gd.data);
	} else {
		snprintf(logp, sizeof(logp), "%s", o->log);
	}
	snprintf(base, sizeof(base), "%s", o->out);
	rc = step_head(o, base, 0, &c);
	if (rc == EXIT_USAGE || rc == EXIT_INTERRUPTED || rc == EXIT_TERMINATED)
		return rc;
	if (rc == EXIT_INFRA)
		return print_cstep(&c), EXIT_INFRA;
	log_step(logp, &c);
	print_cstep(&c);
	if (rc)
		return EXIT_BOOT_FAILED;
	return !strcmp(c.verdict, "new") ? 1 : 0;
}

/* Check out rev (detached) in the tree. */
static int checkout(const struct bopts *o, const char *rev)
{
	cleanup_buf struct buf b = { 0 };
	int rc = git(o->tree, &b, "checkout", "-q", "--detach", rev, NULL);

	if (rc)
		pr_err("git checkout %s: %s", rev, b.data ? b.data : "failed");
	return rc ? -EIO : 0;
}

/* The answer's posterior along the first-parent line from good to bad. */
static double commit_posterior(const struct bopts *o, const char *good, const char *bad, const char *culprit,
			       const char *logp, double p_old, double p_new)
{
	cleanup_buf struct buf list = { 0 }, steps = { 0 };
	cleanup_free char **ids = NULL;
	cleanup_free unsigned long *n = NULL, *f = NULL;
	cleanup_free double *post = NULL;
	size_t m = 0, at = 0;
	char range[200];
	double conf = NAN;

	snprintf(range, sizeof(range), "%s..%s", good, bad);
	if (git(o->tree, &list, "rev-list", "--reverse", "--first-parent", range, NULL) || !list.data)
		return NAN;
	for (char *p = list.data; *p; p++)
		m += *p == '\n';
	m += 1;
	ids = calloc(m + 1, sizeof(*ids));
	n = calloc(m + 1, sizeof(*n));
	f = calloc(m + 1, sizeof(*f));
	post = calloc(m + 1, sizeof(*post));
	if (!ids || !n || !f || !post)
		return NAN;
	ids[0] = (char *)good;
	{
		size_t i = 1;

		for (char *save = NULL, *l = strtok_r(list.data, "\n", &save); l && i <= m; l = strtok_r(NULL, "\n", &save))
			ids[i++] = l;
	}
	if (read_file(logp, &steps, 16 << 20) || !steps.data)
		return NAN;
	for (char *save = NULL, *l = strtok_r(steps.data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *j = json_loads(l, 0, &e);
		const char *cm = j ? json_string_value(json_object_get(j, "commit")) : NULL;

		for (size_t i = 0; cm && i <= m; i++)
			if (!strncmp(ids[i], cm, strlen(ids[i]) < 40 ? strlen(ids[i]) : 40)) {
				n[i] += (unsigned long)json_integer_value(json_object_get(j, "runs"));
				f[i] += (unsigned long)json_integer_value(json_object_get(j, "failures"));
			}
		json_decref(j);
	}
	for (size_t i = 1; i <= m; i++)
		if (!strncmp(ids[i], culprit, 40))
			at = i;
	if (at && !bisect_posterior(&(struct bisect_obs){ .m = m, .n = n, .f = f }, p_old, p_new, post))
		conf = post[at];
	return conf;
}

int bisect_tree(struct bopts *o)
{
	cleanup_buf struct buf b = { 0 }, head = { 0 }, g = { 0 }, bd = { 0 }, out = { 0 };
	char logp[PATH_MAX], good[41], bad[41], base[PATH_MAX], pold[32], pnew[32], runsmax[16], al[32], be[32];
	struct cstep c[2];
	struct fisher fx;
	uint64_t t0 = monotonic_ms();
	int rc;

	if (git(o->tree, &g, "rev-parse", "--verify", "-q", o->old_v, NULL) || !g.data ||
	    git(o->tree, &bd, "rev-parse", "--verify", "-q", o->new_v, NULL) || !bd.data)
		return pr_err("%s: cannot resolve --good %s or --bad %s to commits", o->tree, o->old_v, o->new_v),
		       EXIT_USAGE;
	snprintf(good, sizeof(good), "%s", g.data);
	snprintf(bad, sizeof(bad), "%s", bd.data);
	if (git(o->tree, NULL, "merge-base", "--is-ancestor", good, bad, NULL))
		return pr_err("--good %.12s is not an ancestor of --bad %.12s: swapped?", good, bad), EXIT_USAGE;
	{
		cleanup_buf struct buf bs = { 0 };
		char abs[PATH_MAX];

		if (!git(o->tree, &bs, "rev-parse", "--git-path", "BISECT_START", NULL, NULL) && bs.data &&
		    snprintf(abs, sizeof(abs), "%s/%s", bs.data[0] == '/' ? "" : o->tree, bs.data) > 0 &&
		    path_exists(bs.data[0] == '/' ? bs.data : abs))
			return pr_err("a git bisect is in progress in %s: `git -C %s bisect reset` first (or "
				      "`git bisect log` to see it)", o->tree, o->tree),
			       EXIT_USAGE;
	}
	if (git(o->tree, &b, "status", "--porcelain", "--untracked-files=no", NULL, NULL) || (b.data && b.len))
		return pr_err("%s has uncommitted changes: git bisect would check out over them", o->tree), EXIT_USAGE;
	/* Where the tree was: its branch, or its commit when detached. */
	if (git(o->tree, &head, "symbolic-ref", "-q", "--short", "HEAD", NULL) || !head.data || !head.len) {
		buf_free(&head);
		git(o->tree, &head, "rev-parse", "HEAD", NULL, NULL, NULL);
	}
	snprintf(logp, sizeof(logp), "%s/steps.jsonl", o->out);
	unlink(logp);
	printf("# kta bisect (%s) of %s: %.12s (old end) .. %.12s (new end)\n",
	       o->fix ? "where the failure went away" : "where it started failing", o->tree, good, bad);

	/* The ends, --first runs each, until Fisher tells them apart. */
	for (int e = 0; e < 2; e++) {
		snprintf(base, sizeof(base), "%s/%s", o->out, e ? "new-end" : "old-end");
		if (checkout(o, e ? bad : good))
			return EXIT_INFRA;
		rc = step_head(o, base, o->first, &c[e]);
		c[e].verdict = e ? "new" : "old";
		print_cstep(&c[e]);
		if (rc) {
			pr_err("the %s end %.12s: %s", e ? "new" : "old", e ? bad : good, c[e].why);
			checkout(o, head.data ? head.data : good);
			return rc == EXIT_INTERRUPTED || rc == EXIT_TERMINATED ? rc : EXIT_BOOT_FAILED;
		}
		log_step(logp, &c[e]);
	}
	fisher_exact(c[0].fails, c[0].runs, c[1].fails, c[1].runs, &fx);
	if ((o->fix ? fx.less : fx.greater) > o->alpha) {
		pr_err("the ends are not told apart in %u runs each (%lu/%lu and %lu/%lu)%s", o->first, c[0].fails,
		       c[0].runs, c[1].fails, c[1].runs,
		       (o->fix ? fx.greater : fx.less) <= o->alpha ? ": the other way round (--fix?)" : "");
		checkout(o, head.data ? head.data : good);
		return (o->fix ? fx.greater : fx.less) <= o->alpha ? EXIT_USAGE : 2;
	}
	o->p_old = rate_estimate(c[0].fails, c[0].runs);
	o->p_new = rate_estimate(c[1].fails, c[1].runs);
	printf("# rates: old end %lu/%lu, new end %lu/%lu; each commit judged by Wald's SPRT between %.3f and %.3f\n",
	       c[0].fails, c[0].runs, c[1].fails, c[1].runs, o->p_old, o->p_new);

	/* git bisect run kta bisect run ...: git's "good" is "as at the old
	 * end", whichever way the behaviour went. */
	{
		const char *argv[96];
		char num[2][16];
		unsigned int k = 0;
		cleanup_free char *outp = path_join(o->out, "git-bisect-run.log");
		int fd;

		/* Back where the user was first: git bisect remembers it, so
		 * that `git bisect reset` after a stop returns there. */
		if (head.data && head.len && git(o->tree, NULL, "checkout", "-q", head.data, NULL, NULL))
			return pr_err("cannot check out %s again in %s", head.data, o->tree), EXIT_INFRA;
		if (git(o->tree, &out, "bisect", "start", bad, good, NULL)) {
			pr_err("git bisect start: %s", out.data ? out.data : "failed");
			return EXIT_INFRA;
		}
		snprintf(pold, sizeof(pold), "%.17g", o->p_old);
		snprintf(pnew, sizeof(pnew), "%.17g", o->p_new);
		snprintf(runsmax, sizeof(runsmax), "%u", o->max_runs);
		snprintf(al, sizeof(al), "%g", o->alpha);
		snprintf(be, sizeof(be), "%g", o->beta);
		argv[k++] = "git";
		argv[k++] = "-C";
		argv[k++] = o->tree;
		argv[k++] = "bisect";
		argv[k++] = "run";
		argv[k++] = o->sel.kta;
		argv[k++] = "bisect";
		argv[k++] = "run";
		argv[k++] = "--tree";
		argv[k++] = o->tree;
		argv[k++] = "--arch";
		argv[k++] = o->arch->name;
		argv[k++] = "--p-old";
		argv[k++] = pold;
		argv[k++] = "--p-new";
		argv[k++] = pnew;
		argv[k++] = "--max-runs";
		argv[k++] = runsmax;
		argv[k++] = "--alpha";
		argv[k++] = al;
		argv[k++] = "--beta";
		argv[k++] = be;
		argv[k++] = "--log";
		argv[k++] = logp;
		argv[k++] = "--out";
		argv[k++] = o->out;
		if (o->fragments) {
			argv[k++] = "--fragments";
			argv[k++] = o->fragments;
		}
		if (o->sel.only) {
			argv[k++] = "--only";
			argv[k++] = o->sel.only;
		}
		k = bisect_sel_args(&o->sel, num, argv, k);
		argv[k] = NULL;
		buf_free(&out);
		fd = outp ? open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
		if (fd < 0)
			return EXIT_INFRA;
		printf("# git bisect run: each step's line below; the whole output in %s\n", outp);
		fflush(stdout);
		rc = bisect_child(argv, fd);
		close(fd);
		read_file(outp, &out, 16 << 20);
	}
	{
		const char *hit = out.data ? strstr(out.data, " is the first bad commit") : NULL;
		char culprit[41] = "";
		double conf;

		/* Each step's line, as kta bisect run printed it. */
		for (char *save = NULL, *l = out.data ? strtok_r(out.data, "\n", &save) : NULL; l;
		     l = strtok_r(NULL, "\n", &save))
			if (strlen(l) > 13 && strspn(l, "0123456789abcdef") == 12 && l[12] == ' ')
				printf("%s\n", l);
		if (hit && hit - out.data >= 40)
			snprintf(culprit, sizeof(culprit), "%.40s", hit - 40);
		if (!culprit[0] || strspn(culprit, "0123456789abcdef") != 40) {
			pr_err("git bisect did not name a commit (exit %d); its output: %s/git-bisect-run.log; "
			       "`git -C %s bisect log` shows the steps, `git -C %s bisect reset` ends it",
			       rc, o->out, o->tree, o->tree);
			return rc == EXIT_INTERRUPTED || rc == 130 ? EXIT_INTERRUPTED : 2;
		}
		conf = commit_posterior(o, good, bad, culprit, logp, o->p_old, o->p_new);
		{
			cleanup_buf struct buf subj = { 0 };

			git(o->tree, &subj, "log", "-1", "--format=%s", culprit, NULL);
			printf("# first %s commit: %.12s %s\n", o->fix ? "passing" : "bad", culprit,
			       subj.data ? subj.data : "");
		}
		if (isnan(conf))
			printf("# confidence: not computed (the history between the ends is not one line)\n");
		else
			printf("# posterior probability that it is the first: %.4f\n", conf);
		printf("# wall time %.1f s; steps: %s\n", (double)(monotonic_ms() - t0) / 1000, logp);
		git(o->tree, NULL, "bisect", "reset", head.data ? head.data : good, NULL, NULL);
	}
	return EXIT_OK;
}
