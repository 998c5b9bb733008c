/* `kta run --arch all` (or a list): the same run on several guest
 * architectures, as many at once as cores and memory allow, each in a
 * child process with its own artifacts directory, and one table at the
 * end: architecture by suite, with pass/fail/skip counts and times.
 */
#ifndef KTA_MATRIX_H
#define KTA_MATRIX_H

#include <stdio.h>

#include "base/arch.h"

/* Runs one architecture in a child process. Writes its results to fd as
 * lines (matrix_report_*), its report to stdout (a log file), and returns
 * the run's exit code. */
typedef int (*matrix_run_fn)(const struct arch_profile *arch, const char *artifacts, int fd, void *ctx);

struct matrix_opts {
	const struct arch_profile *arches[16];
	unsigned int narches;
	unsigned int jobs;       /* 0: from cores and memory */
	unsigned int smp;        /* vCPUs per guest */
	unsigned int memory_mb;  /* per guest, 0: each arch's default */
	const char *dir;         /* artifacts root; NULL: kta-out/<time>-matrix */
};

/* "all", or a comma-separated list of names and aliases. */
int matrix_parse_arches(const char *list, struct matrix_opts *m);
int matrix_run(const struct matrix_opts *m, matrix_run_fn fn, void *ctx);

/* For fn: one line per test, then one for the run. */
void matrix_report_test(int fd, const char *suite, const char *outcome, unsigned int duration_ms);
void matrix_report_run(int fd, const char *kernel, unsigned long long first_result_ms,
		       unsigned long long total_ms);

#endif
