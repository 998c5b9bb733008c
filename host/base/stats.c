/* Fisher's exact test (stats.h): under "A and B fail at the same rate",
 * the failures of B, given the total, follow the hypergeometric law. */
#include "base/stats.h"

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

double normal_quantile(double p)
{
	double lo = -40, hi = 40;

	/* Bisection on erfc: slow by numerical standards, but exact to the
	 * last bits that matter and obviously correct. */
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(-mid / M_SQRT2) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

void wilson(unsigned long k, unsigned long n, double z, double *lo, double *hi)
{
	double p, dn = (double)n, denom, centre, half;

	if (!n || k > n) {
		*lo = 0;
		*hi = 1;
		return;
	}
	p = (double)k / dn;
	denom = 1 + z * z / dn;
	centre = (p + z * z / (2 * dn)) / denom;
	half = z * sqrt(p * (1 - p) / dn + z * z / (4 * dn * dn)) / denom;
	*lo = centre - half < 0 ? 0 : centre - half;
	*hi = centre + half > 1 ? 1 : centre + half;
	/* At k = 0 and k = n the bound is exact in theory and a rounding
	 * error away from it in practice. */
	if (!k)
		*lo = 0;
	if (k == n)
		*hi = 1;
}

void wilson95(unsigned long k, unsigned long n, double *lo, double *hi)
{
	wilson(k, n, 1.959963984540054, lo, hi);
}

void newcombe(unsigned long ka, unsigned long na, unsigned long kb, unsigned long nb, double z,
	      double *lo, double *hi)
{
	double l1, u1, l2, u2, p1, p2, d;

	wilson(ka, na, z, &l1, &u1);
	wilson(kb, nb, z, &l2, &u2);
	p1 = na ? (double)ka / (double)na : 0;
	p2 = nb ? (double)kb / (double)nb : 0;
	if (!na)
		p1 = (l1 + u1) / 2;
	if (!nb)
		p2 = (l2 + u2) / 2;
	d = p1 - p2;
	*lo = d - sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
	*hi = d + sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
}
