/* `kta kernel build`: the options, the exit codes, and the one line on
 * stdout (the image's path) that makes `kta run --kernel $(kta kernel
 * build ...)` work; everything else goes to stderr.
 */
#include "base/arch.h"
#include "cmd/cmd.h"
#include "kbuild/kbuild.h"
#include "kbuild/ksource.h"
#include "base/exit.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "run/results.h"
#include "toolchain/troot.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta kernel build [--tree DIR | --source debian:VERSION] [--arch A]\n"
		"                        [--fragments LIST] [--patches SERIES] [-j N] [--artifacts DIR]\n"
		"                        [--config-only] [--cached] [--force] [--clean] [--no-ccache]\n"
		"                        [--base tinyconfig|defaults] [--toolchain host|root]\n"
		"\n"
		"Builds a minimal kernel: tinyconfig + kernel-config/ fragments (merged with the tree's\n"
		"merge_config.sh, then olddefconfig; every requested option must survive), with a patch\n"
		"series applied to a private copy of the tree, out of tree, cached in\n"
		"$KTA_CACHE/builds/<key>/. Prints the image's path (only that) on stdout:\n"
		"    kta run --kernel \"$(kta kernel build --patches patches/series)\" --suite ...\n"
		"\n"
		"  --tree DIR          a kernel tree (git work tree or not); never written to\n"
		"  --source debian:V   Debian's linux-source-V package (default %s; also 6.12, 7.3.4, ...)\n"
		"  --arch A            %s (default %s); its fragment kernel-config/<A>.config is added\n"
		"  --fragments LIST    comma-separated fragment names (kernel-config/NAME.config) or paths\n"
		"                      (default %s; kasan adds KASAN; selftests: the tree's BPF\n"
		"                      selftests config, config.vm and config.<arch> plus kta's needs,\n"
		"                      on Kconfig's defaults, built with the toolchain root, and the test\n"
		"                      modules and vmlinux BTF kept with the image)\n"
		"  --base B            tinyconfig (default) or defaults (an empty .config, as BPF CI)\n"
		"  --toolchain T       host (default) or root: `kta toolchain root`'s compilers and pahole\n"
		"                      (the default with the selftests fragment)\n"
		"  --patches SERIES    a quilt-style series file (e.g. patches/series), a directory with\n"
		"                      one, or one patch file; a conflict stops the build\n"
		"  -j N                parallel jobs (default: the number of CPUs)\n"
		"  --artifacts DIR     logs, merged config, rejected hunks (default kta-out/kbuild-<time>)\n"
		"  --config-only       stop after the config check; print the merged .config's path\n"
		"  --force             build even if the cache has this kernel\n"
		"  --clean             start from an empty build directory (a full build; implies nothing\n"
		"                      about the cache: add --force to rebuild a cached kernel)\n"
		"  --no-ccache         do not use ccache even if installed\n"
		"  --cached            only a cache hit: print it, or exit 1 without building\n"
		"\n"
		"Exit: 0 built or cached; 125 the series does not apply or the kernel does not build\n"
		"(git bisect run: skip); 128 bad input (not a kernel tree, unknown fragment or option,\n"
		"an option that did not survive, a bad patch or series); 200 infrastructure (download,\n"
		"disk full); 130/143 interrupted.\n",
		KBUILD_DEFAULT_SOURCE, arch_names(), arch_default()->name, KBUILD_DEFAULT_FRAGMENTS);
}


int cmd_kernel_build(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 's' },
		{ "arch", required_argument, NULL, 'a' },
		{ "fragments", required_argument, NULL, 'f' },
		{ "patches", required_argument, NULL, 'p' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "artifacts", required_argument, NULL, 'A' },
		{ "config-only", no_argument, NULL, 'C' },
		{ "force", no_argument, NULL, 'F' },
		{ "clean", no_argument, NULL, 'c' },
		{ "no-ccache", no_argument, NULL, 'N' },
		{ "cached", no_argument, NULL, 'H' },
		{ "base", required_argument, NULL, 'b' },
		{ "toolchain", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kbuild_opts o = { .arch = arch_default(), .progress = isatty(2) };
	struct kbuild_result res;
	const char *toolchain = NULL;
	struct troot root;
	char *end;
	int c, err;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+t:s:a:f:p:j:A:CFcNhb:T:", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o.tree = optarg;
			break;
		case 's':
			o.source = optarg;
			break;
		case 'a':
			o.arch = arch_from_arg(optarg);
			if (!o.arch)
				return EXIT_USAGE;
			break;
		case 'f':
			o.fragments = optarg;
			break;
		case 'p':
			o.patches = optarg;
			break;
		case 'j':
			o.jobs = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !o.jobs || o.jobs > 1024) {
				pr_err("invalid -j `%s` (expected 1 to 1024)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'A':
			o.artifacts = optarg;
			break;
		case 'C':
			o.config_only = true;
			break;
		case 'F':
			o.force = true;
			break;
		case 'c':
			o.clean = true;
			break;
		case 'H':
			o.cached_only = true;
			break;
		case 'N':
			o.no_ccache = true;
			break;
		case 'b':
			o.base = optarg;
			break;
		case 'T':
			if (strcmp(optarg, "host") && strcmp(optarg, "root")) {
				pr_err("--toolchain: host or root, not `%s`", optarg);
				return EXIT_USAGE;
			}
			toolchain = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	err = cmd_no_more_args(argc, argv, optind, usage);
	if (err >= 0)
		return err;
	if (!o.arch->kbuild_arch) {
		pr_err("kta cannot build kernels for %s yet (no kbuild row in host/base/arch.c)", o.arch->name);
		return EXIT_USAGE;
	}
	if (!toolchain && o.fragments && kbuild_fragments_have_selftests(o.fragments))
		toolchain = "root";
	if (toolchain && !strcmp(toolchain, "root")) {
		err = troot_ensure(&(struct troot_opts){ .arches = &o.arch, .narches = 1 }, &root);
		if (err)
			return exit_code_for(err, false);
		o.troot = &root;
	}
	err = kbuild_run(&o, &res);
	if (err) {
		if (err == -EINTR)
			pr_err("interrupted; nothing was added to the cache");
		else if (res.artifacts[0] && (err == KBUILD_EBUILD || err == KBUILD_ECONFLICT || err == KBUILD_ECONFIG))
			pr_err("kernel build failed; logs in %s", res.artifacts);
		return kbuild_exit_code(err);
	}
	if (o.config_only) {
		pr_info("config: %zu options set; %s", res.options, res.config);
		printf("%s\n", res.config);
		return EXIT_OK;
	}
	if (res.cached)
		pr_info("cached kernel (key %.12s, %zu options): %s", res.key, res.options, res.image);
	else
		pr_info("built kernel (key %.12s, %zu options) in %llu:%02llu: %s", res.key, res.options,
			(unsigned long long)(res.build_ms / 60000), (unsigned long long)(res.build_ms / 1000 % 60),
			res.image);
	printf("%s\n", res.image);
	return EXIT_OK;
}

/* `kta kernel source [--version V]`: the Debian kernel tree `kernel build
 * --source debian:V` uses (fetched if needed); its directory on stdout. */
int cmd_kernel_source(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *version = &KBUILD_DEFAULT_SOURCE[strlen("debian:")];
	struct ksource ks;
	int c, err;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+v:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			version = !strncmp(optarg, "debian:", 7) ? optarg + 7 : optarg;
			break;
		case 'h':
			printf("usage: kta kernel source [--version V]\n\n"
			       "Fetches Debian's linux-source-V (default %s) into the cache if needed and prints\n"
			       "the unpacked tree's directory. The tree is shared: do not modify it.\n",
			       &KBUILD_DEFAULT_SOURCE[strlen("debian:")]);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	err = cmd_no_more_args(argc, argv, optind, NULL);
	if (err >= 0)
		return err;
	err = ksource_fetch(version, &ks);
	if (err)
		return kbuild_exit_code(err);
	printf("%s\n", ks.dir);
	return EXIT_OK;
}
