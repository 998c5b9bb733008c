/* Parsing what the guest sends inside frames: KTAP v1 result lines and the
 * key=value facts after them. Pure functions over untrusted text.
 */
#ifndef KTA_KTAP_H
#define KTA_KTAP_H

#include <stdbool.h>
#include <stddef.h>

struct ktap_line {
	bool ok;
	unsigned int num;
	char name[128];
	char directive[16]; /* "SKIP", "TODO", "XFAIL", "TIMEOUT", "CRASH", or "" */
	char text[256];     /* what follows the directive (or the whole '#' text) */
};

/* Parse "ok N name # DIRECTIVE text" (one line, no newline needed).
 * Returns 0 or -EINVAL. */
int ktap_parse_result(const char *line, size_t len, struct ktap_line *out);

/* Copy name replacing what KTAP and file names cannot carry ('#', spaces,
 * '/', control characters) with '_'. */
void ktap_sanitize_name(const char *in, char *out, size_t outsz);

#endif
