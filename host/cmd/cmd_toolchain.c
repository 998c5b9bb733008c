/* `kta toolchain`: the toolchain root the BPF selftests are built with
 * (troot.h): make it (once) and print where it is, say what it is, or run
 * a command in it (a shell, for a developer reproducing a build by hand).
 */
#include "base/arch.h"
#include "cmd/cmd.h"
#include "base/log.h"
#include "run/results.h"
#include "base/spawn.h"
#include "toolchain/troot.h"
#include "base/util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta toolchain root [--arch A]... [--suite S] [--llvm N]\n"
		"       kta toolchain info [--arch A]... [--suite S] [--llvm N]\n"
		"       kta toolchain run [--arch A]... [--suite S] [--llvm N] [--bind DIR]... -- CMD [ARG...]\n"
		"\n"
		"The toolchain root: Debian %s with clang-%s, gcc, pahole and the cross compilers\n"
		"of the arches asked for (arm64 always), made once with mmdebstrap from the archive of\n"
		"the system's apt sources (never changing them) into $KTA_CACHE/toolchains/. kta builds\n"
		"the BPF selftests and their kernels in it, through bubblewrap.\n"
		"\n"
		"  root    make it if needed; print its directory\n"
		"  info    what it is: suite, packages, versions, size, how long it took to make\n"
		"  run     run CMD inside it (the kta cache and each --bind DIR at their own paths)\n"
		"\n"
		"  --suite S   Debian suite (default %s, or $KTA_TOOLCHAIN_SUITE)\n"
		"  --llvm N    clang/LLVM major version (default %s, or $KTA_TOOLCHAIN_LLVM)\n"
		"\n"
		"Exit: 0; 128 bad input; 200 the root cannot be made (mmdebstrap's output is shown).\n",
		TROOT_DEFAULT_SUITE, TROOT_DEFAULT_LLVM, TROOT_DEFAULT_SUITE, TROOT_DEFAULT_LLVM);
}

int cmd_toolchain(int argc, char **argv)
{
	static const char *const verbs[] = { "root", "info", "run", NULL };
	static const struct option longopts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "suite", required_argument, NULL, 's' },
		{ "llvm", required_argument, NULL, 'l' },
		{ "bind", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct arch_profile *arches[16];
	const char *binds[17] = { 0 };
	struct troot_opts o = { .arches = arches };
	struct troot r;
	size_t nbinds = 0;
	const char *verb = argc > 1 ? argv[1] : NULL;
	int c, err = cmd_verb("toolchain", verb, verbs, usage);

	if (err >= 0)
		return err;
	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "+a:s:l:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (o.narches == ARRAY_SIZE(arches))
				return pr_err("too many --arch"), EXIT_USAGE;
			arches[o.narches] = arch_from_arg(optarg);
			if (!arches[o.narches++])
				return EXIT_USAGE;
			break;
		case 's':
			o.suite = optarg;
			break;
		case 'l':
			o.llvm = optarg;
			break;
		case 'b':
			if (nbinds + 1 == ARRAY_SIZE(binds) || optarg[0] != '/')
				return pr_err("--bind `%s`: an absolute directory (at most 16)", optarg), EXIT_USAGE;
			binds[nbinds++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc--;
	argv++;
	if (strcmp(verb, "run")) {
		err = cmd_no_more_args(argc, argv, optind, usage);
		if (err >= 0)
			return err;
	} else if (optind >= argc) {
		pr_err("kta toolchain run: no command (kta toolchain run -- sh)");
		return EXIT_USAGE;
	}
	err = troot_ensure(&o, &r);
	if (err)
		return err == -EINVAL ? EXIT_USAGE : err == -EINTR ? EXIT_INTERRUPTED : EXIT_INFRA;
	if (!strcmp(verb, "root")) {
		printf("%s\n", r.root);
		return EXIT_OK;
	}
	if (!strcmp(verb, "info")) {
		cleanup_free char *path = path_join(r.dir, "toolchain.info");
		cleanup_buf struct buf info = { 0 };

		if (!path || read_file(path, &info, 64 << 10) < 0 || !info.data)
			return pr_err("cannot read %s/toolchain.info", r.dir), EXIT_INFRA;
		printf("dir=%s\n%s", r.dir, info.data);
		return EXIT_OK;
	}
	{
		char **pre;
		int st;

		err = troot_prepare_binds(&r, binds);
		if (err)
			return pr_err("cannot prepare the binds: %s", strerror(-err)), EXIT_INFRA;
		pre = troot_prefix(&r, binds);
		if (!pre)
			return EXIT_INFRA;
		/* The command's output is the user's: straight to the terminal. */
		st = spawn_run(argv + optind, &(struct spawn_opts){ .output = SPAWN_TO_FD, .out_fd = 1, .prefix = pre, .keep_stdin = true },
			       NULL);
		troot_argv_free(pre);
		return st < 0 ? EXIT_INFRA : st;
	}
}
