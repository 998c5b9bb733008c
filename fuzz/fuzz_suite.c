/* Fuzz target: suite manifests and the ELF dependency reader. */
#include "guest/libs.h"
#include "guest/suite.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1), err[256];
	struct test_spec *specs = NULL;
	struct elf_deps d;
	unsigned int n = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	suite_parse(s, size, "/base", &specs, &n, err, sizeof(err));
	free(specs);
	elf_deps_parse(s, size, &d);
	free(s);
	return 0;
}
