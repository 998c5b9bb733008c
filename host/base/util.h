/* Small helpers shared by the host driver: scope-bound cleanup, file and
 * path utilities, and child-process helpers. Every function returns 0 or a
 * negative errno; none of them exits or prints except through log.h.
 */
#ifndef KTA_UTIL_H
#define KTA_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Room for element n of a growing array arr with cap slots: when n has
 * reached cap, double it (first: the initial size). 0, or -ENOMEM with arr
 * and cap as they were. */
#define ARRAY_RESERVE(arr, cap, n, first)                                        \
	({                                                                       \
		int reserve_err_ = 0;                                            \
		if ((n) >= (cap)) {                                              \
			size_t reserve_cap_ = (cap) ? 2 * (cap) : (first);       \
			__typeof__(arr) reserve_v_ = realloc((arr), reserve_cap_ * sizeof(*(arr))); \
			if (reserve_v_) {                                        \
				(arr) = reserve_v_;                              \
				(cap) = reserve_cap_;                            \
			} else {                                                 \
				reserve_err_ = -ENOMEM;                          \
			}                                                        \
		}                                                                \
		reserve_err_;                                                    \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define cleanup_free __attribute__((cleanup(freep)))
#define cleanup_close __attribute__((cleanup(closep)))
#define cleanup_fclose __attribute__((cleanup(fclosep)))

/* Hand ownership out of a cleanup-bound variable. */
#define steal_pointer(pp)                                                     \
	({                                                                    \
		__typeof__(*(pp)) _p = *(pp);                                 \
		*(pp) = NULL;                                                 \
		_p;                                                           \
	})

static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

/* A growable byte buffer. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

int buf_append(struct buf *b, const void *data, size_t len);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

static inline void buf_freep(struct buf *b)
{
	buf_free(b);
}
#define cleanup_buf __attribute__((cleanup(buf_freep)))

int read_file(const char *path, struct buf *out, size_t max);
/* Write to path.tmp.PID then rename: readers never see half a file. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
int mkdir_p(const char *path, mode_t mode);
int rm_rf(const char *path);
int copy_file(const char *src, const char *dst, mode_t mode);
bool path_exists(const char *path);
char *path_join(const char *a, const char *b);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Directory holding the running kta binary. */
int self_dir(char *out, size_t size);
/* kta-out/<UTC time>-<what>-<pid>: where a command's outputs go by default. */
int kta_out_dir(const char *what, char *out, size_t n);
/* The kta that child runs start (validate's cells, bisect's steps, the
 * matrix's arches): $KTA_SELF (a wrapper, or a test's fault injector)
 * or this executable. */
int kta_self(char *out, size_t size);
/* A file kta ships beside its binary (<bindir>/../REL, then ./REL). */
int kta_data_path(const char *rel, char *out, size_t size);

/* Cache root: $KTA_CACHE, else $XDG_CACHE_HOME/kta, else ~/.cache/kta. */
int cache_dir(char *out, size_t size);
/* The same, absolute (builds run make elsewhere, and bind it into a
 * toolchain root at its path), after saying what went wrong. */
int cache_dir_abs(char *out, size_t size);
/* Fail with -ENOSPC (and say so) when dir's filesystem has less than need. */
int check_free_space(const char *dir, uint64_t need_bytes, const char *what);

/* The length (1 to 4) of the well-formed UTF-8 sequence at s (n bytes
 * left), or 0 when it is not one: a stray continuation byte, a truncated
 * or overlong sequence, a surrogate, or past U+10FFFF. Pure. */
size_t utf8_len(const unsigned char *s, size_t n);

uint64_t monotonic_ms(void);

int sha256_file(const char *path, char hex[65]);

#endif
