/* key=value lines: the agent's frames, kta's info files in cache entries
 * (kernel.info, source.info, build.info, ...) and a kernel's .config are
 * read by one reader and written by one writer.
 */
#ifndef KTA_KV_H
#define KTA_KV_H

#include <stddef.h>

#include "base/util.h"

/* The guest's and test_progs' bytes (bounded by len, not NUL-terminated):
 * the first line `key=...`, copied into out, cut to fit. Returns the
 * value's full length, or -ENOENT. */
int kv_get(const char *text, size_t len, const char *key, char *out, size_t outsz);
/* The same for space- or newline-separated words ("a=1 b=2"). */
int kv_get_word(const char *text, size_t len, const char *key, char *out, size_t outsz);

/* kta's own files: the value of the first line `key=...` of the string
 * text (NULL: none) into out. -ENOENT when absent, -ENAMETOOLONG when it
 * does not fit (out is then untouched). */
int kv_value(const char *text, const char *key, char *out, size_t size);

/* kv_value on a file of at most 64 KiB. */
int kv_read(const char *path, const char *key, char *out, size_t size);

/* Append `key=value\n` to b; -EINVAL for a key or value with a newline
 * (it would forge another line) or a key with '='. */
int kv_add(struct buf *b, const char *key, const char *value);

#endif
