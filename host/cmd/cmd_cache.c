/* `kta cache`: what kta's cache holds, part by part, and pruning it,
 * least recently used first (base/cache.h, base/centry.h). Entries in use
 * (a run, a build or a selftests run holds them) are never removed.
 */
#include "base/cache.h"
#include "base/centry.h"
#include "base/log.h"
#include "base/util.h"
#include "cmd/cmd.h"
#include "run/results.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	unsigned int n;
	const struct cache_kind *k = cache_kinds(&n);

	fprintf(f,
		"usage: kta cache list\n"
		"       kta cache prune [--max-gb N] [--dry-run] [PART...]\n"
		"\n"
		"  list     each part of the cache: what it holds, its size, its cap\n"
		"  prune    remove the least recently used entries of each PART (default:\n"
		"           every capped part) until it is within its cap, or within N GiB\n"
		"           with --max-gb (0: everything not in use); entries in use, and\n"
		"           those used in the last %d minutes, stay\n"
		"\n"
		"The cache is $KTA_CACHE (default ~/.cache/kta). Kernel builds trim the\n"
		"workspaces and built kernels, selftests builds theirs, and runs the\n"
		"initramfs archives, each to its cap. Parts:\n",
		CENTRY_GRACE_S / 60);
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "  %-11s %s%s%s\n", k[i].name, k[i].holds, k[i].env ? "; cap $" : "",
			k[i].env ? k[i].env : "");
}

static void gb(char *out, size_t n, uint64_t bytes)
{
	snprintf(out, n, "%.2f", (double)bytes / (1ull << 30));
}

static int do_list(void)
{
	unsigned int n;
	const struct cache_kind *k = cache_kinds(&n);
	char root[PATH_MAX], size[32], cap[32];
	uint64_t total = 0;

	if (cache_dir(root, sizeof(root)))
		return EXIT_INFRA;
	printf("# kta cache in %s (GiB; a file also linked from elsewhere counts nothing)\n", root);
	printf("%-11s %9s %9s  %s\n", "PART", "SIZE", "CAP", "HOLDS");
	for (unsigned int i = 0; i < n; i++) {
		cleanup_free char *p = path_join(root, k[i].name);
		uint64_t b = p && path_exists(p) ? centry_du(p) : 0;

		total += b;
		gb(size, sizeof(size), b);
		if (cache_cap_bytes(&k[i]))
			gb(cap, sizeof(cap), cache_cap_bytes(&k[i]));
		else
			snprintf(cap, sizeof(cap), "-");
		printf("%-11s %9s %9s  %s\n", k[i].name, size, cap, k[i].holds);
	}
	gb(size, sizeof(size), total);
	printf("%-11s %9s\n", "total", size);
	return EXIT_OK;
}

static int prune_one(const char *root, const struct cache_kind *k, double max_gb, bool dry)
{
	cleanup_free char *top = path_join(root, k->name);
	uint64_t cap = max_gb >= 0 ? (uint64_t)(max_gb * (1ull << 30)) : cache_cap_bytes(k);
	struct centry_prune_stats st;
	int err;

	if (!top)
		return -ENOMEM;
	err = centry_prune(top, cap, dry, &st);
	if (err)
		return pr_err("%s: %s", top, strerror(-err)), err;
	printf("%-11s %u entr%s, %.2f GiB: %s %u (%.2f GiB), %u in use\n", k->name, st.entries,
	       st.entries == 1 ? "y" : "ies", (double)st.bytes / (1ull << 30), dry ? "would remove" : "removed", st.removed,
	       (double)st.freed / (1ull << 30), st.busy);
	return 0;
}

static int do_prune(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max-gb", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double max_gb = -1;
	bool dry = false;
	char root[PATH_MAX], *end;
	unsigned int n;
	const struct cache_kind *k = cache_kinds(&n);
	int c, rc = EXIT_OK;

	optind = 0;
	while ((c = getopt_long(argc, argv, "m:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			max_gb = strtod(optarg, &end);
			if (*end || !*optarg || max_gb < 0)
				return pr_err("--max-gb: not a size in GiB: `%s`", optarg), EXIT_USAGE;
			break;
		case 'n':
			dry = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++)
		if (!cache_kind(argv[i]))
			return pr_err("no cache part `%s` (kta cache list)", argv[i]), EXIT_USAGE;
	if (cache_dir(root, sizeof(root)))
		return EXIT_INFRA;
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			if (prune_one(root, cache_kind(argv[i]), max_gb, dry))
				rc = EXIT_INFRA;
		return rc;
	}
	for (unsigned int i = 0; i < n; i++)
		if ((max_gb >= 0 || cache_cap_bytes(&k[i])) && prune_one(root, &k[i], max_gb, dry))
			rc = EXIT_INFRA;
	return rc;
}

int cmd_cache(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;
	int r = cmd_verb("cache", verb, (const char *const[]){ "list", "prune", NULL }, usage);

	if (r >= 0)
		return r;
	if (!strcmp(verb, "list"))
		return cmd_no_more_args(argc - 1, argv + 1, 1, usage) >= 0 ? EXIT_USAGE : do_list();
	return do_prune(argc - 1, argv + 1);
}
