/* Fisher's exact test (stats.h): under "A and B fail at the same rate",
 * the failures of B, given the total, follow the hypergeometric law. */
#include "stats.h"

#include <math.h>

static double log_choose(unsigned long n, unsigned long k)
{
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

/* P(B has x of the k failures) for B of nb among n runs. */
static double hyper(unsigned long n, unsigned long k, unsigned long nb, unsigned long x)
{
	if (x > k || x > nb || k - x > n - nb)
		return 0;
	return exp(log_choose(k, x) + log_choose(n - k, nb - x) - log_choose(n, nb));
}

void fisher_exact(unsigned long fa, unsigned long na, unsigned long fb, unsigned long nb, struct fisher *out)
{
	unsigned long n = na + nb, k = fa + fb;
	unsigned long lo = k > na ? k - na : 0, hi = k < nb ? k : nb;
	double observed = hyper(n, k, nb, fb);

	out->less = out->greater = out->two = 0;
	if (!na || !nb || fa > na || fb > nb) {
		out->less = out->greater = out->two = 1;
		return;
	}
	for (unsigned long x = lo; x <= hi; x++) {
		double p = hyper(n, k, nb, x);

		if (x <= fb)
			out->less += p;
		if (x >= fb)
			out->greater += p;
		/* A relative margin: equal probabilities computed by different
		 * paths must count as equal. */
		if (p <= observed * (1 + 1e-7))
			out->two += p;
	}
	if (out->less > 1)
		out->less = 1;
	if (out->greater > 1)
		out->greater = 1;
	if (out->two > 1)
		out->two = 1;
}
