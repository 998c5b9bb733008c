/* The multi-channel sockmap scenario's data phase: socket pairs, the three
 * ways of reading p1 (single, twostage, loop), the upstream test's
 * assertions, the classification of what arrived, and what counts as a
 * failure in each variant's rate. See scenario.h; the race itself is
 * described in sockmap_redir.bpf.c, the check phase is check.c.
 *
 * The single and twostage variants copy the upstream test's timing on
 * purpose, bugs included (sockio.h): wait_fionread_ms() is the selftest's
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
#include <unistd.h>

#include "sockio.h"

/* What the upstream test sends: "01" on the native path, "23456789" through
 * the redirect; p1 must read "0123456789". */
static const char sent[SM_BYTES + 1] = "0123456789";

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
		[SM_F_STALLED] = "data stalled",
		[SM_F_PEEK] = "MSG_PEEK blind",
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
		[SM_A_RECV] = "recv_timeout(p1)",
		[SM_A_MISMATCH] = "data mismatch",
		[SM_A_SECOND] = "second ioctl(FIONREAD) full return",
		[SM_A_SECOND_RECV] = "second recv_timeout(p1)",
		[SM_A_SECOND_MISMATCH] = "second data mismatch",
	};

	return (unsigned int)a < SM_NR_ASSERT ? names[a] : "?";
}

void sm_note(struct sm_phase *ph, enum sm_fail f, const char *fmt, ...)
{
	va_list ap;

	if (ph->fails & (1u << f))
		return; /* keep the first detail of each class */
	ph->fails |= 1u << f;
	va_start(ap, fmt);
	vsnprintf(ph->detail[f], sizeof(ph->detail[f]), fmt, ap);
	va_end(ap);
}

/* An upstream ASSERT_*() that failed: keeps going, like ASSERT_EQ() does;
 * the caller returns where upstream has `goto end`. */
static void note_assert(struct sm_result *res, enum sm_assert a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_assert(struct sm_result *res, enum sm_assert a, const char *fmt, ...)
{
	va_list ap;

	res->asserts |= 1u << a;
	va_start(ap, fmt);
	vsnprintf(res->assert_detail[a], sizeof(res->assert_detail[a]), fmt, ap);
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

/* ---- the data phase ---------------------------------------------------- */

/* upstream's wait_for_fionread(fd, expected, IO_TIMEOUT_SEC) followed by
 * ASSERT_EQ(avail, expected, name). */
static void assert_fionread(struct sm_result *res, int fd, int expected, enum sm_assert a)
{
	long long t0 = now_us();
	int avail = wait_fionread_ms(fd, expected, UPSTREAM_FIONREAD_WAIT);

	if (avail == expected)
		return;
	if (avail < 0)
		note_assert(res, a, "ioctl(FIONREAD): %s", strerror(-avail));
	else
		note_assert(res, a, "FIONREAD %d after %lld us of 1 ms waits, expected %d", avail,
			    (now_us() - t0), expected);
}

/* upstream's recv_timeout(p1, buf, len, MSG_DONTWAIT, 1) with
 * ASSERT_EQ(recvd, expected, name) || ASSERT_OK(memcmp(...), mismatch_name):
 * true when both held. *got gets what recv returned (0 on error). */
static bool assert_recv(struct sm_result *res, int fd, char *buf, int len, int expected,
			const char *want, enum sm_assert a, enum sm_assert mismatch, int *got)
{
	int n = recv_timeout(fd, buf, len, MSG_DONTWAIT, UPSTREAM_RECV_TIMEOUT_S);

	*got = n > 0 ? n : 0;
	if (n != expected) {
		if (n < 0)
			note_assert(res, a, "recv: %s after %d s, expected %d bytes", strerror(errno),
				    UPSTREAM_RECV_TIMEOUT_S, expected);
		else
			note_assert(res, a, "recv returned %d bytes, expected %d", n, expected);
		return false;
	}
	if (memcmp(want, buf, (size_t)n)) {
		note_assert(res, mismatch, "read \"%.*s\", expected \"%.*s\"", n, buf, n, want);
		return false;
	}
	return true;
}

/* The test before 7.3.4, as the seed describes it (without its first
 * FIONREAD stage): both sends, the FIONREAD wait, one recv of everything. */
static int run_single(enum sm_proto proto, const struct sm_pairs *sp, char *rcv,
		      struct sm_result *res)
{
	int expected = proto == SM_UDP ? SM_NATIVE_BYTES : SM_BYTES, err;

	err = send_exact(sp->c1, sent, SM_NATIVE_BYTES);
	err = err ?: send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_REDIR_BYTES);
	if (err)
		return err;
	/* UDP's FIONREAD is the first datagram's size: this wait ends as soon
	 * as c1's 2 bytes are there, whatever became of the other 8. */
	assert_fionread(res, sp->p1, expected, SM_A_FULL);
	/* upstream reads sizeof(rcv), 11: the same as 10 with 10 sent */
	assert_recv(res, sp->p1, rcv, SM_BYTES, SM_BYTES, sent, SM_A_RECV, SM_A_MISMATCH,
		    &res->got);
	return 0;
}

/* test_sockmap_multi_channels() of Debian's 7.3.4, statement by statement
 * (sockmap_basic.c, around line 1248): an assertion that fails is noted and
 * the test goes on, except where upstream does `goto end`. Its sends
 * (xsend) are ours: a short send on loopback is a setup error. */
static int run_twostage(enum sm_proto proto, const struct sm_pairs *sp, char *rcv,
			struct sm_result *res)
{
	int expected, err, n;

	err = send_exact(sp->c1, sent, SM_NATIVE_BYTES);
	if (err)
		return err;
	assert_fionread(res, sp->p1, SM_NATIVE_BYTES, SM_A_PARTIAL);

	err = send_exact(sp->c0, sent + SM_NATIVE_BYTES, SM_REDIR_BYTES);
	if (err)
		return err;
	expected = proto == SM_UDP ? SM_NATIVE_BYTES : SM_BYTES;
	assert_fionread(res, sp->p1, expected, SM_A_FULL);
	if (!assert_recv(res, sp->p1, rcv, expected, expected, sent, SM_A_RECV, SM_A_MISMATCH,
			 &res->got))
		return 0; /* goto end */

	/* UDP: the redirected datagram, read on its own. TCP: nothing left. */
	expected = SM_BYTES - expected;
	if (!expected)
		return 0;
	assert_fionread(res, sp->p1, expected, SM_A_SECOND);
	assert_recv(res, sp->p1, rcv + res->got, expected, expected, sent + SM_BYTES - expected,
		    SM_A_SECOND_RECV, SM_A_SECOND_MISMATCH, &n);
	res->got += n;
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
		sm_note(&res->data, SM_F_ERROR, "recv: %s", strerror(rerr));
	return 0;
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
			sm_note(&res->data, SM_F_LOST, "got %d of %d bytes, %d more within %d ms (%s)",
				res->got, SM_BYTES, more, SM_WAIT_MS, strerror(rerr));
			return 0;
		}
		res->late_us = now_us() - t0;
		sm_note(&res->data, SM_F_SHORT,
			"recv got %d of %d bytes; the other %d were readable %lld us later", res->got,
			SM_BYTES, SM_BYTES - res->got, res->late_us);
	}
	if (memcmp(rcv, sent, SM_BYTES))
		sm_note(&res->data, SM_F_MISMATCH, "read \"%.*s\", sent \"%s\"", SM_BYTES, rcv, sent);
	return 0;
}

/* single and loop: the race as the reader sees it, whatever else the
 * upstream test asserts. twostage: the upstream subtest itself. */
bool sm_failed(enum sm_variant variant, const struct sm_result *res)
{
	if (variant == SM_TWOSTAGE)
		return res->asserts != 0;
	return res->data.fails != 0;
}

const char *sm_rate_meaning(enum sm_variant variant)
{
	switch (variant) {
	case SM_SINGLE:
		return "iterations whose one recv() did not return the 10 bytes intact (the race)";
	case SM_TWOSTAGE:
		return "iterations in which the 7.3.4 upstream subtest would have failed (any of its "
		       "assertions, FIONREAD ones included, with its own timeouts)";
	case SM_LOOP:
		return "iterations whose recv() loop did not return the 10 bytes intact";
	default:
		return "?";
	}
}

bool sm_checkable(const struct sm_result *res)
{
	return !(res->data.fails & ((1u << SM_F_LOST) | (1u << SM_F_ERROR)));
}
