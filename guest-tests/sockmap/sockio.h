/* Socket I/O helpers of the sockmap suite, shared by the data phase
 * (scenario.c) and the check phase (check.c): our own reads and waits, which
 * have real timeouts, and copies of the upstream selftest's helpers, which
 * keep the upstream timing on purpose, bugs included.
 */
#ifndef KTA_SOCKMAP_SOCKIO_H
#define KTA_SOCKMAP_SOCKIO_H

#define SM_WAIT_MS 5000 /* the real timeout of every wait of ours */

/* The upstream test's "30" (IO_TIMEOUT_SEC) as its wait_for_fionread()
 * counts it: 30 sleeps of 1 ms, not 30 s. */
#define UPSTREAM_FIONREAD_WAIT 30
/* The timeout of every upstream recv_timeout() of the multi-channel test. */
#define UPSTREAM_RECV_TIMEOUT_S 1

long long now_us(void);

/* send() of exactly len bytes; 0 or -errno (EIO for a short send), with a
 * message on stderr. */
int send_exact(int fd, const char *buf, int len);

/* The selftest's wait_for_fionread(): FIONREAD polled with 1 ms sleeps,
 * timeout_ms counted in sleeps. Returns the last FIONREAD (as soon as it
 * is >= expected), or -errno when the ioctl fails. */
int wait_fionread_ms(int fd, int expected, unsigned int timeout_ms);

/* socket_helpers.h's recv_timeout(): wait up to timeout_s for readability,
 * then a single recv(). -1 with errno ETIME on timeout. */
int recv_timeout(int fd, char *buf, int len, int flags, unsigned int timeout_s);

/* The fix: accumulate until len bytes arrived, each recv() after a poll()
 * that waits up to SM_WAIT_MS for more. Returns the bytes received; *err is
 * 0, ETIME (no progress for SM_WAIT_MS), ENODATA (EOF) or recv's errno. */
int recv_all(int fd, char *buf, int len, int *err);

/* Waits up to wait_ms until len bytes can be peeked at (recv(MSG_PEEK)
 * reads across the queued messages of a sockmap socket, UDP included).
 * Returns how many could be, or -errno; *peek_err gets the last recv()
 * errno when nothing could be (EAGAIN: nothing readable), else 0. */
int peek_wait(int fd, char *peek, int len, int wait_ms, int *peek_err);

#endif
