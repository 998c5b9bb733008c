/* What a sockmap_multi run saw: the data phase's failures per class, the
 * upstream assertions that failed, and the check phase's failures, kept
 * apart from the rate; the lines printed as they happen (the first few of
 * each class) and the summary with the kta-rate: line.
 */
#ifndef KTA_SOCKMAP_TALLY_H
#define KTA_SOCKMAP_TALLY_H

#include <stdbool.h>

#include "check.h"
#include "scenario.h"

struct tally {
	enum sm_proto proto;
	enum sm_variant variant;
	unsigned long done;
	unsigned long failed; /* the rate's failures: sm_failed() */
	unsigned long data_failed, by_fail[SM_NR_FAIL];
	unsigned long upstream_failed, by_assert[SM_NR_ASSERT];
	unsigned long checked, check_failed, by_check[SM_NR_FAIL];
	bool checks_stopped; /* no more check phases: see tally_check() */
	struct sm_check_seen first_seen;
	long long late_sum_us, late_max_us;
};

void tally_init(struct tally *t, enum sm_proto proto, enum sm_variant variant);

/* An iteration's data phase. */
void tally_iteration(struct tally *t, const struct sm_result *r);

/* The check phase run after iteration t->done. Stops further checks
 * (t->checks_stopped) once the first few all failed, which makes the
 * failure deterministic, or once too many did: each may cost seconds. */
void tally_check(struct tally *t, const struct sm_check *chk);

/* The summary, ending with kta-rate: and kta-metric: lines. */
void tally_report(const struct tally *t, double secs);

/* Did the run break a promise of the kernel (data lost, a recv error, a
 * failed check)? Then the test fails, whatever the variant. */
bool tally_broken(const struct tally *t);

#endif
