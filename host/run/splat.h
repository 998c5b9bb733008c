/* Recognising kernel trouble on the serial console, and the agent's test
 * markers, one line at a time. Pure: no I/O, no allocation.
 */
#ifndef KTA_SPLAT_H
#define KTA_SPLAT_H

#include <stddef.h>

enum splat_kind {
	SPLAT_NONE,
	SPLAT_PANIC,     /* Kernel panic - not syncing */
	SPLAT_OOPS,      /* Oops: ... */
	SPLAT_BUG,       /* BUG: ..., kernel BUG at ... */
	SPLAT_WARN,      /* WARNING: CPU: ... */
	SPLAT_KASAN,     /* BUG: KASAN: ... */
	SPLAT_UBSAN,     /* UBSAN: ... */
	SPLAT_LOCKUP,    /* soft/hard lockup, hung task, RCU stall */
	SPLAT__COUNT,
};

const char *splat_name(enum splat_kind k);

/* Classify one console line (timestamp prefix allowed). */
enum splat_kind splat_classify(const char *line, size_t len);

enum marker_kind { MARKER_NONE, MARKER_BEGIN, MARKER_END, MARKER_SUB };

/* "kta: begin N name" / "kta: end N" / "kta: sub N M" (subtest M of test
 * N ended) written by the agent to /dev/kmsg; *sub is M for MARKER_SUB. */
enum marker_kind marker_parse(const char *line, size_t len, unsigned int *num);
enum marker_kind marker_parse_sub(const char *line, size_t len, unsigned int *num, unsigned int *sub);

/* Strip "[    1.234567] " and "<4>" style prefixes; returns the rest. */
const char *console_strip_prefix(const char *line, size_t *len);

#endif
