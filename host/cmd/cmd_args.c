/* What every `kta CMD VERB [options]` does the same way (cmd.h). */
#include "cmd/cmd.h"

#include <errno.h>
#include "base/log.h"
#include "run/results.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int cmd_parse_uint(const char *opt, const char *s, unsigned int *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 1000000) {
		pr_err("%s: `%s` is not a number", opt, s);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

int cmd_parse_prob(const char *opt, const char *s, double max, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || !(v > 0 && v < max))
		return pr_err("%s: `%s` is not a number between 0 and %g", opt, s, max), -EINVAL;
	*out = v;
	return 0;
}
