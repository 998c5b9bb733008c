/* Wald's SPRT for a bisect step and the posterior of the first bad
 * version; the model is in bisect_stats.h. */
#include "bisect/bisect_stats.h"

#include <errno.h>
#include <math.h>

int sprt_init(struct sprt *s, double p0, double p1, double alpha, double beta)
{
	if (!(p0 > 0 && p0 < p1 && p1 < 1 && alpha > 0 && alpha < 0.5 && beta > 0 && beta < 0.5))
		return -EINVAL;
	*s = (struct sprt){ .p0 = p0, .p1 = p1 };
	s->upper = log((1 - beta) / alpha);
	s->lower = log(beta / (1 - alpha));
	return 0;
}

enum sprt_state sprt_state(const struct sprt *s)
{
	return s->llr >= s->upper ? SPRT_BAD : s->llr <= s->lower ? SPRT_GOOD : SPRT_CONTINUE;
}

enum sprt_state sprt_add(struct sprt *s, unsigned long runs, unsigned long fails)
{
	if (fails > runs)
		fails = runs;
	s->llr += (double)fails * log(s->p1 / s->p0) + (double)(runs - fails) * log((1 - s->p1) / (1 - s->p0));
	s->runs += runs;
	s->fails += fails;
	return sprt_state(s);
}

unsigned long sprt_min_runs(const struct sprt *s)
{
	double up = s->upper / log(s->p1 / s->p0), down = s->lower / log((1 - s->p1) / (1 - s->p0));
	double n = up < down ? up : down;

	/* A hair under an integer is that integer (log's rounding). */
	return n < 1 ? 1 : (unsigned long)ceil(n - 1e-9);
}

double rate_estimate(unsigned long f, unsigned long n)
{
	return ((double)f + 0.5) / ((double)n + 1);
}

int bisect_posterior(const struct bisect_obs *o, double p0, double p1, double *post)
{
	double l0 = 0, l1 = 0, max = -INFINITY, sum = 0;
	double *ll = post;

	if (!o->m || !(p0 > 0 && p0 < 1 && p1 > 0 && p1 < 1))
		return -EINVAL;
	/* ll[b] = sum_{i<b} log L0(i) + sum_{i>=b} log L1(i), built by moving
	 * b up one position at a time, in logs to survive hundreds of runs. */
	for (size_t i = 0; i <= o->m; i++)
		l1 += (double)o->f[i] * log(p1) + (double)(o->n[i] - o->f[i]) * log(1 - p1);
	post[0] = 0;
	for (size_t b = 1; b <= o->m; b++) {
		size_t i = b - 1;

		l0 += (double)o->f[i] * log(p0) + (double)(o->n[i] - o->f[i]) * log(1 - p0);
		l1 -= (double)o->f[i] * log(p1) + (double)(o->n[i] - o->f[i]) * log(1 - p1);
		ll[b] = l0 + l1;
		if (ll[b] > max)
			max = ll[b];
	}
	for (size_t b = 1; b <= o->m; b++) {
		post[b] = exp(ll[b] - max);
		sum += post[b];
	}
	for (size_t b = 1; b <= o->m; b++)
		post[b] /= sum;
	return 0;
}
