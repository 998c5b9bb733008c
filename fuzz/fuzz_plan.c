/* Fuzz target: the agent's reader of the test plan (rootfs/agent_plan.c,
 * host/run/plan.h), and each test's environment built from it. */
#include "agent_plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct plan pl;

	if (!s)
		return 0;
	memcpy(s, data, size);
	memset(&pl, 0, sizeof(pl));
	plan_parse(&pl, s, size, NULL, NULL);
	for (size_t i = 0; i < pl.ntests; i++) {
		char **owned = NULL, **env = plan_env(&pl, &pl.tests[i], &owned);

		for (size_t j = 0; owned && owned[j]; j++)
			free(owned[j]);
		free(owned);
		free(env);
	}
	plan_free(&pl);
	free(s);
	return 0;
}
