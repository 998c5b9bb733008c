/* What a sockmap_multi run saw, and its report: see tally.h.
 *
 * Every line starts with "sockmap_multi: PROTO/VARIANT: " and has no '#',
 * which the host's KTAP reader would take for a directive. The rate line
 * counts only what sm_failed() says, never the check phase: a check tests
 * a promise that holds or not on a kernel, and its failures are reported
 * on lines of their own, with the test failing.
 */
#include "tally.h"

#include <stdio.h>
#include <string.h>

#define SHOW_PER_CLASS 3 /* failures printed in full per class */
/* Checks that all failed, the first this many times they ran: the
 * failure is deterministic on this kernel; more tell nothing new. */
#define CHECKS_DETERMINISTIC 3
#define MAX_CHECK_FAILS 10 /* then no more checks in any case */

void tally_init(struct tally *t, enum sm_proto proto, enum sm_variant variant)
{
	memset(t, 0, sizeof(*t));
	t->proto = proto;
	t->variant = variant;
}

#define say(t, fmt, ...)                                                                   \
	printf("sockmap_multi: %s/%s: " fmt "\n", sm_proto_name((t)->proto),               \
	       sm_variant_name((t)->variant), ##__VA_ARGS__)

static const char *more(unsigned long n)
{
	return n == SHOW_PER_CLASS ? " (no more of this class shown)" : "";
}

void tally_iteration(struct tally *t, const struct sm_result *r)
{
	t->done++;
	if (sm_failed(t->variant, r))
		t->failed++;
	if (r->data.fails)
		t->data_failed++;
	for (int f = 0; f < SM_NR_FAIL; f++) {
		if (!(r->data.fails & (1u << f)))
			continue;
		if (++t->by_fail[f] <= SHOW_PER_CLASS)
			say(t, "iteration %lu: %s: %s%s", t->done, sm_fail_name((enum sm_fail)f),
			    r->data.detail[f], more(t->by_fail[f]));
	}
	if (r->asserts)
		t->upstream_failed++;
	for (int a = 0; a < SM_NR_ASSERT; a++) {
		if (!(r->asserts & (1u << a)))
			continue;
		if (++t->by_assert[a] <= SHOW_PER_CLASS)
			say(t, "iteration %lu: upstream assertion \"%s\" failed: %s%s", t->done,
			    sm_assert_name((enum sm_assert)a), r->assert_detail[a],
			    more(t->by_assert[a]));
	}
	if (r->data.fails & (1u << SM_F_SHORT)) {
		t->late_sum_us += r->late_us;
		if (r->late_us > t->late_max_us)
			t->late_max_us = r->late_us;
	}
}

void tally_check(struct tally *t, const struct sm_check *chk)
{
	if (!t->checked++)
		t->first_seen = chk->seen;
	if (chk->ph.fails)
		t->check_failed++;
	for (int f = 0; f < SM_NR_FAIL; f++) {
		if (!(chk->ph.fails & (1u << f)))
			continue;
		if (++t->by_check[f] <= SHOW_PER_CLASS)
			say(t, "check at iteration %lu FAILED: %s: %s%s", t->done,
			    sm_fail_name((enum sm_fail)f), chk->ph.detail[f], more(t->by_check[f]));
	}
	if (t->checks_stopped)
		return;
	if (t->check_failed == t->checked && t->checked >= CHECKS_DETERMINISTIC) {
		t->checks_stopped = true;
		say(t, "the check phase failed each of the %lu times it ran: deterministic on this "
		    "kernel; no more check phases in this run", t->checked);
	} else if (t->check_failed >= MAX_CHECK_FAILS) {
		t->checks_stopped = true;
		say(t, "the check phase failed %lu of %lu times: no more check phases in this run",
		    t->check_failed, t->checked);
	}
}

bool tally_broken(const struct tally *t)
{
	return t->check_failed || t->by_fail[SM_F_LOST] || t->by_fail[SM_F_ERROR];
}

/* A FIONREAD as struct sm_check_seen holds it. */
static const char *inq_str(int v, char *buf, size_t len)
{
	if (v <= -1000)
		snprintf(buf, len, "error %s", strerror(-1000 - v));
	else
		snprintf(buf, len, "%d", v);
	return buf;
}

static void report_upstream(const struct tally *t)
{
	static const char *const which[] = {
		[SM_SINGLE] = "before 7.3.4 (without its first FIONREAD stage)",
		[SM_TWOSTAGE] = "of 7.3.4",
	};

	if (t->variant != SM_SINGLE && t->variant != SM_TWOSTAGE)
		return;
	say(t, "the upstream subtest %s would have failed in %lu of %lu iterations (assertions: "
	    "partial FIONREAD %lu, full FIONREAD %lu, recv %lu, mismatch %lu, second FIONREAD %lu, "
	    "second recv %lu, second mismatch %lu)",
	    which[t->variant], t->upstream_failed, t->done, t->by_assert[SM_A_PARTIAL],
	    t->by_assert[SM_A_FULL], t->by_assert[SM_A_RECV], t->by_assert[SM_A_MISMATCH],
	    t->by_assert[SM_A_SECOND], t->by_assert[SM_A_SECOND_RECV],
	    t->by_assert[SM_A_SECOND_MISMATCH]);
	for (int a = 0; a < SM_NR_ASSERT; a++)
		if (t->done >= CHECKS_DETERMINISTIC && t->by_assert[a] == t->done)
			say(t, "upstream assertion \"%s\" failed in every iteration: deterministic on "
			    "this kernel, not a race", sm_assert_name((enum sm_assert)a));
}

static void report_checks(const struct tally *t)
{
	const struct sm_check_seen *s = &t->first_seen;
	char a[32], b[32], c[32];

	if (!t->checked) {
		say(t, "check phase: not run");
		return;
	}
	say(t, "first check: FIONREAD %s after the data phase; with only the 8 redirected bytes "
	    "sent MSG_PEEK saw %d and FIONREAD said %s; with all 10 sent MSG_PEEK saw %d and "
	    "FIONREAD said %s",
	    inq_str(s->inq_start, a, sizeof(a)), s->peek_redir, inq_str(s->inq_redir, b, sizeof(b)),
	    s->peek_all, inq_str(s->inq_all, c, sizeof(c)));
	if (s->nudges >= 0)
		say(t, "first check: the 10 bytes became readable only after %d more native bytes "
		    "were sent", s->nudges);
	if (!t->check_failed) {
		say(t, "check phase: passed %lu of %lu checks", t->checked, t->checked);
		return;
	}
	say(t, "CHECK PHASE FAILED in %lu of %lu checks%s (data stalled %lu, data lost %lu, "
	    "MSG_PEEK blind %lu, FIONREAD %lu, data mismatch %lu, recv error %lu): a promise "
	    "of the kernel, not part of kta-rate; the test fails",
	    t->check_failed, t->checked,
	    t->check_failed == t->checked ? ", every check that ran: deterministic" : "",
	    t->by_check[SM_F_STALLED], t->by_check[SM_F_LOST], t->by_check[SM_F_PEEK],
	    t->by_check[SM_F_FIONREAD], t->by_check[SM_F_MISMATCH], t->by_check[SM_F_ERROR]);
}

void tally_report(const struct tally *t, double secs)
{
	double rate = secs > 0 ? (double)t->done / secs : 0;

	say(t, "%lu iterations in %.1f s (%.1f/s)", t->done, secs, rate);
	say(t, "data phase: %lu of %lu iterations failed (short read %lu, data mismatch %lu, "
	    "data lost %lu, recv error %lu)",
	    t->data_failed, t->done, t->by_fail[SM_F_SHORT], t->by_fail[SM_F_MISMATCH],
	    t->by_fail[SM_F_LOST], t->by_fail[SM_F_ERROR]);
	if (t->by_fail[SM_F_SHORT])
		say(t, "after a short read the rest came %.0f us later on average, %lld us at most",
		    (double)t->late_sum_us / (double)t->by_fail[SM_F_SHORT], t->late_max_us);
	report_upstream(t);
	report_checks(t);
	say(t, "the rate below counts %s: %lu of %lu", sm_rate_meaning(t->variant), t->failed,
	    t->done);
	printf("kta-rate: failures=%lu iterations=%lu\n", t->failed, t->done);
	printf("kta-metric: iterations_per_sec=%.1f\n", rate);
}
