/* Writing a run's results: KTAP on stdout with a summary, JSON, JUnit XML,
 * and the per-test output files of the artifacts directory.
 */
#ifndef KTA_REPORT_H
#define KTA_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "guest/image.h"
#include "run/results.h"

struct report_meta {
	const char *arch;
	const char *kernel_image;
	const char *kernel_version;
	const char *kernel_sha256;
	const char *kernel_source;
	const char *boot;         /* "pvh" (kernel/kpvh.h) or "image": what -kernel was */
	const char *artifacts;
	bool verbose;             /* show passing tests' output too */
	const char *stress;       /* --stress, as given, or NULL */
	unsigned int smp, memory_mb;
	const char *tcg_thread;   /* "single" or "multi" under TCG with 2+ vCPUs, else NULL */
	const struct image *image; /* --image, or NULL */
	double image_pull_s;
};

void report_ktap(FILE *f, const struct run_result *r, const struct report_meta *m);
void report_summary(FILE *f, const struct run_result *r, const struct report_meta *m);
int report_json(const char *path, const struct run_result *r, const struct report_meta *m);
int report_junit(const char *path, const struct run_result *r, const struct report_meta *m);
int report_test_logs(const char *dir, const struct run_result *r);
/* A JSON string (jansson) of any bytes: invalid UTF-8 becomes U+FFFD. */
json_t *report_jtext(const char *s, size_t len);
/* s as XML character data or attribute text, appended to b. */
void report_xml_str(struct buf *b, const char *s, size_t len);

#endif
