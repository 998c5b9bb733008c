/* The check phase of the sockmap scenario: see check.h.
 *
 * Why a stall is told from a loss: tcp_data_ready() hands p1's native bytes
 * to the verdict program only while rcv_nxt - copied_seq > 0, and
 * tcp_bpf_recvmsg_parser() returns EAGAIN, MSG_PEEK included, while
 * sk_receive_queue is not empty. A kernel that advances p1's copied_seq
 * for more bytes than came through p1's own stack (all 10 before "bpf,
 * sockmap: Fix incorrect copied_seq calculation"; p1's own bytes twice
 * where a redirect to self is not turned into a pass) leaves it ahead of
 * rcv_nxt after the data phase: the check phase's native bytes then stay
 * in sk_receive_queue, and nothing is readable until enough native bytes
 * have arrived to put rcv_nxt ahead again. check_missing() sends them one
 * at a time and counts (README.md: 9 on Debian's 6.17.13, 1 on 6.18.15).
 */
#include "check.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sockio.h"

/* Other bytes than the data phase's, so that a leftover of it cannot pass
 * for check data: 8 redirected, then 2 native. */
static const char check_sent[SM_BYTES + 1] = "abcdefghij";
/* The native bytes check_missing() sends, one at a time. */
static const char nudge[SM_NUDGE_MAX + 1] = "klmnopqrstuvwxyz";
/* After each of them: long enough for the psock backlog worker, which some
 * kernels also use for p1's own traffic. */
#define NUDGE_WAIT_MS 200

static int fionread(int fd)
{
	int avail;

	return ioctl(fd, FIONREAD, &avail) < 0 ? -1000 - errno : avail;
}

static const char *revents_name(short revents)
{
	if (revents & (POLLERR | POLLHUP))
		return "POLLERR/POLLHUP";
	return revents & POLLIN ? "POLLIN" : "not readable";
}

/* Fewer than SM_BYTES bytes could be peeked at within SM_WAIT_MS: lost, or
 * stalled where recv() cannot reach them? What FIONREAD, poll() and a plain
 * recv() say, then native bytes one at a time, as a later sender would send
 * them, until something is readable; then everything is read and compared
 * with what was sent. */
static int check_missing(const struct sm_pairs *sp, int peeked, int peek_err,
			 struct sm_check *chk)
{
	char buf[SM_BYTES + SM_NUDGE_MAX], want[SM_BYTES + SM_NUDGE_MAX];
	struct pollfd pfd = { .fd = sp->p1, .events = POLLIN };
	int inq = fionread(sp->p1), got, n, rerr = 0, perr, k, total, err;
	ssize_t rn;

	poll(&pfd, 1, 0);
	rn = recv(sp->p1, buf, SM_BYTES, MSG_DONTWAIT);
	got = rn > 0 ? (int)rn : 0;
	if (rn < 0)
		rerr = errno;
	if (got > peeked)
		sm_note(&chk->ph, SM_F_PEEK,
			"MSG_PEEK saw %d of %d bytes for %d ms, then a plain recv() read %d", peeked,
			SM_BYTES, SM_WAIT_MS, got);
	/* Native bytes, one at a time, until the 10 are readable. */
	for (k = 0;; k++) {
		n = peek_wait(sp->p1, buf + got, SM_BYTES - got, k ? NUDGE_WAIT_MS : 0, &perr);
		if (n < 0) {
			sm_note(&chk->ph, SM_F_ERROR, "check: recv(MSG_PEEK): %s", strerror(-n));
			return 0;
		}
		if (got + n >= SM_BYTES || k == SM_NUDGE_MAX)
			break;
		err = send_exact(sp->c1, nudge + k, 1);
		if (err)
			return err;
	}
	chk->seen.nudges = k;
	total = SM_BYTES + k;
	got += recv_all(sp->p1, buf + got, total - got, &err);
	memcpy(want, check_sent, SM_BYTES);
	memcpy(want + SM_BYTES, nudge, (size_t)k);
	if (got == total && !memcmp(buf, want, (size_t)total)) {
		if (chk->ph.fails & (1u << SM_F_PEEK))
			return 0;
		sm_note(&chk->ph, SM_F_STALLED,
			"%d of %d bytes readable for %d ms (MSG_PEEK: %s; recv(): %s; FIONREAD %d; "
			"poll: %s); all readable once %d more native bytes were sent, one at a "
			"time; all %d then read intact and in order: stalled, not lost",
			peeked, SM_BYTES, SM_WAIT_MS, peek_err ? strerror(peek_err) : "short",
			rerr ? strerror(rerr) : "short", inq, revents_name(pfd.revents), k, total);
		return 0;
	}
	sm_note(&chk->ph, got == total ? SM_F_MISMATCH : SM_F_LOST,
		"%d of %d bytes readable for %d ms (FIONREAD %d, poll: %s); after %d more "
		"native bytes, %d of the %d sent were read: \"%.*s\" (%s)",
		peeked, SM_BYTES, SM_WAIT_MS, inq, revents_name(pfd.revents), k, got, total, got,
		buf, err ? strerror(err) : "all");
	return 0;
}

int sm_check_run(enum sm_proto proto, const struct sm_pairs *sp, struct sm_check *chk)
{
	struct pollfd pfd = { .fd = sp->p1, .events = POLLIN };
	char peek[SM_BYTES], got[SM_BYTES];
	int n, want, rerr, perr, err;

	memset(chk, 0, sizeof(*chk));
	chk->seen.nudges = -1;
	/* Nothing may be left of the data phase. */
	chk->seen.inq_start = fionread(sp->p1);
	if (chk->seen.inq_start != 0)
		sm_note(&chk->ph, SM_F_FIONREAD,
			"FIONREAD %d after all %d bytes of the data phase were read, expected 0",
			chk->seen.inq_start, SM_BYTES);

	/* The redirected part first, waited for with poll(): it is all there
	 * is, so POLLIN means the backlog worker queued it (a real wait, not a
	 * sleep loop). Then the native part. For UDP the first datagram is thus
	 * the 8-byte one here, and the 2-byte one in the data phase: FIONREAD
	 * is checked with either first. */
	err = send_exact(sp->c0, check_sent, SM_REDIR_BYTES);
	if (err)
		return err;
	poll(&pfd, 1, SM_WAIT_MS); /* on timeout, peek_wait() tells */
	chk->seen.peek_redir = peek_wait(sp->p1, peek, SM_REDIR_BYTES, SM_WAIT_MS, &perr);
	chk->seen.inq_redir = fionread(sp->p1);
	err = send_exact(sp->c1, check_sent + SM_REDIR_BYTES, SM_NATIVE_BYTES);
	if (err)
		return err;
	n = peek_wait(sp->p1, peek, SM_BYTES, SM_WAIT_MS, &perr);
	chk->seen.peek_all = n;
	chk->seen.inq_all = fionread(sp->p1);
	if (n < 0) {
		sm_note(&chk->ph, SM_F_ERROR, "check: recv(MSG_PEEK): %s", strerror(-n));
		return 0;
	}
	if (n < SM_BYTES)
		return check_missing(sp, n, perr, chk);

	/* TCP: every queued byte. UDP: only the first datagram, whichever of
	 * the two is first (sk_msg_first_len()). */
	if (proto == SM_TCP)
		want = SM_BYTES;
	else if (!memcmp(peek, check_sent, SM_REDIR_BYTES))
		want = SM_REDIR_BYTES;
	else if (!memcmp(peek, check_sent + SM_REDIR_BYTES, SM_NATIVE_BYTES))
		want = SM_NATIVE_BYTES;
	else
		want = -1;
	if (want < 0)
		sm_note(&chk->ph, SM_F_MISMATCH, "check: queued \"%.*s\", sent \"%s\" in two parts",
			SM_BYTES, peek, check_sent);
	else if (chk->seen.inq_all != want)
		sm_note(&chk->ph, SM_F_FIONREAD,
			"FIONREAD %d with all %d bytes queued (MSG_PEEK saw them), expected %d (%s)",
			chk->seen.inq_all, SM_BYTES, want,
			proto == SM_TCP ? "all queued bytes" : "the first datagram only");

	n = recv_all(sp->p1, got, SM_BYTES, &rerr);
	if (n != SM_BYTES)
		sm_note(&chk->ph, SM_F_LOST, "check: read %d of %d peeked bytes (%s)", n, SM_BYTES,
			strerror(rerr));
	else if (memcmp(got, peek, SM_BYTES))
		sm_note(&chk->ph, SM_F_MISMATCH, "check: read \"%.*s\" after peeking \"%.*s\"",
			SM_BYTES, got, SM_BYTES, peek);
	return 0;
}
