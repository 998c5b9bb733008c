/* Fuzz target: KTAP result lines, key=value facts, console lines. */
#include "base/kv.h"
#include "base/ktap.h"
#include "run/splat.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size heap copy: an over-read is an ASAN report. */
	char *s = malloc(size ? size : 1);
	struct ktap_line k;
	char v[32], name[64];
	unsigned int num;

	if (!s)
		return 0;
	memcpy(s, data, size);
	ktap_parse_result(s, size, &k);
	kv_get(s, size, "status", v, sizeof(v));
	kv_get(s, size, "reason", v, 1);
	splat_classify(s, size);
	marker_parse(s, size, &num);
	free(s);
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ktap_sanitize_name(s, name, sizeof(name));
	free(s);
	return 0;
}
