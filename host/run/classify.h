/* Test-level judgement from what a test printed: measurement rates, and
 * failures that are the sanitizer's doing rather than the test's. Pure
 * functions over one test_result, unit-tested.
 */
#ifndef KTA_CLASSIFY_H
#define KTA_CLASSIFY_H

#include "run/results.h"
#include "base/stats.h"

/* Refine a finished test's outcome:
 * - "kta-rate: failures=F iterations=N" makes it a measurement (rate + CI);
 * - a failure whose "kta-child: pid=P status=1 assertions_failed=0" child
 *   has a LeakSanitizer report becomes OUT_SAN_OVERRIDE;
 * - an AddressSanitizer/UBSan error report fails a passing test;
 * - the manifest's expectation turns the expected failure into OUT_XFAIL,
 *   and anything else into a failure that says what was expected. */
void classify_test(struct test_result *t);

/* Append a san frame's payload ("N file\n" already stripped) to t->san. */
void san_append(struct test_result *t, const char *file, const char *data, size_t len);

/* Kernel splats onto the tests (and subtests) they came in: a passing,
 * skipped or expected-failure (XFAIL) test fails with the kernel's line. */
void classify_splats(struct run_result *res);

#endif
