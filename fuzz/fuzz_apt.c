/* Fuzz target: the system's apt sources, both formats (apt_sources.c):
 * what kta reads to find the archive it fetches from. */
#include "apt/apt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[512];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	apt_uri_from_deb822(s, out, sizeof(out));
	apt_uri_from_list(s, out, sizeof(out));
	apt_uri_from_deb822(s, out, 8);
	free(s);
	return 0;
}
