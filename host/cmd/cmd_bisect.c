/* `kta bisect`: the first Debian kernel, between a known old and a known
 * new one, that behaves as the new one does, fetching only the kernels it
 * boots and judging each by repeated runs (bisect_stats.h for the rule
 * and the confidence, bisect.h for a step's boot).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arch.h"
#include "bisect/bisect.h"
#include "bisect/bisect_stats.h"
#include "cmd/cmd.h"
#include "kernel/kernel.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "base/spawn.h"
#include "run/results.h"
#include "base/stats.h"
#include "base/util.h"

enum pstate { P_UNTESTED, P_OLD, P_NEW, P_UNDECIDED, P_NOBOOT };
static const char *const pstate_name[] = { "untested", "old", "new", "undecided", "did not boot" };

struct pos {
	char abi[128];
	enum pstate state;
	unsigned long runs, fails, boots;
	unsigned long long wall_ms, boot_ms;
	char why[256];
};


static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta bisect --good V1 --bad V2 (--suite NAME | --test PATH)... [options]\n"
		"       kta bisect --fix --good V1 --bad V2 ...   (the first version where it passes)\n"
		"\n"
		"Walks Debian's prebuilt kernels of the arch between V1 (older) and V2 (newer), in\n"
		"version order, fetching only the kernels it boots, and names the first version that\n"
		"behaves as V2 does: fails (a regression), or with --fix passes (a fix). Both ends are\n"
		"run first, to learn each side's failure rate; each step then boots one kernel and runs\n"
		"the selection until Wald's sequential test says \"as at V1\" or \"as at V2\", or its\n"
		"runs run out (undecided: skipped, never guessed). The answer carries the posterior\n"
		"probability that it is the first such version, given every run.\n"
		"\n"
		"  --good V1, --bad V2    the ends, older first (also --old, --new): exact versions\n"
		"                         (7.2.13+deb14) or a prefix (6.12: its newest); see\n"
		"                         `kta kernel list`\n"
		"  --fix                  look for the first version where the failure went away\n"
		"  --line X.Y             only versions of that stable line between the ends\n"
		"  --no-verify            do not run the boundary's untested neighbours (run by\n"
		"                         default: a result that is not monotonic in version order\n"
		"                         is said so, exit 2, instead of naming a wrong version)\n"
		"  --arch A, --flavour F  as kta run (default x86_64, the arch's cloud flavour)\n"
		"  --suite NAME, --test PATH   what runs (as kta run; repeatable)\n"
		"  --only GLOB            only tests whose names match count (the rest still run)\n"
		"  --env KEY=VALUE        in every test's environment (as kta run)\n"
		"  --iterations N, --timeout S   as kta run\n"
		"  --first N              runs per end in the first boot (default 5)\n"
		"  --max-runs N           runs per version at most (default 64)\n"
		"  --alpha A, --beta B    the sequential test's error rates (default 0.05 each)\n"
		"  --out DIR              steps' logs and bisect.json (default kta-out/<time>-bisect-<pid>)\n"
		"\n"
		"Commits of a kernel tree (kta kernel build: cached, ccache, incremental):\n"
		"  kta bisect --tree DIR --good REV --bad REV (--suite | --test)... [--fragments F]\n"
		"      builds and runs both ends, then `git bisect run kta bisect run ...`; names the\n"
		"      commit, each step's build, boot and runs, and the posterior (a linear history)\n"
		"  kta bisect run [--tree DIR] (--suite | --test)... [--p-old P --p-new P] [--log F]\n"
		"      what git bisect run calls: builds HEAD, judges it by the SPRT between the two\n"
		"      rates (default 0.01, 0.99: a test that always fails or never), and exits 0 (as at\n"
		"      the old end), 1 (as at the new), 125 (cannot build, boot or decide: skip), 200\n"
		"      (infrastructure: git bisect stops); each step appended to F (default\n"
		"      .git/kta-bisect.jsonl), its files under .git/kta-bisect/\n"
		"\n"
		"Exit: 0 found; 2 undecided or not monotonic; 125 an end cannot boot; 128 bad input;\n"
		"200 infrastructure; 130/143 interrupted.\n");
}

/* A prefix (6.12) is its newest match; an exact ABI is itself. */
static long find_version(const struct kernel_avail *v, size_t n, const char *want)
{
	for (size_t i = n; i-- > 0;)
		if (!strcmp(v[i].abi, want))
			return (long)i;
	for (size_t i = n; i-- > 0;)
		if (kernel_version_matches(v[i].abi, want))
			return (long)i;
	return -1;
}

/* "6.12.90+deb12" is superseded by the rebuild "6.12.90+deb12.1". */
static bool superseded(const struct kernel_avail *v, size_t n, size_t i)
{
	size_t len = strlen(v[i].abi);

	for (size_t j = 0; j < n; j++)
		if (j != i && !strncmp(v[j].abi, v[i].abi, len) && v[j].abi[len] == '.')
			return true;
	return false;
}

static int boot_pos(const struct bopts *o, struct pos *p, size_t idx, unsigned int runs, struct bisect_boot *b)
{
	char dir[PATH_MAX + 200];
	int err;

	snprintf(dir, sizeof(dir), "%s/%02zu-%s-%lu", o->out, idx, p->abi, p->boots + 1);
	err = bisect_boot(&o->sel, p->abi, NULL, runs, dir, b);
	if (err)
		return err;
	p->boots++;
	p->wall_ms += b->wall_ms;
	p->boot_ms += b->boot_ms;
	p->runs += b->runs;
	p->fails += b->fails;
	if (b->kernel[0] && strncmp(b->kernel, p->abi, strlen(p->abi)))
		pr_warn("%s: the run booted %s", p->abi, b->kernel);
	if (!b->booted || (b->exit_code != EXIT_OK && b->exit_code != EXIT_TEST_FAILED))
		snprintf(p->why, sizeof(p->why), "exit %d: %s", b->exit_code, b->why);
	else if (b->retried[0])
		snprintf(p->why, sizeof(p->why), "booted twice: the first boot died before the agent (%s)", b->retried);
	return 0;
}

static void print_step(const struct pos *p, size_t idx, size_t m)
{
	printf("%-3zu %-28s %-13s %3lu/%-3lu %5lu %8.1f %8.1f%s\n", idx, p->abi, pstate_name[p->state], p->fails,
	       p->runs, p->boots, (double)p->boot_ms / 1000, (double)p->wall_ms / 1000,
	       idx == 0 ? "  (old end)" : idx == m ? "  (new end)" : "");
	if (p->why[0])
		printf("    %s\n", p->why);
	fflush(stdout);
}

/* One step: SPRT batches until decided or max_runs. */
static int judge(const struct bopts *o, struct pos *p, size_t idx, double p_old, double p_new)
{
	struct sprt s;
	double lo = p_old < p_new ? p_old : p_new, hi = p_old < p_new ? p_new : p_old;
	unsigned long batch;
	int err = sprt_init(&s, lo, hi, o->alpha, o->beta);

	if (err)
		return err;
	batch = sprt_min_runs(&s);
	while (!interrupt_signal()) {
		struct bisect_boot b;
		enum sprt_state st;

		if (s.runs + batch > o->max_runs)
			batch = o->max_runs - s.runs;
		err = boot_pos(o, p, idx, (unsigned int)batch, &b);
		if (err)
			return err;
		if (!b.booted || (b.exit_code != EXIT_OK && b.exit_code != EXIT_TEST_FAILED)) {
			p->state = b.booted ? P_UNDECIDED : P_NOBOOT;
			return 0;
		}
		if (!b.runs) {
			p->state = P_UNDECIDED;
			snprintf(p->why, sizeof(p->why), "every counted test skipped");
			return 0;
		}
		st = sprt_add(&s, b.runs, b.fails);
		if (st != SPRT_CONTINUE) {
			/* SPRT_BAD: as at the failing end. */
			bool like_fail = st == SPRT_BAD;
			p->state = like_fail == (p_new > p_old) ? P_NEW : P_OLD;
			return 0;
		}
		if (s.runs >= o->max_runs) {
			p->state = P_UNDECIDED;
			snprintf(p->why, sizeof(p->why), "%lu/%lu: not decided within %u runs", s.fails, s.runs,
				 o->max_runs);
			return 0;
		}
		batch *= 2;
	}
	return -EINTR;
}

/* Both ends, in batches doubling from --first, until Fisher's exact test
 * tells them apart at alpha (one-sided, the direction asked for). */
static int ends(const struct bopts *o, struct pos *v, size_t m)
{
	unsigned long batch = o->first;
	struct fisher fx;

	for (;;) {
		struct bisect_boot b;
		int err;

		for (size_t e = 0; e < 2; e++) {
			struct pos *p = &v[e ? m : 0];

			if (interrupt_signal())
				return -EINTR;
			err = boot_pos(o, p, e ? m : 0, (unsigned int)batch, &b);
			if (err)
				return err;
			if (!b.booted)
				return pr_err("the %s end, %s, did not boot: %s", e ? "bad" : "good", p->abi, p->why),
				       EXIT_BOOT_FAILED;
			if (b.exit_code != EXIT_OK && b.exit_code != EXIT_TEST_FAILED)
				return pr_err("the %s end, %s: %s", e ? "bad" : "good", p->abi, p->why), 2;
		}
		fisher_exact(v[0].fails, v[0].runs, v[m].fails, v[m].runs, &fx);
		/* fx.greater: the new end fails more. */
		if ((o->fix ? fx.less : fx.greater) <= o->alpha)
			return 0;
		if ((o->fix ? fx.greater : fx.less) <= o->alpha) {
			pr_err("the test fails at %s (%lu/%lu) and passes at %s (%lu/%lu): the ends are swapped for %s",
			       o->fix ? v[m].abi : v[0].abi, o->fix ? v[m].fails : v[0].fails,
			       o->fix ? v[m].runs : v[0].runs, o->fix ? v[0].abi : v[m].abi,
			       o->fix ? v[0].fails : v[m].fails, o->fix ? v[0].runs : v[m].runs,
			       o->fix ? "--fix (the first version where it passes)" : "a regression; use --fix to find where it started passing");
			return EXIT_USAGE;
		}
		if (v[0].runs >= o->max_runs)
			return pr_err("%s (%lu/%lu failed) and %s (%lu/%lu) cannot be told apart within %u runs each: "
				      "nothing to bisect", v[0].abi, v[0].fails, v[0].runs, v[m].abi, v[m].fails,
				      v[m].runs, o->max_runs),
			       2;
		batch = batch * 2 > o->max_runs - v[0].runs ? o->max_runs - v[0].runs : batch * 2;
	}
}

/* The untested position nearest the middle of (lo, hi), or 0. */
static size_t next_probe(const struct pos *v, size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2;

	for (size_t d = 0; d < hi - lo; d++) {
		if (mid + d < hi && mid + d > lo && v[mid + d].state == P_UNTESTED)
			return mid + d;
		if (mid >= d && mid - d > lo && mid - d < hi && v[mid - d].state == P_UNTESTED)
			return mid - d;
	}
	return 0;
}

static int write_json(const struct bopts *o, const struct pos *v, size_t m, const double *post, size_t lo,
		      size_t hi, bool monotonic, double conf, double p_old, double p_new, unsigned long long wall_ms,
		      int argc, char **argv)
{
	cleanup_free char *path = path_join(o->out, "bisect.json");
	json_t *root = json_object(), *steps = json_array(), *cmd = json_array();
	int err;

	if (!path || !root || !steps || !cmd) {
		json_decref(root);
		json_decref(steps);
		json_decref(cmd);
		return -ENOMEM;
	}
	for (int i = 0; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	for (size_t i = 0; i <= m; i++)
		json_array_append_new(steps, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:s}", "version",
						       v[i].abi, "state", pstate_name[v[i].state], "runs",
						       (json_int_t)v[i].runs, "failures", (json_int_t)v[i].fails,
						       "boots", (json_int_t)v[i].boots, "boot_ms",
						       (json_int_t)v[i].boot_ms, "wall_ms", (json_int_t)v[i].wall_ms,
						       "posterior", post ? post[i] : 0.0, "why", v[i].why));
	json_object_set_new(root, "kta_bisect", json_integer(1));
	json_object_set_new(root, "command", cmd);
	json_object_set_new(root, "arch", json_string(o->arch->name));
	json_object_set_new(root, "mode", json_string(o->fix ? "fix" : "regression"));
	json_object_set_new(root, "versions", steps);
	json_object_set_new(root, "last_old", json_string(v[lo].abi));
	json_object_set_new(root, "first_new", json_string(hi - lo == 1 && monotonic ? v[hi].abi : ""));
	json_object_set_new(root, "monotonic", json_boolean(monotonic));
	json_object_set_new(root, "candidates", json_pack("[s,s]", v[lo + 1 <= hi ? lo + 1 : hi].abi, v[hi].abi));
	json_object_set_new(root, "confidence", json_real(conf));
	json_object_set_new(root, "rate_old", json_real(p_old));
	json_object_set_new(root, "rate_new", json_real(p_new));
	json_object_set_new(root, "wall_ms", json_integer((json_int_t)wall_ms));
	err = json_dump_file(root, path, JSON_INDENT(1)) ? -EIO : 0;
	json_decref(root);
	return err;
}

int cmd_bisect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "good", required_argument, NULL, 'g' },   { "bad", required_argument, NULL, 'b' },
		{ "fix", no_argument, NULL, 'F' },          { "line", required_argument, NULL, 'L' },
		{ "arch", required_argument, NULL, 'a' },   { "flavour", required_argument, NULL, 'f' },
		{ "suite", required_argument, NULL, 's' },  { "test", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'O' },   { "iterations", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 'T' }, { "first", required_argument, NULL, '1' },
		{ "max-runs", required_argument, NULL, 'M' }, { "alpha", required_argument, NULL, 'A' },
		{ "beta", required_argument, NULL, 'B' },   { "out", required_argument, NULL, 'o' },
		{ "old", required_argument, NULL, 'g' },    { "new", required_argument, NULL, 'b' },
		{ "tree", required_argument, NULL, 'R' },   { "fragments", required_argument, NULL, 'G' },
		{ "log", required_argument, NULL, 'l' },    { "p-old", required_argument, NULL, 'P' },
		{ "p-new", required_argument, NULL, 'Q' },  { "no-verify", no_argument, NULL, 'V' },
		{ "env", required_argument, NULL, 'e' },    { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bopts o = { .first = 5, .max_runs = 64, .alpha = 0.05, .beta = 0.05, .verify = true };
	const char *arch = "x86_64";
	struct kernel_avail *av = NULL;
	struct pos *v = NULL;
	double *post = NULL, p_old = 0, p_new = 0, conf = 0;
	size_t nav = 0, m = 0, lo = 0, hi = 0;
	bool decided = false, not_monotonic = false;
	char self[PATH_MAX];
	long io, in;
	uint64_t t0 = monotonic_ms();
	int opt, err = 0, rc;
	bool run_verb = false;

	if (kta_self(self, sizeof(self)))
		return EXIT_INFRA;
	o.sel.kta = self;
	optind = 1;
	while (!err && (opt = getopt_long(argc, argv, "a:s:t:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'g': o.old_v = optarg; break;
		case 'b': o.new_v = optarg; break;
		case 'F': o.fix = true; break;
		case 'L': o.line = optarg; break;
		case 'a': arch = optarg; break;
		case 'f': o.sel.flavour = optarg; break;
		case 's':
		case 't':
			if (o.sel.nitems >= 32)
				return pr_err("at most 32 --suite/--test"), EXIT_USAGE;
			o.sel.kind[o.sel.nitems] = (char)opt;
			o.sel.items[o.sel.nitems++] = optarg;
			break;
		case 'O': o.sel.only = optarg; break;
		case 'e':
			if (o.sel.nenv >= 16 || !strchr(optarg, '='))
				return pr_err("--env KEY=VALUE, at most 16"), EXIT_USAGE;
			o.sel.env[o.sel.nenv++] = optarg;
			break;
		case 'i': err = cmd_parse_uint("--iterations", optarg, &o.sel.iterations); break;
		case 'T': err = cmd_parse_uint("--timeout", optarg, &o.sel.timeout_s); break;
		case '1': err = cmd_parse_uint("--first", optarg, &o.first); break;
		case 'M': err = cmd_parse_uint("--max-runs", optarg, &o.max_runs); break;
		case 'A': err = cmd_parse_prob("--alpha", optarg, 0.5, &o.alpha); break;
		case 'B': err = cmd_parse_prob("--beta", optarg, 0.5, &o.beta); break;
		case 'o': snprintf(o.out, sizeof(o.out), "%s", optarg); break;
		case 'R': o.tree = optarg; break;
		case 'V': o.verify = false; break;
		case 'G': o.fragments = optarg; break;
		case 'l': o.log = optarg; break;
		case 'P': err = cmd_parse_prob("--p-old", optarg, 1, &o.p_old); break;
		case 'Q': err = cmd_parse_prob("--p-new", optarg, 1, &o.p_new); break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (err)
		return EXIT_USAGE;
	if (optind < argc && !strcmp(argv[optind], "run")) {
		run_verb = true;
		optind++;
	}
	if ((rc = cmd_no_more_args(argc, argv, optind, usage)) >= 0)
		return rc;
	o.argc = argc;
	o.argv = argv;
	if (run_verb) {
		cleanup_buf struct buf gd = { 0 };
		const char *gargv[] = { "git", "-C", o.tree ? o.tree : ".", "rev-parse", "--absolute-git-dir", NULL };

		o.tree = o.tree ? o.tree : ".";
		o.arch = arch_lookup(arch);
		if (!o.arch || !o.sel.nitems)
			return pr_err(!o.arch ? "unknown arch `%s`" : "nothing to run: give --suite or --test", arch),
			       EXIT_USAGE;
		o.sel.arch = o.arch->name;
		if (!o.p_old && !o.p_new)
			o.p_old = 0.01, o.p_new = 0.99;
		/* Steps' files go under .git, never into the tree the
		 * builds snapshot. */
		if (!o.out[0]) {
			if (spawn_run((char *const *)gargv, NULL, &gd) || !gd.data)
				return pr_err("%s: not a git work tree", o.tree), EXIT_USAGE;
			gd.data[strcspn(gd.data, "\n")] = '\0';
			snprintf(o.out, sizeof(o.out), "%s/kta-bisect", gd.data);
		}
		interrupt_begin();
		return bisect_run(&o);
	}
	if (!o.old_v || !o.new_v)
		return pr_err("--good and --bad are both needed"), usage(stderr), EXIT_USAGE;
	if (!o.sel.nitems)
		return pr_err("nothing to run: give --suite or --test"), EXIT_USAGE;
	if (!o.first || o.first > o.max_runs)
		return pr_err("--first must be between 1 and --max-runs (%u)", o.max_runs), EXIT_USAGE;
	o.arch = arch_lookup(arch);
	if (!o.arch)
		return pr_err("unknown arch `%s`", arch), EXIT_USAGE;
	o.sel.arch = o.arch->name;
	if (!o.out[0] && kta_out_dir("bisect", o.out, sizeof(o.out)))
		return EXIT_INFRA;
	if ((err = mkdir_p(o.out, 0755)))
		return pr_err("cannot create `%s`: %s", o.out, strerror(-err)), EXIT_INFRA;
	if (o.tree) {
		char abs[PATH_MAX];

		if (!realpath(o.tree, abs) || !(o.tree = strdup(abs)))
			return pr_err("--tree %s: %s", o.tree, strerror(errno)), EXIT_USAGE;
		if (!realpath(o.out, abs))
			return EXIT_INFRA;
		snprintf(o.out, sizeof(o.out), "%s", abs);
		interrupt_begin();
		return bisect_tree(&o);
	}

	err = kernel_list(o.arch, NULL, o.sel.flavour, &av, &nav);
	if (err)
		return EXIT_INFRA;
	io = find_version(av, nav, o.old_v);
	in = find_version(av, nav, o.new_v);
	if (io < 0 || in < 0) {
		pr_err("Debian has no %s kernel %s for %s; it has:", o.arch->deb_arch, io < 0 ? o.old_v : o.new_v,
		       o.arch->name);
		for (size_t i = 0; i < nav; i++)
			fprintf(stderr, "  %s\n", av[i].abi);
		free(av);
		return EXIT_USAGE;
	}
	if (io >= in) {
		pr_err("--good %s is %s --bad %s: the good end must be the older (swap them%s)", av[io].abi,
		       io == in ? "the same kernel as" : "newer than", av[in].abi,
		       o.fix ? "" : "; or, to find where a failure went away, use --fix with the older as --good");
		free(av);
		return EXIT_USAGE;
	}
	v = calloc((size_t)(in - io + 1), sizeof(*v));
	post = calloc((size_t)(in - io + 1), sizeof(*post));
	if (!v || !post) {
		free(av);
		free(v);
		free(post);
		return EXIT_INFRA;
	}
	for (long i = io; i <= in; i++) {
		if (i != io && i != in && ((o.line && !kernel_version_matches(av[i].abi, o.line)) ||
					   superseded(av, nav, (size_t)i)))
			continue;
		snprintf(v[m++].abi, sizeof(v[0].abi), "%s", av[i].abi);
	}
	free(av);
	m--;
	printf("# kta bisect (%s) on %s: %zu versions from %s (old end) to %s (new end)%s%s, in version order\n",
	       o.fix ? "where the failure went away" : "where it started failing", o.arch->name, m + 1, v[0].abi,
	       v[m].abi, o.line ? ", line " : "", o.line ? o.line : "");
	if (m == 1)
		printf("# nothing lies between them: if the ends differ, %s is the answer\n", v[1].abi);
	printf("# steps' logs: %s\n", o.out);
	interrupt_begin();

	hi = m;
	rc = ends(&o, v, m);
	if (rc == -EINTR || interrupt_signal()) {
		rc = interrupt_exit_code(interrupt_signal());
		goto report;
	}
	if (rc < 0) {
		pr_err("cannot run a step: %s", strerror(-rc));
		rc = EXIT_INFRA;
		goto report;
	}
	if (rc)
		goto report;
	v[0].state = P_OLD;
	v[m].state = P_NEW;
	p_old = rate_estimate(v[0].fails, v[0].runs);
	p_new = rate_estimate(v[m].fails, v[m].runs);
	printf("# rates: %s %lu/%lu, %s %lu/%lu; a step is judged by Wald's SPRT between %.3f and %.3f "
	       "(alpha %g, beta %g), at most %u runs\n",
	       v[0].abi, v[0].fails, v[0].runs, v[m].abi, v[m].fails, v[m].runs, p_old, p_new, o.alpha, o.beta,
	       o.max_runs);
	printf("%-3s %-28s %-13s %-7s %5s %8s %8s\n", "POS", "VERSION", "AS AT", "FAILED", "BOOTS", "BOOT s",
	       "WALL s");
	print_step(&v[0], 0, m);
	print_step(&v[m], m, m);
	lo = 0;
	hi = m;
	for (size_t probe; (probe = next_probe(v, lo, hi));) {
		err = judge(&o, &v[probe], probe, p_old, p_new);
		if (err == -EINTR || interrupt_signal()) {
			rc = interrupt_exit_code(interrupt_signal());
			break;
		}
		if (err) {
			pr_err("cannot run a step: %s", strerror(-err));
			rc = EXIT_INFRA;
			break;
		}
		print_step(&v[probe], probe, m);
		if (v[probe].state == P_NEW)
			hi = probe;
		else if (v[probe].state == P_OLD)
			lo = probe;
	}
	/* The boundary's neighbours: the version before the last old one
	 * and the one after the first new one must agree with a monotonic
	 * order. Versions are not a line (a fix can reach an old stable
	 * line after a newer release had it), and this is where it shows;
	 * the search has often run them already. */
	if (!rc && hi - lo == 1 && o.verify) {
		size_t nb[2] = { lo > 0 ? lo - 1 : SIZE_MAX, hi < m ? hi + 1 : SIZE_MAX };

		for (int i = 0; i < 2 && !rc; i++) {
			if (nb[i] == SIZE_MAX || v[nb[i]].state != P_UNTESTED)
				continue;
			err = judge(&o, &v[nb[i]], nb[i], p_old, p_new);
			if (err == -EINTR || interrupt_signal())
				rc = interrupt_exit_code(interrupt_signal());
			else if (err)
				rc = EXIT_INFRA;
			else
				print_step(&v[nb[i]], nb[i], m);
		}
		for (size_t i = 0; !rc && i <= m; i++)
			if ((i < hi && v[i].state == P_NEW) || (i > lo && v[i].state == P_OLD))
				not_monotonic = true;
	}
	if (!rc) {
		cleanup_free unsigned long *n = calloc(m + 1, sizeof(*n)), *f = calloc(m + 1, sizeof(*f));
		struct bisect_obs ob = { .m = m, .n = n, .f = f };

		if (!n || !f) {
			rc = EXIT_INFRA;
			goto report;
		}
		for (size_t i = 0; i <= m; i++)
			n[i] = v[i].runs, f[i] = v[i].fails;
		bisect_posterior(&ob, p_old, p_new, post);
		for (size_t b = lo + 1; b <= hi; b++)
			conf += post[b];
		if (hi - lo == 1 && not_monotonic)
			printf("# the search stopped between %s and %s, but that is no answer:\n", v[lo].abi, v[hi].abi);
		else if (hi - lo == 1)
			printf("# first %s: %s (last as before: %s); posterior probability %.4f\n",
			       o.fix ? "version where it passes" : "bad version", v[hi].abi, v[lo].abi, conf);
		else
			printf("# undecided: the first %s is one of %s .. %s (posterior %.4f together); the "
			       "versions between could not be judged (above)\n",
			       o.fix ? "passing version" : "bad version", v[lo + 1].abi, v[hi].abi, conf);
		{
			char a[32], b[32];

			snprintf(a, sizeof(a), "%s", v[lo].abi);
			snprintf(b, sizeof(b), "%s", v[hi].abi);
			a[strcspn(a, "+-")] = b[strcspn(b, "+-")] = '\0';
			*(strrchr(a, '.') ?: a + strlen(a)) = '\0';
			*(strrchr(b, '.') ?: b + strlen(b)) = '\0';
			if (hi - lo == 1 && strcmp(a, b))
				printf("# the boundary is between stable lines (%s to %s): version order puts every %s.x "
				       "before %s, so a change that came with %s and was backported to %s later is not "
				       "monotonic in this order; --line %s bisects within one line\n",
				       a, b, a, b, b, a, a);
		}
		if (not_monotonic) {
			printf("# NOT MONOTONIC in version order: ");
			for (size_t i = 0; i <= m; i++)
				if ((i < hi && v[i].state == P_NEW) || (i > lo && v[i].state == P_OLD))
					printf("%s behaves as the %s end; ", v[i].abi, v[i].state == P_NEW ? "new" : "old");
			printf("no single first version explains the runs: bisect one stable line (--line)\n");
		}
		rc = hi - lo == 1 && !not_monotonic ? EXIT_OK : 2;
		decided = true;
	}
report:
	{
		unsigned long boots = 0, runs = 0;

		for (size_t i = 0; i <= m; i++)
			boots += v[i].boots, runs += v[i].runs;
		printf("# %lu boots, %lu runs, wall time %.1f s; log of steps: %s/bisect.json\n", boots, runs,
		       (double)(monotonic_ms() - t0) / 1000, o.out);
		if (rc == EXIT_INTERRUPTED || rc == EXIT_TERMINATED) {
			printf("# interrupted; the steps so far:\n");
			for (size_t i = 0; i <= m; i++)
				if (v[i].boots)
					print_step(&v[i], i, m);
		}
		if (write_json(&o, v, m, decided ? post : NULL, lo, hi, !not_monotonic, conf, p_old, p_new,
			       monotonic_ms() - t0, argc, argv))
			pr_warn("cannot write %s/bisect.json", o.out);
	}
	free(v);
	free(post);
	return rc;
}
