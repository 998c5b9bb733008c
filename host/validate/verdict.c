/* Verdicts from failure counts (verdict.h). */
#include "validate/verdict.h"

#include <math.h>
#include <string.h>

#include "base/stats.h"

static const char *const names[] = {
	[VERDICT_FIXED] = "fixed",
	[VERDICT_REGRESSED] = "regressed",
	[VERDICT_NO_CHANGE] = "no change",
	[VERDICT_INCONCLUSIVE] = "inconclusive",
	[VERDICT_SKIPPED] = "skipped",
	[VERDICT_NOT_RUN] = "not run",
};

const char *verdict_name(enum verdict_kind k)
{
	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

int verdict_parse(const char *name, enum verdict_kind *k)
{
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*k = (enum verdict_kind)i;
			return 0;
		}
	}
	return -1;
}

/* Decided at this level: fixed, regressed, no change; or -1. */
static int decide(double level, double z, double margin, unsigned long fb, unsigned long nb,
		  unsigned long fa, unsigned long na, struct fisher *f, double *lo, double *hi)
{
	fisher_exact(fb, nb, fa, na, f);
	newcombe(fa, na, fb, nb, z, lo, hi);
	if (f->less <= level)
		return VERDICT_FIXED;
	if (f->greater <= level)
		return VERDICT_REGRESSED;
	if (*lo > -margin && *hi < margin)
		return VERDICT_NO_CHANGE;
	return -1;
}

static unsigned long scaled(unsigned long f, unsigned long n, unsigned long to)
{
	return n ? (unsigned long)floor((double)f * (double)to / (double)n + 0.5) : 0;
}

/* The fewest runs per side at which the rates seen would decide: decided
 * is monotone in n for fixed rates except for rounding, so a doubling
 * search and then a bisection find it (about: the counts are rounded). */
static unsigned long need_runs(double level, double z, double margin, unsigned long fb,
			       unsigned long nb, unsigned long fa, unsigned long na)
{
	unsigned long lo = nb > na ? nb : na, hi = lo ? lo : 1;
	struct fisher f;
	double dl, dh;

	for (;;) {
		hi *= 2;
		if (hi >= VERDICT_NEED_MAX)
			return VERDICT_NEED_MAX;
		if (decide(level, z, margin, scaled(fb, nb, hi), hi, scaled(fa, na, hi), hi, &f, &dl, &dh) >= 0)
			break;
		lo = hi;
	}
	while (hi - lo > 1) {
		unsigned long mid = lo + (hi - lo) / 2;

		if (decide(level, z, margin, scaled(fb, nb, mid), mid, scaled(fa, na, mid), mid, &f, &dl, &dh) >= 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

void verdict_judge(const struct verdict_rule *r, unsigned long fb, unsigned long nb,
		   unsigned long fa, unsigned long na, struct verdict *v)
{
	double level = r->alpha / (r->looks ? r->looks : 1);
	double z = normal_quantile(1 - level);
	struct fisher f;
	int k;

	memset(v, 0, sizeof(*v));
	v->level = level;
	wilson95(fb, nb, &v->before_lo, &v->before_hi);
	wilson95(fa, na, &v->after_lo, &v->after_hi);
	v->p_fixed = v->p_regressed = 1;
	v->diff_lo = -1;
	v->diff_hi = 1;
	if (!nb || !na) {
		v->kind = VERDICT_NOT_RUN;
		return;
	}
	k = decide(level, z, r->margin, fb, nb, fa, na, &f, &v->diff_lo, &v->diff_hi);
	v->p_fixed = f.less;
	v->p_regressed = f.greater;
	if (k >= 0) {
		v->kind = (enum verdict_kind)k;
		return;
	}
	v->kind = VERDICT_INCONCLUSIVE;
	v->need = need_runs(level, z, r->margin, fb, nb, fa, na);
}

unsigned int verdict_schedule(unsigned int first, unsigned int max, unsigned int *ns, unsigned int cap)
{
	unsigned int k = 0, n = first ? first : 1;

	while (k < cap) {
		if (n >= max) {
			ns[k++] = max;
			break;
		}
		ns[k++] = n;
		n *= 2;
	}
	return k;
}
