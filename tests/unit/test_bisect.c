/* The bisect statistics: Wald's SPRT for a step, the posterior of the
 * first bad version. Reference values: the posteriors were computed with
 * Python's fractions module by the direct product over every candidate b
 * (sum over b of prod_i r_i^f_i (1 - r_i)^(n_i - f_i), exact rationals,
 * no logs), the bounds with math.log; the Jeffreys estimate is (f + 1/2)
 * / (n + 1) by hand.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bisect/bisect.h"
#include "bisect/bisect_stats.h"
#include "unit.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static void test_sprt(void)
{
	struct sprt s;

	CHECK(sprt_init(&s, 0.2, 0.1, 0.05, 0.05) == -EINVAL, "p0 above p1: refused");
	CHECK(sprt_init(&s, 0, 0.5, 0.05, 0.05) == -EINVAL, "p0 = 0: refused (one failure would be infinite)");
	CHECK(sprt_init(&s, 0.1, 0.9, 0.5, 0.05) == -EINVAL, "alpha 0.5: refused");

	CHECK(sprt_init(&s, 1.0 / 12, 11.0 / 12, 0.05, 0.05) == 0, "p0 1/12, p1 11/12");
	CHECK(NEAR(s.upper, 2.9444389791664403, 1e-12) && NEAR(s.lower, -2.9444389791664403, 1e-12),
	      "Wald's bounds at alpha = beta = 0.05: +-log(19)");
	/* log(19)/log(11) = 1.2279: two agreeing runs decide. */
	CHECK_EQ_INT(sprt_min_runs(&s), 2, "a near-deterministic test: 2 runs decide a step");
	CHECK(sprt_add(&s, 1, 1) == SPRT_CONTINUE, "one failure does not");
	CHECK(sprt_add(&s, 1, 1) == SPRT_BAD, "two failures: bad");
	CHECK(sprt_init(&s, 1.0 / 12, 11.0 / 12, 0.05, 0.05) == 0 && sprt_add(&s, 2, 0) == SPRT_GOOD,
	      "two passes: good");
	CHECK(sprt_init(&s, 1.0 / 12, 11.0 / 12, 0.05, 0.05) == 0 && sprt_add(&s, 4, 2) == SPRT_CONTINUE,
	      "2 of 4: still open (the evidence cancels)");

	/* A 20% flake against a 2% floor: a pass moves log(0.8/0.98), a
	 * failure log(10). Good needs log(1/19)/log(0.8/0.98) = 14.51 passes,
	 * bad 1.28 failures. */
	CHECK(sprt_init(&s, 0.02, 0.2, 0.05, 0.05) == 0, "p0 0.02, p1 0.2");
	CHECK_EQ_INT(sprt_min_runs(&s), 2, "the first batch: as many runs as the quicker decision needs");
	CHECK(sprt_add(&s, 14, 0) == SPRT_CONTINUE, "14 passes: not yet good");
	CHECK(sprt_add(&s, 1, 0) == SPRT_GOOD, "15 passes: good");
	CHECK(s.runs == 15 && s.fails == 0, "runs counted");
	CHECK(sprt_init(&s, 0.02, 0.2, 0.05, 0.05) == 0 && sprt_add(&s, 10, 2) == SPRT_BAD,
	      "2 failures in 10: bad (2 log 10 + 8 log(0.8/0.98) = 2.98 > 2.94)");
}

static void test_rate(void)
{
	CHECK(NEAR(rate_estimate(0, 5), 0.5 / 6, 1e-15), "0/5: 1/12, not 0");
	CHECK(NEAR(rate_estimate(5, 5), 5.5 / 6, 1e-15), "5/5: 11/12, not 1");
	CHECK(NEAR(rate_estimate(8, 40), 8.5 / 41, 1e-15), "8/40");
}

static void test_posterior(void)
{
	unsigned long n1[] = { 5, 2, 2, 0, 5 }, f1[] = { 0, 0, 2, 0, 5 };
	unsigned long n2[] = { 40, 10, 0, 20, 0, 10, 0, 0, 40 }, f2[] = { 1, 0, 0, 5, 0, 3, 0, 0, 9 };
	unsigned long n3[] = { 3, 0, 3 }, f3[] = { 0, 0, 3 };
	double post[9];
	struct bisect_obs o1 = { 4, n1, f1 }, o2 = { 8, n2, f2 }, o3 = { 2, n3, f3 };

	CHECK(bisect_posterior(&o1, 1.0 / 12, 11.0 / 12, post) == 0, "posterior, near-deterministic");
	CHECK(NEAR(post[1], 0.008064516129032258, 1e-12) && NEAR(post[2], 0.9758064516129032, 1e-12) &&
		      NEAR(post[3], 0.008064516129032258, 1e-12) && NEAR(post[4], 0.008064516129032258, 1e-12),
	      "passes at 1, fails at 2, 3 untested: b = 2 with 0.9758 (fractions: 121/124)");

	CHECK(bisect_posterior(&o2, 1.0 / 50, 1.0 / 5, post) == 0, "posterior, a 20% flake");
	CHECK(NEAR(post[1], 0.06164323016054292, 1e-12) && NEAR(post[2], 0.46907930721426283, 1e-12) &&
		      NEAR(post[3], 0.46907930721426283, 1e-12) && NEAR(post[4], 9.846629694685755e-05, 1e-15) &&
		      NEAR(post[8], 4.076056792441396e-07, 1e-18),
	      "an untested version beside the boundary splits the posterior: 0.469 each");

	CHECK(bisect_posterior(&o3, 0.1, 0.9, post) == 0 && NEAR(post[1], 0.5, 1e-15) && NEAR(post[2], 0.5, 1e-15),
	      "nothing between good and bad but an untested version: 1/2 each");

	{
		/* 300 runs at each end: the logs keep it finite. */
		unsigned long n4[] = { 300, 300, 300 }, f4[] = { 0, 0, 300 };
		struct bisect_obs o4 = { 2, n4, f4 };

		CHECK(bisect_posterior(&o4, 0.01, 0.99, post) == 0 && NEAR(post[2], 1.0, 1e-12) && post[1] < 1e-100,
		      "hundreds of runs: no underflow to 0/0");
	}
	CHECK(bisect_posterior(&(struct bisect_obs){ 0, n3, f3 }, 0.1, 0.9, post) == -EINVAL, "m = 0: refused");
}

/* A boot of 5 rounds whose kernel panicked in the 3rd: rounds 1-2
 * passed, 3 failed, 4-5 never started and count neither way. */
static void test_rounds(void)
{
	static const char json[] =
		"{\"kernel\": {\"version\": \"7.3.4\"}, \"times_ms\": {\"agent_hello\": 900}, \"tests\": ["
		"{\"name\": \"t#1\", \"outcome\": \"pass\", \"started\": true},"
		"{\"name\": \"t#2\", \"outcome\": \"pass\", \"started\": true},"
		"{\"name\": \"t#3\", \"outcome\": \"kernel-panic\", \"started\": true},"
		"{\"name\": \"t#4\", \"outcome\": \"error\", \"started\": false},"
		"{\"name\": \"t#5\", \"outcome\": \"error\", \"started\": false}]}";
	char path[] = "/tmp/kta-test-rounds.XXXXXX";
	struct bisect_sel s = { 0 };
	struct bisect_boot b = { 0 };
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(f && fputs(json, f) >= 0 && fclose(f) == 0, "results.json written");
	CHECK(bisect_read_rounds(path, &s, 5, &b) == 0, "read");
	CHECK(b.runs == 3 && b.fails == 1 && b.skips == 0 && b.booted,
	      "a kernel panic in round 3 of 5: 3 rounds, 1 failed; the 2 never started are not failures");
	unlink(path);
}

int main(void)
{
	test_rounds();
	test_sprt();
	test_rate();
	test_posterior();
	return unit_done();
}
