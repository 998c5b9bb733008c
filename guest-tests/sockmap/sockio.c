/* Socket I/O helpers of the sockmap suite: see sockio.h. */
#include "sockio.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int send_exact(int fd, const char *buf, int len)
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

int wait_fionread_ms(int fd, int expected, unsigned int timeout_ms)
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

int recv_timeout(int fd, char *buf, int len, int flags, unsigned int timeout_s)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r = poll(&pfd, 1, (int)timeout_s * 1000);

	if (r == 0)
		errno = ETIME;
	if (r != 1)
		return -1;
	return (int)recv(fd, buf, (size_t)len, flags);
}

int recv_all(int fd, char *buf, int len, int *err)
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

int peek_wait(int fd, char *peek, int len, int wait_ms, int *peek_err)
{
	long long deadline = now_us() + wait_ms * 1000LL;
	ssize_t n;

	for (;;) {
		n = recv(fd, peek, (size_t)len, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		*peek_err = n < 0 ? EAGAIN : 0;
		if (n == len || now_us() > deadline)
			return n < 0 ? 0 : (int)n;
		usleep(100);
	}
}
