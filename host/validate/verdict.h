/* The verdict on one test on one architecture: its failures without a
 * patch series (before) against with it (after). Pure, unit-tested.
 *
 * The rule, with alpha the error rate a user accepts (0.05) and K the
 * looks at the data planned (1 for a fixed N; the doubling schedule's
 * length with --until-confident), each look at level a = alpha / K
 * (Bonferroni: the chance that any of the K looks errs is at most alpha,
 * whatever the looks' dependence, so stopping at the first decided look
 * is sound):
 *   fixed       Fisher's exact test, one-sided, after fails less: p <= a
 *   regressed   the same, after fails more: p <= a
 *   no change   the (1 - 2a) Newcombe interval of after - before lies
 *               within +-margin (two one-sided tests, Schuirmann's TOST)
 *   inconclusive  none of these; `need` is the runs per side at which the
 *               rates seen so far, if they held, would decide it.
 */
#ifndef KTA_VERDICT_H
#define KTA_VERDICT_H

enum verdict_kind {
	VERDICT_FIXED,
	VERDICT_REGRESSED,
	VERDICT_NO_CHANGE,
	VERDICT_INCONCLUSIVE,
	VERDICT_SKIPPED,   /* no side ran it: skipped where it ran at all */
	VERDICT_NOT_RUN,   /* a side could not run (the series does not apply, ...) */
};

struct verdict_rule {
	double alpha;        /* overall error rate (0.05) */
	double margin;       /* "no change": |after - before| below this (0.05) */
	unsigned int looks;  /* planned looks (1: a fixed N) */
};

struct verdict {
	enum verdict_kind kind;
	double level;                  /* a = alpha / looks */
	double before_lo, before_hi;   /* Wilson 95% */
	double after_lo, after_hi;
	double diff_lo, diff_hi;       /* after - before, the (1 - 2a) interval */
	double p_fixed, p_regressed;   /* one-sided Fisher */
	unsigned long need;            /* inconclusive: about this many runs per side */
};

#define VERDICT_NEED_MAX 1000000UL

void verdict_judge(const struct verdict_rule *r, unsigned long fb, unsigned long nb,
		   unsigned long fa, unsigned long na, struct verdict *v);
const char *verdict_name(enum verdict_kind k);
int verdict_parse(const char *name, enum verdict_kind *k);

/* The doubling schedule of --until-confident: looks at first, 2 first, ...
 * up to max runs per side (the last look at max itself). */
unsigned int verdict_schedule(unsigned int first, unsigned int max, unsigned int *ns, unsigned int cap);

#endif
