/* The judgement of a whole run, in one place: pure functions from the
 * facts the session recorded to outcomes, unit-tested and fuzzed.
 */
#ifndef KTA_CLASSIFY_H
#define KTA_CLASSIFY_H

#include "run/results.h"
#include "base/stats.h"

/* A test's outcome and reason, from its facts (raw result, output,
 * sanitizer logs, splat, expectation); its subtests' likewise. The same
 * facts give the same answer however often it is asked:
 * - "kta-rate: failures=F iterations=N" makes it a measurement (rate + CI);
 * - a failure whose "kta-child: pid=P status=1 assertions_failed=0" child
 *   has a LeakSanitizer report becomes OUT_SAN_OVERRIDE;
 * - an AddressSanitizer/UBSan error report fails a passing test;
 * - the manifest's expectation turns the expected failure into OUT_XFAIL,
 *   and anything else into a failure that says what was expected;
 * - a kernel splat during it fails a pass, a skip or an XFAIL. */
void classify_test(struct test_result *t);

/* The whole run: its status from f, the tests without a result (not run,
 * timed out, panicked), the splats onto their tests and subtests, then
 * every test (classify_test). */
void classify_run(const struct run_facts *f, struct run_result *res);

/* Append a san frame's payload ("N file\n" already stripped) to t->san. */
void san_append(struct test_result *t, const char *file, const char *data, size_t len);

#endif
