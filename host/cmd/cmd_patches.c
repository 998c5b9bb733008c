/* `kta patches apply|check`: apply a patch series (default: kta's own
 * patches/series) to a kernel tree and print one status per patch. The
 * tree is written to (that is the point of `apply`); `kta kernel build
 * --patches` applies a series to its own copy instead.
 */
#include "cmd/cmd.h"
#include "kbuild/kbuild.h"
#include "base/exit.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "kbuild/patches.h"
#include "run/results.h"

#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta patches apply --tree DIR [--series FILE] [--allow-conflicts] [--dry-run]\n"
		"                         [--artifacts DIR]\n"
		"       kta patches check --tree DIR [--series FILE]      (apply --dry-run)\n"
		"\n"
		"Applies each patch of the series in order and reports it as\n"
		"  applied          it applied cleanly (and was applied)\n"
		"  already-applied  its reverse applies cleanly: the tree has it already\n"
		"  conflict         neither: the rejected hunks are saved in the artifacts\n"
		"Stops at the first conflict (later patches: not-tried) unless --allow-conflicts.\n"
		"\n"
		"  --tree DIR          the kernel tree (git work tree or not); it is modified\n"
		"  --series FILE       quilt-style series file, a directory holding one, or one\n"
		"                      patch (default: kta's patches/series)\n"
		"  --allow-conflicts   go on past a conflict\n"
		"  --dry-run           check only, change nothing (statuses: applies/already-applied/conflict)\n"
		"  --artifacts DIR     where rejected hunks go (default kta-out/patches-<time>)\n"
		"\n"
		"Exit: 0 no conflict, 1 a conflict, 128 bad input, 200 infrastructure (git missing).\n");
}

static void print_table(const char *tree, const struct patch_series *s, bool dry_run)
{
	size_t w = strlen("patch");

	for (size_t i = 0; i < s->n; i++)
		w = strlen(s->v[i].name) > w ? strlen(s->v[i].name) : w;
	printf("# %s %s: %zu patch%s from %s\n", dry_run ? "checking" : "applying", tree, s->n,
	       s->n == 1 ? "" : "es", s->path);
	printf("%-4s %-*s  %s\n", "#", (int)w, "patch", "status");
	for (size_t i = 0; i < s->n; i++)
		printf("%-4zu %-*s  %s\n", i + 1, (int)w, s->v[i].name, patch_status_name(s->v[i].status));
	for (size_t i = 0; i < s->n; i++) {
		const struct patch *p = &s->v[i];

		if (p->status != PATCH_CONFLICT)
			continue;
		printf("\n%s: conflict\n", p->name);
		for (const char *l = p->detail; l && *l;) {
			const char *e = strchrnul(l, '\n');

			printf("  %.*s\n", (int)(e - l), l);
			l = *e ? e + 1 : e;
		}
		if (p->rej[0])
			printf("  rejected hunks: %s\n", p->rej);
	}
}

static void default_artifacts(char *out, size_t size)
{
	struct tm tm;
	time_t now = time(NULL);
	char stamp[32];

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, size, "kta-out/patches-%s-%d", stamp, (int)getpid());
}

int cmd_patches(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "series", required_argument, NULL, 's' },
		{ "patches", required_argument, NULL, 's' },
		{ "allow-conflicts", no_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "artifacts", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *verb = argc > 1 ? argv[1] : NULL, *tree = NULL, *series = NULL, *artifacts = NULL;
	struct patch_opts o = { 0 };
	struct patch_series s;
	char def_series[PATH_MAX], def_art[PATH_MAX];
	struct stat st;
	int c, r;

	r = cmd_verb("patches", verb, (const char *const[]){ "apply", "check", NULL }, usage);
	if (r >= 0)
		return r;
	o.dry_run = !strcmp(verb, "check");
	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+t:s:cnA:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			tree = optarg;
			break;
		case 's':
			series = optarg;
			break;
		case 'c':
			o.allow_conflicts = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'A':
			artifacts = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	r = cmd_no_more_args(argc, argv, optind, NULL);
	if (r >= 0)
		return r;
	if (!tree) {
		pr_err("--tree DIR is required: the kernel tree to patch");
		return EXIT_USAGE;
	}
	if (stat(tree, &st) < 0 || !S_ISDIR(st.st_mode)) {
		pr_err("cannot use `%s` as a tree: %s", tree, errno ? strerror(errno) : "not a directory");
		return EXIT_USAGE;
	}
	if (!series) {
		if (kta_data_path("patches/series", def_series, sizeof(def_series)))
			return pr_err("no --series given and kta's patches/series not found"), EXIT_USAGE;
		series = def_series;
	}
	if (!artifacts) {
		default_artifacts(def_art, sizeof(def_art));
		artifacts = def_art;
	}
	o.artifacts = artifacts;
	r = patch_series_load(series, &s);
	if (r)
		return r == -ENOMEM ? EXIT_INFRA : EXIT_USAGE;
	r = patches_apply(tree, &s, &o);
	if (r >= 0)
		print_table(tree, &s, o.dry_run);
	patch_series_free(&s);
	if (r < 0)
		return exit_code_for(r, false);
	return r ? EXIT_TEST_FAILED : EXIT_OK;
}
