/* What every `kta CMD VERB [options]` does the same way (cmd.h). */
#include "cmd.h"
#include "log.h"
#include "results.h"
#include "util.h"

#include <string.h>

int cmd_verb(const char *cmd, const char *verb, const char *const *verbs, void (*usage)(FILE *))
{
	cleanup_buf struct buf expected = { 0 };
	size_t n = 0;

	if (!verb || !strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) {
		usage(verb ? stdout : stderr);
		return verb ? EXIT_OK : EXIT_USAGE;
	}
	for (n = 0; verbs[n]; n++)
		if (!strcmp(verb, verbs[n]))
			return -1;
	for (size_t i = 0; i < n; i++)
		buf_printf(&expected, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", verbs[i]);
	pr_err("unknown `kta %s` command `%s` (expected %s)", cmd, verb, expected.data ? expected.data : "");
	usage(stderr);
	return EXIT_USAGE;
}

int cmd_no_more_args(int argc, char **argv, int first, void (*usage)(FILE *))
{
	if (first >= argc)
		return -1;
	pr_err("unexpected argument `%s`", argv[first]);
	if (usage)
		usage(stderr);
	return EXIT_USAGE;
}
