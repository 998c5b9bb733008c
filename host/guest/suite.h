/* Test specifications: from --test PATH, or from a suite manifest
 * (guest-tests/<suite>/suite.txt, installed next to the suite's binaries):
 *
 *   # comment
 *   name  binary  [timeout=S] [arg=X]... [env=K=V]... [expect=OUTCOME] [requires=asan]
 *
 * binary is relative to the manifest's directory. expect names the one
 * failure the test is known to show (e.g. sanitizer-exit-override): that
 * failure is then reported as XFAIL, and a pass as an unexpected pass.
 * requires names what the guest architecture must support (asan): where
 * its profile says it cannot, the test is skipped with the profile's
 * reason instead of being run.
 */
#ifndef KTA_SUITE_H
#define KTA_SUITE_H

#include <limits.h>
#include <stddef.h>

#define SPEC_MAX_ARGS 16
#define SPEC_MAX_ENV 16

struct test_spec {
	char name[128];
	char path[PATH_MAX];
	char args[SPEC_MAX_ARGS][128];
	unsigned int nargs;
	char env[SPEC_MAX_ENV][256];
	unsigned int nenv;
	unsigned int timeout_s; /* 0: the run's default */
	char expect[64];
	char requires[16];
	char suite[32];         /* the manifest's directory name; "" for --test */
};

/* Pure: parse manifest text. Appends to *specs (realloc'd), *n updated.
 * On error returns -EINVAL with a message naming the line in err. */
int suite_parse(const char *text, size_t len, const char *basedir, struct test_spec **specs,
		unsigned int *n, char *err, size_t errsz);
int suite_load(const char *path, struct test_spec **specs, unsigned int *n);
/* A spec for a bare --test PATH. */
int spec_from_path(const char *path, struct test_spec *s);

#endif
