/* Fuzz target: a validate cell's result file (it may come back from another
 * machine's CI job), parsed and merged with itself (the second copy is a
 * duplicate cell that must be named, not counted). */
#include "validate/validate.h"
#include "validate/verdict.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict_rule rule = { .alpha = 0.05, .margin = 0.05, .looks = 1 };
	char *s = malloc(size ? size : 1);
	struct vresult r[2];
	struct vmerged m;
	char err[128];

	if (!s)
		return 0;
	memcpy(s, data, size);
	if (vresult_parse(s, size, &r[0], err, sizeof(err)) == 0) {
		r[1] = r[0];
		if (validate_merge(r, 2, &rule, &m) == 0) {
			if (m.duplicates != 1)
				abort();
			vmerged_free(&m);
		}
		vresult_free(&r[0]);
	}
	free(s);
	return 0;
}
