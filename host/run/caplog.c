/* Capped logs (caplog.h). */
#include "run/caplog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (fd >= 0 && len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

void caplog_init(struct caplog *l, int fd, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->cap = cap;
}

void caplog_write(struct caplog *l, const void *data, size_t len)
{
	const char *p = data;
	size_t room = l->cap / 2 > l->head ? l->cap / 2 - l->head : 0, tail = l->cap - l->cap / 2;

	l->total += len;
	if (l->fd < 0)
		return;
	if (room) {
		size_t n = len < room ? len : room;

		put(l->fd, p, n);
		l->head += n;
		p += n;
		len -= n;
	}
	if (!len || !tail)
		return;
	if (!l->ring && !(l->ring = malloc(tail)))
		return;
	/* Only the last `tail` bytes of this write can matter. */
	if (len > tail) {
		p += len - tail;
		len = tail;
	}
	while (len) {
		size_t n = tail - l->ring_pos < len ? tail - l->ring_pos : len;

		memcpy(l->ring + l->ring_pos, p, n);
		l->ring_pos = (l->ring_pos + n) % tail;
		if (l->ring_len < tail)
			l->ring_len = l->ring_len + n > tail ? tail : l->ring_len + n;
		p += n;
		len -= n;
	}
}

void caplog_close(struct caplog *l)
{
	size_t tail = l->cap - l->cap / 2;
	uint64_t dropped = l->total - l->head - l->ring_len;

	if (l->fd >= 0 && l->ring_len) {
		if (dropped) {
			char line[160];
			int n = snprintf(line, sizeof(line),
					 "\n[kta: %llu bytes dropped here: the log keeps its first and last %zu bytes]\n",
					 (unsigned long long)dropped, tail);

			put(l->fd, line, (size_t)n);
		}
		/* Oldest first: from ring_pos when the ring is full. */
		if (l->ring_len == tail) {
			put(l->fd, l->ring + l->ring_pos, tail - l->ring_pos);
			put(l->fd, l->ring, l->ring_pos);
		} else {
			put(l->fd, l->ring, l->ring_len);
		}
	}
	if (l->fd >= 0)
		close(l->fd);
	free(l->ring);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}
