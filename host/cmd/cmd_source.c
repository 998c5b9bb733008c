/* `kta source`: fetch a Debian source package (libbpf for the guest BPF
 * toolchain) into the cache and print its directory, or list the versions
 * the archive has. The directory is the last line on stdout, so a Makefile
 * can take it with $(shell ...) or `tail -n1` into a stamp file.
 */
#include "base/arch.h"
#include "cmd/cmd.h"
#include "base/exit.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "run/results.h"
#include "kernel/source.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta source fetch NAME [--version V] [--arch A]\n"
		"       kta source list NAME\n"
		"\n"
		"  fetch   download and unpack (dpkg-source -x) a Debian source package into\n"
		"          $KTA_CACHE/sources/<name>-<version>/, unless it is cached, and print\n"
		"          that directory (the last line on stdout)\n"
		"  list    the versions Debian's archive has (bookworm to sid)\n"
		"\n"
		"  NAME          a source package (libbpf) or a binary one built from it (libbpf-dev)\n"
		"  --version V   a Debian version (1.5.0-3), an upstream prefix (1.5.0, 1.5),\n"
		"                or latest (default): the newest in bookworm to sid\n"
		"  --arch A      accepted for symmetry with `kta kernel`: %s; source packages\n"
		"                are the same for every architecture\n"
		"\n"
		"A cached match is used without running apt; `latest` is re-resolved when\n"
		"the package lists are refreshed (once a day).\n",
		arch_names());
}

struct source_opts {
	const char *name;
	const char *version;
};

/* -1: go on; else an exit code. */
static int parse(int argc, char **argv, struct source_opts *o)
{
	static const struct option longopts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "version", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0; /* glibc: full re-initialisation, argv[0] is the verb */
	while ((c = getopt_long(argc, argv, "a:v:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (!arch_from_arg(optarg))
				return EXIT_USAGE;
			break;
		case 'v':
			o->version = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		pr_err("missing the source package's name");
		usage(stderr);
		return EXIT_USAGE;
	}
	o->name = argv[optind++];
	return cmd_no_more_args(argc, argv, optind, usage);
}

static int exit_code(int err, int sig)
{
	if (err == -EINTR)
		return interrupt_exit_code(sig);
	return err == SOURCE_ENOPKG ? EXIT_USAGE : exit_code_for(err, false);
}

static int do_fetch(const struct source_opts *o)
{
	struct source_entry e;
	int sig = 0;
	int err = source_fetch(o->name, o->version, &e, &sig);

	if (err)
		return exit_code(err, sig);
	printf("%s\n", e.dir);
	return EXIT_OK;
}

static int do_list(const struct source_opts *o)
{
	struct source_avail *v = NULL;
	char srcname[128];
	size_t n = 0;
	int err = source_list(o->name, &v, &n, srcname, sizeof(srcname));

	if (err)
		return exit_code(err, 0);
	for (size_t i = 0; i < n; i++)
		printf("%s %s%s\n", srcname, v[i].version, v[i].cached ? "  (cached)" : "");
	free(v);
	return EXIT_OK;
}

int cmd_source(int argc, char **argv)
{
	struct source_opts o = { 0 };
	const char *verb = argc > 1 ? argv[1] : NULL;
	int r;

	r = cmd_verb("source", verb, (const char *const[]){ "fetch", "list", NULL }, usage);
	if (r >= 0)
		return r;
	r = parse(argc - 1, argv + 1, &o);
	if (r >= 0)
		return r;
	return !strcmp(verb, "fetch") ? do_fetch(&o) : do_list(&o);
}
