/* Fuzz target: test_progs' output lines (what the agent turns into subtest
 * results) and the subtest markers on the console. */
#include "run/splat.h"
#include "selftests/tprogs.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size heap copy: an over-read is an ASAN report. */
	char *s = malloc(size ? size : 1);
	struct tp_line tp;
	unsigned int n, m;

	if (!s)
		return 0;
	memcpy(s, data, size);
	tprogs_parse(s, size, &tp);
	if (tp.kind != TP_NONE && strlen(tp.name) >= sizeof(tp.name))
		abort();
	marker_parse_sub(s, size, &n, &m);
	free(s);
	return 0;
}
