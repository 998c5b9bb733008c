/* The check phase of the sockmap scenario: once the data phase has read its
 * 10 bytes, 8 more go through the redirect (waited for) and then 2 natively,
 * and the kernel's promises are checked: everything sent is read, intact and
 * in order, within 5 s; FIONREAD is 0 with nothing queued and, with all 10
 * queued, 10 (TCP) or the first datagram's size (UDP: 8 here).
 *
 * A check tests a promise, not a race: its failures are tallied apart from
 * the variant's rate. When data is missing it finds out whether it is lost
 * or stalled: more native bytes are sent one at a time until something is
 * readable, and everything is read.
 */
#ifndef KTA_SOCKMAP_CHECK_H
#define KTA_SOCKMAP_CHECK_H

#include "scenario.h"

#define SM_NUDGE_MAX 16 /* native bytes sent, one at a time, to unstall p1 */

/* What FIONREAD and MSG_PEEK said along the way: the evidence the report
 * prints for the first check. -1000 - errno when a call failed. */
struct sm_check_seen {
	int inq_start;              /* FIONREAD once the data phase was read */
	int inq_redir, peek_redir;  /* with only the 8 redirected bytes queued */
	int inq_all, peek_all;      /* with the 2 native ones sent too */
	int nudges;                 /* native bytes it took to unstall p1, or -1 */
};

struct sm_check {
	struct sm_phase ph;
	struct sm_check_seen seen;
};

/* Runs the check phase on the pairs of an iteration whose data phase is
 * over (sm_checkable()). 0 or -errno for setup errors. */
int sm_check_run(enum sm_proto proto, const struct sm_pairs *sp, struct sm_check *chk);

#endif
