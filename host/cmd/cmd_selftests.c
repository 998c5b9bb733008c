/* `kta selftests build|list`: the kernel tree's own BPF selftests, built
 * for a kernel (selftests.h); the entry's directory on stdout, so that
 * `kta run --selftests` and scripts can use it. The runs themselves are
 * `kta run --selftests SEL`.
 */
#include "base/arch.h"
#include "cmd/cmd.h"
#include "kbuild/kbuild.h"
#include "base/log.h"
#include "run/results.h"
#include "selftests/selftests.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta selftests build [--tree DIR | --source debian:V] [--patches SERIES | --no-patches]\n"
		"                           [--arch A] [--asan] [--kernel PATH | --kernel-version V [--flavour F]]\n"
		"                           [-j N] [--artifacts DIR] [--force] [--toolchain root|host]\n"
		"       kta selftests list  (the same options): the tests test_progs has\n"
		"\n"
		"Builds test_progs, the BPF objects it loads and the test modules (bpf_testmod.ko, ...)\n"
		"from tools/testing/selftests/bpf of a hard-link snapshot of the tree with the series\n"
		"applied, in the toolchain root (`kta toolchain`), against the BTF of the kernel that will\n"
		"run them, and packs them with their libraries and busybox as an ext4 image. Cached by\n"
		"tree, series, toolchain, flags and kernel in $KTA_CACHE/selftests/<key>/; the entry's\n"
		"directory is printed on stdout.\n"
		"\n"
		"  --tree DIR, --source debian:V   the kernel tree (default %s)\n"
		"  --patches SERIES    a quilt series (patches/series), a directory with one, or a patch\n"
		"  --no-patches        none (the default)\n"
		"  --asan              ASAN=1: test_progs and its helpers with AddressSanitizer\n"
		"  --kernel PATH       build for this kernel image (BTF from vmlinux.btf beside it or from\n"
		"                      the image; its test modules when it is a kta build)\n"
		"  --kernel-version V  build for Debian's kernel V (its image's BTF; no test modules)\n"
		"  --toolchain T       root (default: `kta toolchain`'s compilers) or host (the host's, for\n"
		"                      a tree whose selftests they can build; 7.3's need clang 22)\n"
		"                      default: the kta-built kernel of the same tree and series with the\n"
		"                      selftests' own config (kta kernel build --fragments selftests)\n"
		"\n"
		"Exit: 0 built or cached; 125 the series does not apply, or the kernel or the selftests do\n"
		"not build (git bisect run: skip); 128 bad input (no selftests in the tree, a bad series);\n"
		"200 infrastructure (the toolchain root, downloads, disk); 130/143 interrupted.\n",
		KBUILD_DEFAULT_SOURCE);
}


int st_parse_opts(int argc, char **argv, struct st_opts *o, void (*usage_fn)(FILE *))
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 's' },
		{ "patches", required_argument, NULL, 'p' },
		{ "no-patches", no_argument, NULL, 'P' },
		{ "arch", required_argument, NULL, 'a' },
		{ "asan", no_argument, NULL, 'S' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "kernel-version", required_argument, NULL, 'K' },
		{ "flavour", required_argument, NULL, 'F' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "artifacts", required_argument, NULL, 'A' },
		{ "force", no_argument, NULL, 'f' },
		{ "toolchain", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+t:s:p:Pa:Sk:K:F:j:A:fhT:", longopts, NULL)) != -1) {
		switch (c) {
		case 't': o->tree = optarg; break;
		case 's': o->source = optarg; break;
		case 'p': o->patches = optarg; break;
		case 'P': o->patches = NULL; break;
		case 'a':
			o->arch = arch_from_arg(optarg);
			if (!o->arch)
				return EXIT_USAGE;
			break;
		case 'S': o->asan = true; break;
		case 'k': o->kernel_path = optarg; break;
		case 'K': o->kernel_version = optarg; break;
		case 'F': o->flavour = optarg; break;
		case 'j':
			o->jobs = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !o->jobs || o->jobs > 1024)
				return pr_err("invalid -j `%s`", optarg), EXIT_USAGE;
			break;
		case 'A': o->artifacts = optarg; break;
		case 'f': o->force = true; break;
		case 'T':
			if (strcmp(optarg, "root") && strcmp(optarg, "host"))
				return pr_err("--toolchain: root or host, not `%s`", optarg), EXIT_USAGE;
			o->host_toolchain = !strcmp(optarg, "host");
			break;
		case 'h':
			usage_fn(stdout);
			return EXIT_OK;
		default:
			usage_fn(stderr);
			return EXIT_USAGE;
		}
	}
	if (o->kernel_path && o->kernel_version)
		return pr_err("--kernel and --kernel-version exclude each other"), EXIT_USAGE;
	if (!o->arch->kbuild_arch)
		return pr_err("kta cannot build for %s (no kbuild row in host/base/arch.c)", o->arch->name), EXIT_USAGE;
	return -1;
}

int cmd_selftests(int argc, char **argv)
{
	static const char *const verbs[] = { "build", "list", NULL };
	struct st_opts o = { .arch = arch_default(), .progress = isatty(2) };
	struct st_result res;
	const char *verb = argc > 1 ? argv[1] : NULL;
	int err = cmd_verb("selftests", verb, verbs, usage);

	if (err >= 0)
		return err;
	err = st_parse_opts(argc - 1, argv + 1, &o, usage);
	if (err >= 0)
		return err;
	err = cmd_no_more_args(argc - 1, argv + 1, optind, usage);
	if (err >= 0)
		return err;
	if (!strcmp(verb, "list"))
		o.quiet = true;
	err = st_build(&o, &res);
	if (err) {
		if (err == -EINTR)
			pr_err("interrupted; nothing was added to the cache");
		else if (res.artifacts[0] && kbuild_exit_code(err) == EXIT_BOOT_FAILED)
			pr_err("selftests build failed; logs in %s", res.artifacts);
		return kbuild_exit_code(err);
	}
	if (!strcmp(verb, "list")) {
		cleanup_buf struct buf names = { 0 };

		if (st_test_names(&res, &names) || !names.data)
			return pr_err("the entry %s has no test list", res.dir), EXIT_INFRA;
		fputs(names.data, stdout);
		return EXIT_OK;
	}
	if (!res.cached)
		pr_info("built selftests (key %.12s) in %llu:%02llu for %s: %s", res.key,
			(unsigned long long)(res.build_ms / 60000), (unsigned long long)(res.build_ms / 1000 % 60),
			res.kernel_desc, res.dir);
	printf("%s\n", res.dir);
	return EXIT_OK;
}
