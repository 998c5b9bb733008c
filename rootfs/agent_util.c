/* The agent's own small helpers: its console log line, clocks, reading a
 * whole file. Everything else in rootfs/ may use them; they use nothing of
 * it. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void agent_log(const char *fmt, ...)
{
	static const char prefix[] = "kta-agent: ";
	char msg[1024];
	va_list ap;
	int n;

	memcpy(msg, prefix, sizeof(prefix) - 1);
	va_start(ap, fmt);
	n = vsnprintf(msg + sizeof(prefix) - 1, sizeof(msg) - sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += (int)sizeof(prefix) - 1;
	if (n > (int)sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	/* One write, so the line is not split by kernel messages. */
	if (write(STDERR_FILENO, msg, (size_t)n) < 0)
		return;
}

uint64_t clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	struct stat st;

	if (fd < 0)
		return -errno;
	/* sysfs and proc files report size 0; regular files are read at once. */
	if (!fstat(fd, &st) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	for (;;) {
		ssize_t r;

		if (!buf || n + 1 >= cap) {
			char *p;

			if (buf)
				cap *= 2;
			p = realloc(buf, cap);
			if (!p) {
				err = -ENOMEM;
				break;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
