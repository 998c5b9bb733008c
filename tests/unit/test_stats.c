/* The statistics behind `kta validate` (stats.h, verdict.h), against values
 * published or computed independently of this code:
 *  - normal quantiles: any table of the standard normal (1.959964 for
 *    0.975, 1.644854 for 0.95);
 *  - Wilson intervals: R. G. Newcombe, "Two-sided confidence intervals for
 *    the single proportion: comparison of seven methods", Statistics in
 *    Medicine 17 (1998) 857-872, Table II, method 3 (81/263, 15/148, 0/20,
 *    1/29);
 *  - intervals for a difference: R. G. Newcombe, "Interval estimation for
 *    the difference between independent proportions: comparison of eleven
 *    methods", Statistics in Medicine 17 (1998) 873-890, Table II, method 10;
 *  - Fisher's exact test: R's fisher.test documentation, the TeaTasting
 *    example (alternative "greater": p = 0.2429), and 1/C(2n, n) for n/n
 *    against 0/n, by hand.
 */
#include <math.h>

#include "base/stats.h"
#include "unit.h"
#include "validate/verdict.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static void test_quantile(void)
{
	CHECK(NEAR(normal_quantile(0.975), 1.959964, 1e-6), "z(0.975) = 1.959964");
	CHECK(NEAR(normal_quantile(0.95), 1.644854, 1e-6), "z(0.95) = 1.644854");
	CHECK(NEAR(normal_quantile(0.5), 0, 1e-9), "z(0.5) = 0");
	CHECK(NEAR(normal_quantile(0.00625), -2.4977, 1e-4), "z(0.00625) = -2.4977");
}

static void test_wilson(void)
{
	double lo, hi;

	wilson95(81, 263, &lo, &hi);
	CHECK(NEAR(lo, 0.2553, 5e-5) && NEAR(hi, 0.3662, 5e-5), "81/263: 0.2553 to 0.3662 (Newcombe 1998a)");
	wilson95(15, 148, &lo, &hi);
	CHECK(NEAR(lo, 0.0624, 5e-5) && NEAR(hi, 0.1605, 5e-5), "15/148: 0.0624 to 0.1605");
	wilson95(0, 20, &lo, &hi);
	CHECK(lo == 0 && NEAR(hi, 0.1611, 5e-5), "0/20: 0 to 0.1611");
	wilson95(1, 29, &lo, &hi);
	CHECK(NEAR(lo, 0.0061, 5e-5) && NEAR(hi, 0.1718, 5e-5), "1/29: 0.0061 to 0.1718");
	wilson95(5, 0, &lo, &hi);
	CHECK(lo == 0 && hi == 1, "no runs: anything");
}

static void test_newcombe(void)
{
	const double z = 1.959963984540054;
	double lo, hi;

	newcombe(56, 70, 48, 80, z, &lo, &hi);
	CHECK(NEAR(lo, 0.0524, 5e-5) && NEAR(hi, 0.3339, 5e-5), "56/70 - 48/80: 0.0524 to 0.3339 (Newcombe 1998b)");
	newcombe(9, 10, 3, 10, z, &lo, &hi);
	CHECK(NEAR(lo, 0.1705, 5e-5) && NEAR(hi, 0.8090, 5e-5), "9/10 - 3/10: 0.1705 to 0.8090");
	newcombe(0, 10, 0, 20, z, &lo, &hi);
	CHECK(NEAR(lo, -0.1611, 5e-5) && NEAR(hi, 0.2775, 5e-5), "0/10 - 0/20: -0.1611 to 0.2775");
	newcombe(10, 10, 0, 20, z, &lo, &hi);
	CHECK(NEAR(lo, 0.6791, 5e-5) && NEAR(hi, 1, 5e-5), "10/10 - 0/20: 0.6791 to 1");
}

static void test_fisher(void)
{
	struct fisher f;

	fisher_exact(3, 4, 1, 4, &f);
	CHECK(NEAR(f.less, 0.2429, 5e-5), "TeaTasting, one-sided: 0.2429 (R's fisher.test)");
	fisher_exact(4, 4, 0, 4, &f);
	CHECK(NEAR(f.less, 1.0 / 70, 1e-12), "4/4 against 0/4: 1/70");
}

static void test_verdicts(void)
{
	struct verdict_rule once = { .alpha = 0.05, .margin = 0.05, .looks = 1 };
	struct verdict_rule eight = { .alpha = 0.05, .margin = 0.05, .looks = 8 };
	unsigned int ns[16];
	struct verdict v;

	verdict_judge(&once, 10, 10, 0, 10, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "fixed", "10/10 then 0/10: fixed");
	CHECK(NEAR(v.p_fixed, 1.0 / 184756, 1e-12), "p = 1/C(20,10)");
	verdict_judge(&once, 0, 10, 10, 10, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "regressed", "0/10 then 10/10: regressed");
	verdict_judge(&once, 0, 10, 0, 10, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "inconclusive", "0/10 then 0/10: inconclusive");
	/* The 90% interval of 0/n - 0/n is +-z^2/(n + z^2), z = 1.6449:
	 * inside +-0.05 from n = 52 on. */
	CHECK_EQ_INT(v.need, 52, "needs 52 runs per side for no change");
	verdict_judge(&once, 0, 52, 0, 52, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "no change", "0/52 then 0/52: no change");
	verdict_judge(&once, 0, 51, 0, 51, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "inconclusive", "0/51 then 0/51: not yet");
	verdict_judge(&once, 1, 10, 0, 10, &v);
	CHECK(v.kind == VERDICT_INCONCLUSIVE && v.need > 10 && v.need < 100,
	      "1/10 then 0/10: inconclusive, needs a few tens");

	CHECK_EQ_INT(verdict_schedule(5, 640, ns, 16), 8, "5 to 640 doubling: 8 looks");
	CHECK(ns[0] == 5 && ns[7] == 640, "5, ..., 640");
	CHECK_EQ_INT(verdict_schedule(5, 600, ns, 16), 8, "the last look at the budget itself");
	CHECK_EQ_INT(ns[7], 600, "600");
	/* A test that always failed: decided at the first look of 5. */
	verdict_judge(&eight, 5, 5, 0, 5, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "fixed", "5/5 then 0/5 at level 0.05/8: fixed");
	/* A 5% flake, fixed: 8/160 then 0/160 decides at 0.05/8. */
	verdict_judge(&eight, 8, 160, 0, 160, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "fixed", "8/160 then 0/160: fixed");
	verdict_judge(&eight, 4, 80, 0, 80, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "inconclusive", "4/80 then 0/80: not yet");
	verdict_judge(&once, 0, 0, 0, 10, &v);
	CHECK_EQ_STR(verdict_name(v.kind), "not run", "a side with no runs: not run");
}

int main(void)
{
	test_quantile();
	test_wilson();
	test_newcombe();
	test_fisher();
	test_verdicts();
	return unit_done();
}
