/* `kta kernel`: fetch a Debian kernel into the cache ahead of a run (CI
 * images, offline laptops) and list the versions the archive has, using
 * the same resolution `kta run` does.
 */
#include "base/arch.h"
#include "cmd/cmd.h"
#include "kernel/kernel.h"
#include "base/exit.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "run/results.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta kernel fetch [--arch A] [--version V] [--flavour F]\n"
		"       kta kernel list [--arch A] [--version V] [--flavour F]\n"
		"       kta kernel build [--tree DIR | --source debian:V] [--patches SERIES] ...\n"
		"       kta kernel source [--version V]\n"
		"\n"
		"  fetch   download a Debian prebuilt kernel into the cache (if not there yet)\n"
		"          and print its directory, version, image and modules\n"
		"  list    the kernel versions Debian's archive has for the arch and flavour\n"
		"  build   build a minimal kernel from a tree (kta kernel build --help)\n"
		"  source  fetch Debian's linux-source-V tree into the cache, print its directory\n"
		"\n"
		"  --arch A      guest architecture: %s (default %s)\n"
		"  --version V   7.3 (default), 7.3.4, 6.1, 6.12, latest\n"
		"  --flavour F   Debian kernel flavour (default: the arch's, e.g. cloud-amd64)\n"
		"\n"
		"The cache is $KTA_CACHE, else $XDG_CACHE_HOME/kta, else ~/.cache/kta.\n",
		arch_names(), arch_default()->name);
}

struct kernel_opts {
	const struct arch_profile *arch;
	const char *version;
	const char *flavour;
};

/* -1: go on; else an exit code. */
static int parse(int argc, char **argv, struct kernel_opts *o)
{
	static const struct option longopts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "version", required_argument, NULL, 'v' },
		{ "flavour", required_argument, NULL, 'f' },
		{ "flavor", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->arch = arch_default();
	optind = 0; /* glibc: full re-initialisation, argv[0] is the verb */
	while ((c = getopt_long(argc, argv, "+a:v:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->arch = arch_from_arg(optarg);
			if (!o->arch)
				return EXIT_USAGE;
			break;
		case 'v':
			o->version = optarg;
			break;
		case 'f':
			o->flavour = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	return cmd_no_more_args(argc, argv, optind, usage);
}

static int exit_code(int err)
{
	return exit_code_for(err, true);
}

static int do_fetch(const struct kernel_opts *o)
{
	struct kernel k = { 0 };
	int err = kernel_fetch(o->arch, o->version, o->flavour, &k);

	if (err)
		return exit_code(err);
	printf("dir      %s\n", k.dir);
	printf("version  %s\n", k.version);
	printf("image    %s\n", k.image);
	printf("config   %s\n", k.config[0] ? k.config : "-");
	printf("sha256   %s\n", k.sha256);
	printf("source   %s\n", k.source);
	printf("modules ");
	if (!k.nr_modules)
		printf(" none");
	for (size_t i = 0; i < k.nr_modules; i++)
		printf(" %s", k.modules[i]);
	printf("\n");
	kernel_free(&k);
	return EXIT_OK;
}

static int do_list(const struct kernel_opts *o)
{
	const char *flavour = o->flavour ? o->flavour : o->arch->deb_flavour;
	struct kernel_avail *v = NULL;
	size_t n = 0;
	int err = kernel_list(o->arch, o->version, o->flavour, &v, &n);

	if (err)
		return exit_code(err);
	if (!n)
		pr_err("Debian has no %s kernel for %s (flavour %s); run `kta kernel list` for all versions",
		       o->version ? o->version : "", o->arch->deb_arch, flavour);
	for (size_t i = 0; i < n; i++)
		printf("%s-%s%s%s%s%s\n", v[i].abi, flavour, v[i].cached ? "  (cached)" : "",
		       v[i].complete ? "" : "  (image only: no config or modules in the archive; ",
		       v[i].complete ? "" : v[i].boot[0] ? v[i].boot : "not booted yet",
		       v[i].complete ? "" : ")");
	free(v);
	return n ? EXIT_OK : EXIT_INFRA;
}

int cmd_kernel(int argc, char **argv)
{
	struct kernel_opts o = { 0 };
	const char *verb = argc > 1 ? argv[1] : NULL;
	int r;

	r = cmd_verb("kernel", verb, (const char *const[]){ "fetch", "list", "build", "source", NULL }, usage);
	if (r >= 0)
		return r;
	if (!strcmp(verb, "build"))
		return cmd_kernel_build(argc - 1, argv + 1);
	if (!strcmp(verb, "source"))
		return cmd_kernel_source(argc - 1, argv + 1);
	r = parse(argc - 1, argv + 1, &o);
	if (r >= 0)
		return r;
	return !strcmp(verb, "fetch") ? do_fetch(&o) : do_list(&o);
}
