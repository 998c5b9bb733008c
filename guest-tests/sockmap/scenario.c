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
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What the upstream test sends: "01" on the native path, "23456789" through
 * the redirect; p1 must read "0123456789". The check phase sends other bytes
 * so that a leftover of the first phase cannot pass for check data. */
static const char sent[SM_BYTES + 1] = "0123456789";
static const char check_sent[SM_BYTES + 1] = "abcdefghij"; /* 8 redirected, 2 native */

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

static void note_fail(struct sm_result *res, enum sm_fail f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_fail(struct sm_result *res, enum sm_fail f, const char *fmt, ...)
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

static void loopback_addr(struct sockaddr_in *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

int sm_listener_open(enum sm_proto proto, struct sm_listener *l)
{
	socklen_t len = sizeof(l->addr);

	l->fd = -1;
	if (proto != SM_TCP)
		return 0;
	loopback_addr(&l->addr);
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0)
		return sys_err("create the listening socket", proto);
	if (bind(l->fd, (struct sockaddr *)&l->addr, len) || listen(l->fd, 2) ||
	    getsockname(l->fd, (struct sockaddr *)&l->addr, &len)) {
		int err = sys_err("listen on 127.0.0.1:0", proto);

		close_fd(&l->fd);
		return err;
	}
	return 0;
}

void sm_listener_close(struct sm_listener *l)
{
	close_fd(&l->fd);
}

/* One connected pair, as the upstream create_pair() builds it: a client c
 * connected to a server socket s on 127.0.0.1:0 (upstream also binds c to
 * 127.0.0.1:0 first; connect() does the same implicitly).
 * TCP: s is accepted from the run's listener (upstream makes a listener per
 * pair; one for all is the same to the data path and cheaper). UDP: s is
 * bound here and connected back to c. *snd gets s (the test's c0/c1, which
 * send), *rcv gets c (p0/p1, which go in the map). */
static int open_pair(enum sm_proto proto, const struct sm_listener *l, int *snd, int *rcv)
{
	int type = (proto == SM_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC;
	struct sockaddr_in addr, caddr;
	socklen_t len = sizeof(addr);
	int s = -1, c = -1, err = 0;

	if (proto == SM_TCP) {
		addr = l->addr;
	} else {
		loopback_addr(&addr);
		s = socket(AF_INET, type, 0);
		if (s < 0) {
			err = sys_err("create a server socket", proto);
			goto out;
		}
		if (bind(s, (struct sockaddr *)&addr, len) ||
		    getsockname(s, (struct sockaddr *)&addr, &len)) {
			err = sys_err("bind to 127.0.0.1:0", proto);
			goto out;
		}
	}
	c = socket(AF_INET, type, 0);
	if (c < 0) {
		err = sys_err("create a client socket", proto);
		goto out;
	}
	if (connect(c, (struct sockaddr *)&addr, sizeof(addr))) {
		err = sys_err("connect to the server", proto);
		goto out;
	}
	if (proto == SM_UDP) {
		len = sizeof(caddr);
		if (getsockname(c, (struct sockaddr *)&caddr, &len) ||
		    connect(s, (struct sockaddr *)&caddr, len)) {
			err = sys_err("connect the server back to the client", proto);
			goto out;
		}
	} else {
		/* On loopback connect() returns with the connection in the
		 * accept queue; poll() only if it is not there yet. */
		s = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = l->fd, .events = POLLIN };

			if (poll(&pfd, 1, SM_WAIT_MS) == 1)
				s = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
			else
				errno = ETIMEDOUT;
		}
		if (s < 0) {
			err = sys_err("accept", proto);
			goto out;
		}
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

int sm_loopback_up(bool *was_down)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	*was_down = false;
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		*was_down = true;
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(fd);
	return err;
}

int sm_pairs_open(enum sm_proto proto, const struct sm_listener *l, struct sm_pairs *sp)
{
	int err;

	sp->c0 = sp->p0 = sp->c1 = sp->p1 = -1;
	err = open_pair(proto, l, &sp->c0, &sp->p0);
	err = err ?: open_pair(proto, l, &sp->c1, &sp->p1);
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
	err = err ?: send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_REDIR_BYTES);
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

	err = send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_REDIR_BYTES);
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
	expected = SM_REDIR_BYTES;
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
	err = err ?: send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_REDIR_BYTES);
	if (err)
		return err;
	res->got = recv_all(sp->p1, rcv, SM_BYTES, &rerr);
	if (rerr && rerr != ETIME && rerr != ENODATA)
		note_fail(res, SM_F_ERROR, "recv: %s", strerror(rerr));
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
		if (n == len || now_us() > deadline)
			return n < 0 ? 0 : (int)n;
		usleep(100);
	}
}

static void check_phase(enum sm_proto proto, const struct sm_pairs *sp, struct sm_result *res,
			int *err)
{
	struct pollfd pfd = { .events = POLLIN };
	char peek[SM_BYTES], got[SM_BYTES];
	int n, avail, want, rerr;

	/* Nothing may be left of the first phase. */
	if (ioctl(sp->p1, FIONREAD, &avail) < 0) {
		*err = -errno;
		return;
	}
	if (avail != 0)
		note_fail(res, SM_F_FIONREAD, "FIONREAD %d after all %d bytes were read, expected 0",
			  avail, SM_BYTES);

	/* The redirected part first, waited for with poll(): it is all there
	 * is, so POLLIN means the backlog worker queued it (a real wait, not a
	 * sleep loop). Then the native part, queued at once. For UDP the first
	 * datagram is thus the 8-byte one here, and the 2-byte one in the
	 * variants' phase: FIONREAD is checked with either first. */
	*err = send_exact(sp->c0, check_sent, SM_REDIR_BYTES);
	if (*err)
		return;
	pfd.fd = sp->p1;
	poll(&pfd, 1, SM_WAIT_MS); /* on timeout, wait_queued() tells */
	*err = send_exact(sp->c1, check_sent + SM_REDIR_BYTES, SM_NATIVE_BYTES);
	if (*err)
		return;
	n = wait_queued(sp->p1, peek, SM_BYTES);
	if (n < 0) {
		note_fail(res, SM_F_ERROR, "check phase: recv(MSG_PEEK): %s", strerror(-n));
		return;
	}
	if (n < SM_BYTES) {
		note_fail(res, SM_F_LOST, "check phase: only %d of %d bytes queued after %d ms", n,
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
	else if (!memcmp(peek, check_sent, SM_REDIR_BYTES))
		want = SM_REDIR_BYTES;
	else if (!memcmp(peek, check_sent + SM_REDIR_BYTES, SM_NATIVE_BYTES))
		want = SM_NATIVE_BYTES;
	else
		want = -1;
	if (want < 0)
		note_fail(res, SM_F_MISMATCH, "check phase: queued \"%.*s\", sent \"%s\" in two parts",
			  SM_BYTES, peek, check_sent);
	else if (avail != want)
		note_fail(res, SM_F_FIONREAD, "FIONREAD %d with all %d bytes queued, expected %d (%s)",
			  avail, SM_BYTES, want,
			  proto == SM_TCP ? "all queued bytes" : "the first datagram only");

	n = recv_all(sp->p1, got, SM_BYTES, &rerr);
	if (n != SM_BYTES)
		note_fail(res, SM_F_LOST, "check phase: read %d of %d peeked bytes (%s)", n, SM_BYTES,
			  strerror(rerr));
	else if (memcmp(got, peek, SM_BYTES))
		note_fail(res, SM_F_MISMATCH, "check phase: read \"%.*s\" after peeking \"%.*s\"",
			  SM_BYTES, got, SM_BYTES, peek);
}

int sm_iteration(enum sm_proto proto, enum sm_variant variant, const struct sm_pairs *sp,
		 bool check, struct sm_result *res)
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
			note_fail(res, SM_F_LOST, "got %d of %d bytes, %d more within %d ms (%s)",
				  res->got, SM_BYTES, more, SM_WAIT_MS, strerror(rerr));
			return 0; /* the socket's state is unknown: no check phase */
		}
		res->late_us = now_us() - t0;
		note_fail(res, SM_F_SHORT, "recv got %d of %d bytes; the other %d were readable %lld us later",
			  res->got, SM_BYTES, SM_BYTES - res->got, res->late_us);
	}
	if (memcmp(rcv, sent, SM_BYTES))
		note_fail(res, SM_F_MISMATCH, "read \"%.*s\", sent \"%s\"", SM_BYTES, rcv, sent);

	if (check)
		check_phase(proto, sp, res, &err);
	return err;
}
