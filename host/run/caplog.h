/* A log file that cannot grow without bound: the first half of its cap is
 * written as it comes, the last half is kept in memory (a ring) and
 * written at the end after a line saying how much was dropped between.
 * A WARN storm or a chatty test then costs a bounded file and memory.
 */
#ifndef KTA_CAPLOG_H
#define KTA_CAPLOG_H

#include <stddef.h>
#include <stdint.h>

struct caplog {
	int fd;               /* -1: nothing is written */
	size_t cap;           /* bytes kept at most (head + tail) */
	size_t head;          /* written so far to the file (<= cap / 2) */
	char *ring;           /* the tail: cap - cap / 2 bytes */
	size_t ring_len, ring_pos;
	uint64_t total;       /* bytes offered */
};

/* Takes fd (closed by caplog_close). */
void caplog_init(struct caplog *l, int fd, size_t cap);
void caplog_write(struct caplog *l, const void *data, size_t len);
/* Writes the tail (and the "dropped" line if any), closes the file. */
void caplog_close(struct caplog *l);

#endif
