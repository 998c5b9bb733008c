/* Small statistics for failure counts: intervals for a failure rate and for
 * the difference of two, and exact tests over 2x2 tables (is the failure
 * rate with a patch series lower or higher than without?). Pure,
 * unit-tested against published values (tests/unit/test_stats.c).
 */
#ifndef KTA_STATS_H
#define KTA_STATS_H

struct fisher {
	double less;     /* P(B's failures <= observed): B fails less (one-sided) */
	double greater;  /* P(B's failures >= observed): B fails more (one-sided) */
	double two;      /* two-sided: tables no more likely than the observed */
};

/* Fisher's exact test of fa failures in na runs (A) against fb in nb (B),
 * conditioned on the total failures. */
void fisher_exact(unsigned long fa, unsigned long na, unsigned long fb, unsigned long nb, struct fisher *out);

/* The standard normal's quantile: z with P(Z <= z) = p, 0 < p < 1. */
double normal_quantile(double p);

/* Wilson score interval for k failures in n trials at the two-sided
 * confidence of its z (1.96: 95%); n = 0 gives [0, 1]. */
void wilson(unsigned long k, unsigned long n, double z, double *lo, double *hi);
void wilson95(unsigned long k, unsigned long n, double *lo, double *hi);

/* Newcombe's hybrid score interval (his method 10) for the difference of
 * rates ka/na - kb/nb, from the two Wilson intervals at z. */
void newcombe(unsigned long ka, unsigned long na, unsigned long kb, unsigned long nb, double z,
	      double *lo, double *hi);

#endif
