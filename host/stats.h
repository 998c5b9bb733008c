/* Small statistics for failure counts: exact tests over 2x2 tables (is the
 * failure rate with a patch series lower or higher than without?). Pure,
 * unit-tested. The Wilson interval lives in classify.h.
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

#endif
