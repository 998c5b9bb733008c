/* Kernel configuration check for the sockmap suite: see kconfig.h. */
#include "kconfig.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PROC_CONFIG "/proc/config.gz"

/* gzopen() reads plain files too (transparent mode). */
static gzFile open_config(const char **source)
{
	const char *env = getenv("KTA_KERNEL_CONFIG");
	gzFile f = gzopen(PROC_CONFIG, "rb");

	if (f) {
		*source = PROC_CONFIG;
		return f;
	}
	if (env && *env) {
		f = gzopen(env, "rb");
		if (f)
			*source = env;
	}
	return f;
}

/* "CONFIG_FOO=y" or "=m": the option is there. "# CONFIG_FOO is not set"
 * and options missing from the file are not. */
static bool line_enables(const char *line, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(line, name, n) && line[n] == '=' && (line[n + 1] == 'y' || line[n + 1] == 'm');
}

int kconfig_check(const char *const *required, size_t n, const char **missing,
		  const char **source)
{
	char line[4096];
	bool *found;
	gzFile f;
	int err = 0;

	*missing = NULL;
	*source = NULL;
	f = open_config(source);
	if (!f)
		return errno == ENOENT || !errno ? -ENOENT : -errno;
	found = calloc(n ? n : 1, sizeof(*found));
	if (!found) {
		gzclose(f);
		return -ENOMEM;
	}
	while (gzgets(f, line, sizeof(line))) {
		if (strncmp(line, "CONFIG_", 7))
			continue;
		for (size_t i = 0; i < n; i++)
			found[i] = found[i] || line_enables(line, required[i]);
	}
	if (!gzeof(f)) {
		int zerr;

		gzerror(f, &zerr);
		err = zerr == Z_ERRNO ? -errno : -EIO;
	}
	for (size_t i = 0; !err && i < n; i++) {
		if (!found[i]) {
			*missing = required[i];
			err = 1;
		}
	}
	free(found);
	gzclose(f);
	return err;
}
