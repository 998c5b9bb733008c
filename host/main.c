/* kta: the kernel test appliance. Subcommands dispatch from one table. */
#include "cmd/cmd.h"
#include "base/log.h"
#include "run/results.h"

#include <stdio.h>
#include <string.h>

#define KTA_VERSION "0.1"

static int cmd_help(int argc, char **argv);

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("kta %s\n", KTA_VERSION);
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "boot a kernel and run tests in it" },
	{ "kernel", cmd_kernel, "fetch, list or build kernels (kernel fetch|list|build)" },
	{ "patches", cmd_patches, "apply a patch series to a kernel tree, one status per patch (patches apply|check)" },
	{ "source", cmd_source, "fetch or list Debian source packages, e.g. libbpf (source fetch|list)" },
	{ "arch", cmd_arch, "the guest architectures; the sysroot of one (arch list|show|make|sysroot)" },
	{ "selftests", cmd_selftests, "build the kernel's BPF selftests for a kernel (selftests build|list)" },
	{ "toolchain", cmd_toolchain, "the toolchain root the BPF selftests build in (toolchain root|info|run)" },
	{ "bisect", cmd_bisect, "find the first Debian kernel that fails (or passes) a test, with the confidence" },
	{ "validate", cmd_validate, "run tests without and with a patch series on each arch and judge each" },
	{ "cache", cmd_cache, "what kta's cache holds, and pruning it (cache list|prune)" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "this list" },
};

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("usage: kta COMMAND [options]   (kta COMMAND --help for its options)\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	printf("\nenvironment: KTA_CACHE (cache dir, default ~/.cache/kta), "
	       "KTA_LOG=error|warn|info|debug\n");
	return 0;
}

int main(int argc, char **argv)
{
	log_init_from_env();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		cmd_help(0, NULL);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL);
	pr_err("unknown command `%s` (try `kta help`)", argv[1]);
	return EXIT_USAGE;
}
