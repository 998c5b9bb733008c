/* The multi-channel sockmap scenario: socket pairs, the three ways of reading
 * p1 (single, twostage, loop), the classification of what arrived, and the
 * FIONREAD check. See scenario.h; the race itself is described in
 * sockmap_redir.bpf.c.
 *
 * The single and twostage variants copy the upstream test's timing on
 * purpose, bugs included: wait_fionread_ms() is the selftest's
 * wait_for_fionread() (1 ms sleeps, called with 30, so ~30 ms), and
 * recv_timeout() is socket_helpers.h's (wait up to N s for readability, then
 * one recv()). Only the loop variant and our own waits use real timeouts.
 */
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What the upstream test sends: "01" on the native path, "23456789" through
 * the redirect; p1 must read "0123456789". The check phase sends other bytes
 * so that a leftover of the first phase cannot pass for check data. */
static const char sent[SM_BYTES + 1] = "0123456789";
static const char check_sent[SM_BYTES + 1] = "abcdefghij";

/* The upstream test's "30" (IO_TIMEOUT_SEC) as wait_for_fionread() counts it. */
#define UPSTREAM_FIONREAD_WAIT 30
#define UPSTREAM_RECV_TIMEOUT_S 1

const char *sm_proto_name(enum sm_proto proto)
{
	return proto == SM_TCP ? "tcp" : "udp";
}

const char *sm_variant_name(enum sm_variant variant)
{
	switch (variant) {
	case SM_SINGLE:
		return "single";
	case SM_TWOSTAGE:
		return "twostage";
	case SM_LOOP:
		return "loop";
	default:
		return "?";
	}
}

const char *sm_fail_name(enum sm_fail f)
{
	static const char *const names[SM_NR_FAIL] = {
		[SM_F_SHORT] = "short read",
		[SM_F_MISMATCH] = "data mismatch",
		[SM_F_LOST] = "data lost",
		[SM_F_FIONREAD] = "FIONREAD",
		[SM_F_ERROR] = "recv error",
	};

	return (unsigned int)f < SM_NR_FAIL ? names[f] : "?";
}

const char *sm_assert_name(enum sm_assert a)
{
	static const char *const names[SM_NR_ASSERT] = {
		[SM_A_PARTIAL] = "ioctl(FIONREAD) partial return",
		[SM_A_FULL] = "ioctl(FIONREAD) full return",
		[SM_A_SECOND] = "second ioctl(FIONREAD) full return",
	};

	return (unsigned int)a < SM_NR_ASSERT ? names[a] : "?";
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void fail(struct sm_result *res, enum sm_fail f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct sm_result *res, enum sm_fail f, const char *fmt, ...)
{
	va_list ap;

	if (res->fails & (1u << f))
		return; /* keep the first detail of each class */
	res->fails |= 1u << f;
	va_start(ap, fmt);
	vsnprintf(res->detail[f], sizeof(res->detail[f]), fmt, ap);
	va_end(ap);
}

/* ---- sockets ---------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int sys_err(const char *what, enum sm_proto proto)
{
	int err = errno;

	fprintf(stderr, "sockmap_multi: cannot %s (%s): %s\n", what, sm_proto_name(proto),
		strerror(err));
	return -err;
}

/* Abortive close for TCP: no TIME_WAIT, so 10,000s of iterations do not run
 * out of loopback ports. The data phase is over when sockets are closed. */
static int set_linger0(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* One connected pair, as the upstream create_pair() builds it: a server
 * socket s on 127.0.0.1:0, a client c bound to 127.0.0.1:0 and connected to
 * it; for TCP the accepted socket replaces s. *snd gets the server side (the
 * test's c0/c1, which send), *rcv the client (p0/p1, which go in the map). */
static int open_pair(enum sm_proto proto, int *snd, int *rcv)
{
	int type = (proto == SM_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int s = -1, c = -1, err = 0;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, type, 0);
	if (s < 0) {
		err = sys_err("create a server socket", proto);
		goto out;
	}
	if (bind(s, (struct sockaddr *)&addr, len) ||
	    (proto == SM_TCP && listen(s, 1)) ||
	    getsockname(s, (struct sockaddr *)&addr, &len)) {
		err = sys_err("bind and listen on 127.0.0.1:0", proto);
		goto out;
	}
	c = socket(AF_INET, type, 0);
	if (c < 0) {
		err = sys_err("create a client socket", proto);
		goto out;
	}
	{
		struct sockaddr_in any = { .sin_family = AF_INET };

		any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(c, (struct sockaddr *)&any, sizeof(any))) {
			err = sys_err("bind the client to 127.0.0.1:0", proto);
			goto out;
		}
	}
	if (connect(c, (struct sockaddr *)&addr, len)) {
		err = sys_err("connect to the server", proto);
		goto out;
	}
	if (proto == SM_UDP) {
		len = sizeof(addr);
		if (getsockname(c, (struct sockaddr *)&addr, &len) ||
		    connect(s, (struct sockaddr *)&addr, len)) {
			err = sys_err("connect the server back to the client", proto);
			goto out;
		}
	} else {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		int a;

		if (poll(&pfd, 1, SM_WAIT_MS) != 1) {
			errno = errno ? errno : ETIMEDOUT;
			err = sys_err("see the connection on the listener", proto);
			goto out;
		}
		a = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0) {
			err = sys_err("accept", proto);
			goto out;
		}
		close(s);
		s = a;
		if (set_linger0(s) || set_linger0(c)) {
			err = sys_err("set SO_LINGER", proto);
			goto out;
		}
	}
	*snd = s;
	*rcv = c;
	return 0;
out:
	close_fd(&s);
	close_fd(&c);
	return err;
}

int sm_pairs_open(enum sm_proto proto, struct sm_pairs *sp)
{
	int err;

	sp->c0 = sp->p0 = sp->c1 = sp->p1 = -1;
	err = open_pair(proto, &sp->c0, &sp->p0);
	err = err ?: open_pair(proto, &sp->c1, &sp->p1);
	if (err)
		sm_pairs_close(sp);
	return err;
}

void sm_pairs_close(struct sm_pairs *sp)
{
	/* The map's sockets first: closing them takes them out of the map. */
	close_fd(&sp->p0);
	close_fd(&sp->p1);
	close_fd(&sp->c0);
	close_fd(&sp->c1);
}

/* ---- reading ---------------------------------------------------------- */

static int send_exact(int fd, const char *buf, int len)
{
	ssize_t n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);

	if (n == len)
		return 0;
	if (n >= 0)
		errno = EIO;
	fprintf(stderr, "sockmap_multi: cannot send %d bytes: %s\n", len,
		n < 0 ? strerror(errno) : "short send");
	return -errno;
}

/* The selftest's wait_for_fionread(): polls FIONREAD with 1 ms sleeps, and
 * counts timeout_ms in sleeps. Returns the last FIONREAD, or -errno. */
static int wait_fionread_ms(int fd, int expected, unsigned int timeout_ms)
{
	unsigned int elapsed = 0;
	int avail = 0;

	while (elapsed < timeout_ms) {
		if (ioctl(fd, FIONREAD, &avail) < 0)
			return -errno;
		if (avail >= expected)
			return avail;
		usleep(1000);
		elapsed++;
	}
	return avail;
}

/* socket_helpers.h's recv_timeout(): wait up to timeout_s for readability,
 * then a single recv(). -1 with errno ETIME on timeout. */
static int recv_timeout(int fd, char *buf, int len, int flags, unsigned int timeout_s)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r = poll(&pfd, 1, (int)timeout_s * 1000);

	if (r == 0)
		errno = ETIME;
	if (r != 1)
		return -1;
	return (int)recv(fd, buf, (size_t)len, flags);
}

/* The fix: accumulate until len bytes arrived, each recv() after a poll()
 * that waits up to SM_WAIT_MS for more. Returns the bytes received; *err is
 * 0, ETIME (no progress for SM_WAIT_MS), ENODATA (EOF) or recv's errno. */
static int recv_all(int fd, char *buf, int len, int *err)
{
	long long deadline = now_us() + SM_WAIT_MS * 1000LL;
	int got = 0;

	*err = 0;
	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_us();
		ssize_t n;
		int r;

		if (left <= 0) {
			*err = ETIME;
			break;
		}
		r = poll(&pfd, 1, (int)((left + 999) / 1000));
		if (r < 0 && errno != EINTR) {
			*err = errno;
			break;
		}
		if (r <= 0)
			continue;
		n = recv(fd, buf + got, (size_t)(len - got), MSG_DONTWAIT);
		if (n == 0) {
			*err = ENODATA;
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				/* readable but nothing to take yet: do not spin */
				usleep(100);
				continue;
			}
			*err = errno;
			break;
		}
		got += (int)n;
		deadline = now_us() + SM_WAIT_MS * 1000LL;
	}
	return got;
}

static int run_single(enum sm_proto proto, const struct sm_pairs *sp, char *rcv,
		      struct sm_result *res)
{
	int expected = proto == SM_UDP ? SM_NATIVE_BYTES : SM_BYTES, avail, n, err;

	err = send_exact(sp->c1, sent, SM_NATIVE_BYTES);
	err = err ?: send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_BYTES - SM_NATIVE_BYTES);
	if (err)
		return err;
	/* UDP's FIONREAD is the first datagram's size: this wait ends as soon
	 * as c1's 2 bytes are there, whatever became of the other 8. */
	avail = wait_fionread_ms(sp->p1, expected, UPSTREAM_FIONREAD_WAIT);
	if (avail < 0)
		return avail;
	if (avail != expected)
		res->asserts |= 1u << SM_A_FULL;
	n = recv_timeout(sp->p1, rcv, SM_BYTES, MSG_DONTWAIT, UPSTREAM_RECV_TIMEOUT_S);
	res->got = n > 0 ? n : 0;
	return 0;
}

static int run_twostage(enum sm_proto proto, const struct sm_pairs *sp, char *rcv,
			struct sm_result *res)
{
	int expected, avail, n, err;

	err = send_exact(sp->c1, sent, SM_NATIVE_BYTES);
	if (err)
		return err;
	avail = wait_fionread_ms(sp->p1, SM_NATIVE_BYTES, UPSTREAM_FIONREAD_WAIT);
	if (avail < 0)
		return avail;
	if (avail != SM_NATIVE_BYTES)
		res->asserts |= 1u << SM_A_PARTIAL;

	err = send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_BYTES - SM_NATIVE_BYTES);
	if (err)
		return err;
	expected = proto == SM_UDP ? SM_NATIVE_BYTES : SM_BYTES;
	avail = wait_fionread_ms(sp->p1, expected, UPSTREAM_FIONREAD_WAIT);
	if (avail < 0)
		return avail;
	if (avail != expected)
		res->asserts |= 1u << SM_A_FULL;
	n = recv_timeout(sp->p1, rcv, expected, MSG_DONTWAIT, UPSTREAM_RECV_TIMEOUT_S);
	res->got = n > 0 ? n : 0;
	if (n != expected || proto != SM_UDP)
		return 0; /* the upstream test stops at a short first read */

	/* UDP: the redirected datagram, read on its own. */
	expected = SM_BYTES - SM_NATIVE_BYTES;
	avail = wait_fionread_ms(sp->p1, expected, UPSTREAM_FIONREAD_WAIT);
	if (avail < 0)
		return avail;
	if (avail != expected)
		res->asserts |= 1u << SM_A_SECOND;
	n = recv_timeout(sp->p1, rcv + res->got, expected, MSG_DONTWAIT, UPSTREAM_RECV_TIMEOUT_S);
	res->got += n > 0 ? n : 0;
	return 0;
}

static int run_loop(const struct sm_pairs *sp, char *rcv, struct sm_result *res)
{
	int err, rerr;

	err = send_exact(sp->c1, sent, SM_NATIVE_BYTES);
	err = err ?: send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_BYTES - SM_NATIVE_BYTES);
	if (err)
		return err;
	res->got = recv_all(sp->p1, rcv, SM_BYTES, &rerr);
	if (rerr && rerr != ETIME && rerr != ENODATA)
		fail(res, SM_F_ERROR, "recv: %s", strerror(rerr));
	return 0;
}

/* ---- the check phase: FIONREAD once everything is queued ---------------- */

/* Waits (up to SM_WAIT_MS) until len bytes can be peeked at; returns how
 * many could, or -errno. MSG_PEEK reads across the queued messages of a
 * sockmap socket, UDP included, so it sees all the data; FIONREAD (what is
 * under test) does not for UDP. */
static int wait_queued(int fd, char *peek, int len)
{
	long long deadline = now_us() + SM_WAIT_MS * 1000LL;
	ssize_t n;

	for (;;) {
		n = recv(fd, peek, (size_t)len, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n == len || now_us() > deadline) {
			if (getenv("SM_DEBUG")) { int a = -1; ioctl(fd, FIONREAD, &a); fprintf(stderr, "DEBUG peek n=%zd errno=%d fionread=%d\n", n, errno, a); n = recv(fd, peek, (size_t)len, MSG_DONTWAIT); fprintf(stderr, "DEBUG recv n=%zd errno=%d\n", n, errno); }
			return n < 0 ? 0 : (int)n;
		}
		usleep(100);
	}
}

static void check_phase(enum sm_proto proto, const struct sm_pairs *sp, struct sm_result *res,
			int *err)
{
	char peek[SM_BYTES], got[SM_BYTES];
	int n, avail, want, rerr;

	/* Nothing may be left of the first phase. */
	if (ioctl(sp->p1, FIONREAD, &avail) < 0) {
		*err = -errno;
		return;
	}
	if (avail != 0)
		fail(res, SM_F_FIONREAD, "FIONREAD %d after all %d bytes were read, expected 0",
		     avail, SM_BYTES);

	*err = send_exact(sp->c1, check_sent, SM_NATIVE_BYTES);
	*err = *err ?: send_exact(sp->c0, check_sent + SM_NATIVE_BYTES, SM_BYTES - SM_NATIVE_BYTES);
	if (*err)
		return;
	n = wait_queued(sp->p1, peek, SM_BYTES);
	if (n < 0) {
		fail(res, SM_F_ERROR, "check phase: recv(MSG_PEEK): %s", strerror(-n));
		return;
	}
	if (n < SM_BYTES) {
		fail(res, SM_F_LOST, "check phase: only %d of %d bytes queued after %d ms", n,
		     SM_BYTES, SM_WAIT_MS);
		return;
	}
	if (ioctl(sp->p1, FIONREAD, &avail) < 0) {
		*err = -errno;
		return;
	}
	/* TCP: every queued byte. UDP: only the first datagram, whichever of
	 * the two is first (sk_msg_first_len()). */
	if (proto == SM_TCP)
		want = SM_BYTES;
	else if (!memcmp(peek, check_sent, SM_NATIVE_BYTES))
		want = SM_NATIVE_BYTES;
	else if (!memcmp(peek, check_sent + SM_NATIVE_BYTES, SM_BYTES - SM_NATIVE_BYTES))
		want = SM_BYTES - SM_NATIVE_BYTES;
	else
		want = -1;
	if (want < 0)
		fail(res, SM_F_MISMATCH, "check phase: queued \"%.*s\", sent \"%s\" in two parts",
		     SM_BYTES, peek, check_sent);
	else if (avail != want)
		fail(res, SM_F_FIONREAD, "FIONREAD %d with all %d bytes queued, expected %d (%s)",
		     avail, SM_BYTES, want,
		     proto == SM_TCP ? "all queued bytes" : "the first datagram only");

	n = recv_all(sp->p1, got, SM_BYTES, &rerr);
	if (n != SM_BYTES)
		fail(res, SM_F_LOST, "check phase: read %d of %d peeked bytes (%s)", n, SM_BYTES,
		     strerror(rerr));
	else if (memcmp(got, peek, SM_BYTES))
		fail(res, SM_F_MISMATCH, "check phase: read \"%.*s\" after peeking \"%.*s\"",
		     SM_BYTES, got, SM_BYTES, peek);
}

int sm_iteration(enum sm_proto proto, enum sm_variant variant, const struct sm_pairs *sp,
		 struct sm_result *res)
{
	char rcv[SM_BYTES + 1] = "";
	int err, rerr, more;

	memset(res, 0, sizeof(*res));
	switch (variant) {
	case SM_SINGLE:
		err = run_single(proto, sp, rcv, res);
		break;
	case SM_TWOSTAGE:
		err = run_twostage(proto, sp, rcv, res);
		break;
	case SM_LOOP:
		err = run_loop(sp, rcv, res);
		break;
	default:
		err = -EINVAL;
	}
	if (err)
		return err;

	if (res->got < SM_BYTES) {
		/* Was it late or lost? Wait for the rest as the fix would. */
		long long t0 = now_us();

		more = recv_all(sp->p1, rcv + res->got, SM_BYTES - res->got, &rerr);
		if (res->got + more < SM_BYTES) {
			fail(res, SM_F_LOST, "got %d of %d bytes, %d more within %d ms (%s)",
			     res->got, SM_BYTES, more, SM_WAIT_MS, strerror(rerr));
			return 0; /* the socket's state is unknown: no check phase */
		}
		res->late_us = now_us() - t0;
		fail(res, SM_F_SHORT, "recv got %d of %d bytes; the other %d were readable %lld us later",
		     res->got, SM_BYTES, SM_BYTES - res->got, res->late_us);
	}
	if (memcmp(rcv, sent, SM_BYTES))
		fail(res, SM_F_MISMATCH, "read \"%.*s\", sent \"%s\"", SM_BYTES, rcv, sent);

	check_phase(proto, sp, res, &err);
	return err;
}
