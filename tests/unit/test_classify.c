/* Judgement of a whole run's tests from what happened in it (classify.h). */
#include <stdlib.h>
#include <string.h>

#include "run/classify.h"
#include "unit.h"

static void test_splat_in_xfail(void)
{
	struct test_result t[3];
	struct splat_event e[2];
	struct run_result r = { .tests = t, .ntests = 3, .splats = e, .nsplats = 2 };

	memset(t, 0, sizeof(t));
	memset(e, 0, sizeof(e));
	for (unsigned int i = 0; i < 3; i++)
		t[i].num = i + 1;
	/* Test 1: the expected failure (a LeakSanitizer-rewritten exit). */
	t[0].outcome = OUT_XFAIL;
	snprintf(t[0].expect, sizeof(t[0].expect), "sanitizer-exit-override");
	t[1].outcome = OUT_PASS;
	t[2].outcome = OUT_PASS;
	e[0] = (struct splat_event){ .kind = SPLAT_WARN, .test = 1 };
	snprintf(e[0].line, sizeof(e[0].line), "WARNING: CPU: 0 PID: 1 at net/core/skmsg.c:1");
	e[1] = (struct splat_event){ .kind = SPLAT_WARN, .test = 2 };
	snprintf(e[1].line, sizeof(e[1].line), "WARNING: CPU: 1 PID: 2 at kernel/bpf/x.c:2");
	classify_splats(&r);
	classify_test(&t[0]);
	CHECK(t[0].outcome == OUT_FAIL, "a kernel WARN during an XFAIL test fails it");
	CHECK(strstr(t[0].reason, "WARNING: CPU: 0") && strstr(t[0].reason, "sanitizer-exit-override"),
	      "and says both");
	CHECK(t[1].outcome == OUT_FAIL, "a WARN during a passing test fails it");
	CHECK(t[2].outcome == OUT_PASS, "a test with no splat is left alone");
	CHECK(run_result_exit_code(&r) == EXIT_TEST_FAILED,
	      "the run is a failure");
}

int main(void)
{
	test_splat_in_xfail();
	return unit_done();
}
