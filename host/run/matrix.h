/* `kta run --arch all` (or a list): the same run on several guest
 * architectures, as many at once as cores and memory allow, each a `kta
 * run` child process with its own artifacts directory, and one table at
 * the end from each child's results.json: architecture by suite, with
 * pass/fail/skip counts and times. The matrix consumes runs' results, as
 * validate and bisect do; it never calls back into the run.
 */
#ifndef KTA_MATRIX_H
#define KTA_MATRIX_H

#include <stdio.h>

#include "base/arch.h"

struct matrix_opts {
	const struct arch_profile *arches[16];
	unsigned int narches;
	unsigned int jobs;       /* 0: from cores and memory */
	unsigned int smp;        /* vCPUs per guest */
	unsigned int memory_mb;  /* per guest, 0: each arch's default */
	const char *dir;         /* artifacts root; NULL: kta-out/<time>-matrix */
	const char *self;        /* the kta to run */
	char *const *args;       /* the user's `kta run` arguments, less those the matrix sets */
	unsigned int nargs;
};

/* "all", or a comma-separated list of names and aliases. */
int matrix_parse_arches(const char *list, struct matrix_opts *m);
int matrix_run(const struct matrix_opts *m);

/* Whether `kta run` argument argv[i] is one the matrix sets for each
 * child (--arch, --jobs, --artifacts, --json, --junit): 0 no, else how
 * many words it takes (1 for --opt=value, 2 for --opt value). */
int matrix_own_arg(char *const *argv, int i, int argc);

#endif
