/* The statistics of a bisect over a flaky test. Pure, unit-tested
 * (tests/unit/test_bisect.c).
 *
 * The model: versions (or commits) 0..m in the order bisected, 0 the known
 * good and m the known bad; an unknown first bad one b in 1..m; every run
 * before b fails with probability p0 (the good rate), every run from b on
 * with p1 (the bad rate), runs independent.
 *
 * A step (one version, some runs) is judged by Wald's sequential
 * probability ratio test of p = p0 against p = p1: each run adds
 *   log(p1/p0) if it failed, log((1-p1)/(1-p0)) if it passed,
 * and the step is bad once the sum reaches log((1-beta)/alpha), good once
 * it falls to log(beta/(1-alpha)); Wald's bounds keep the chance of
 * calling a good step bad near alpha and a bad step good near beta,
 * however many looks. A step whose runs run out first is undecided.
 *
 * The answer's confidence is the posterior probability of b given every
 * run made (the endpoints' and the steps'), with a uniform prior over
 * 1..m and p0, p1 as estimated at the endpoints: P(b | data) is
 * proportional to prod_{i<b} L0(i) * prod_{i>=b} L1(i), where Lr(i) =
 * r^f_i (1-r)^(n_i-f_i) for the f_i failures in n_i runs at version i.
 */
#ifndef KTA_BISECT_STATS_H
#define KTA_BISECT_STATS_H

#include <stddef.h>

enum sprt_state { SPRT_CONTINUE, SPRT_GOOD, SPRT_BAD };

struct sprt {
	double p0, p1;       /* failure rate at good, at bad (0 < p0 < p1 < 1) */
	double upper, lower; /* log((1-beta)/alpha), log(beta/(1-alpha)) */
	double llr;          /* the sum so far */
	unsigned long runs, fails;
};

/* -EINVAL unless 0 < p0 < p1 < 1 and 0 < alpha, beta < 0.5. */
int sprt_init(struct sprt *s, double p0, double p1, double alpha, double beta);
/* Add runs with fails failures; the state after them. The order of runs
 * within a batch does not change the sum, but a batch that crosses a
 * bound and comes back is judged at its end (a conservative look). */
enum sprt_state sprt_add(struct sprt *s, unsigned long runs, unsigned long fails);
enum sprt_state sprt_state(const struct sprt *s);
/* The fewest runs, all agreeing, that decide a fresh step either way: the
 * size of a step's first batch. */
unsigned long sprt_min_runs(const struct sprt *s);

/* A rate estimated from f failures in n runs, kept inside (0, 1): (f +
 * 1/2) / (n + 1), the Jeffreys prior's posterior mean, so that 0/5 does
 * not claim the good version can never fail. */
double rate_estimate(unsigned long f, unsigned long n);

/* Observations at positions 0..m (n[i] = 0: not run, or skipped). */
struct bisect_obs {
	size_t m;                /* the bad endpoint's position */
	const unsigned long *n;  /* runs at each of 0..m */
	const unsigned long *f;  /* failures at each */
};

/* post[b] for b = 1..m (post[0] = 0): the posterior of "b is the first
 * bad one". -EINVAL on a bad model. */
int bisect_posterior(const struct bisect_obs *o, double p0, double p1, double *post);

#endif
