/* Sanitizer reports from a runtime that cannot symbolize in the guest
 * (LLVM's: it wants llvm-symbolizer, which the guest does not have) name
 * their frames by module and offset only: "#1 0xaaaad0c9b60c
 * (/kta/tests/asan_token+0x11b60c)". kta has those modules on the host:
 * llvm-symbolizer names each frame's function and line there, as gcc's
 * libasan does in the guest.
 */
#ifndef KTA_SYMBOLIZE_H
#define KTA_SYMBOLIZE_H

#include <stddef.h>

#include "base/util.h"

/* A frame without a function: where it is in the log and what to ask. */
struct san_frame {
	size_t at, skip;    /* the spaces between the address and "(MODULE": where, how many */
	char module[256];   /* the guest's path */
	unsigned long long offset;
};

/* Pure: up to max unsymbolized frames of log, in order; how many found. */
size_t san_frames(const char *log, size_t len, struct san_frame *out, size_t max);

/* Pure: log with " in WHAT " instead of the spaces before each frame's
 * module, what[i] for frames[i] (NULL or "": left as is), into out. */
int san_insert(const char *log, size_t len, const struct san_frame *frames, char *const *what, size_t n,
	       struct buf *out);

/* Maps a guest path to the host file it was copied from, or NULL. */
typedef const char *(*san_resolve_fn)(const char *guest, void *ctx);

/* Symbolize log's frames whose module resolve() knows, in place. Best
 * effort: 0 also when nothing could be (no llvm-symbolizer, a stripped
 * program); a negative errno only when out of memory. */
int san_symbolize(struct buf *log, san_resolve_fn resolve, void *ctx);

#endif
