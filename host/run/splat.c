/* Console splat detection. The patterns are the kernel's own headlines
 * (panic(), __die(), __warn(), KASAN's and UBSAN's report banners, the
 * watchdogs); KASAN is tested before the generic "BUG:" because its banner
 * starts with "BUG: KASAN:".
 */
#include "run/splat.h"

#include <stdbool.h>
#include <string.h>

static const char *const names[SPLAT__COUNT] = {
	[SPLAT_NONE] = "none",	 [SPLAT_PANIC] = "kernel panic",
	[SPLAT_OOPS] = "oops",	 [SPLAT_BUG] = "BUG",
	[SPLAT_WARN] = "WARNING", [SPLAT_KASAN] = "KASAN report",
	[SPLAT_UBSAN] = "UBSAN report", [SPLAT_LOCKUP] = "lockup/stall",
};

const char *splat_name(enum splat_kind k)
{
	return (unsigned)k < SPLAT__COUNT ? names[k] : "?";
}

const char *console_strip_prefix(const char *line, size_t *len)
{
	const char *p = line, *end = line + *len;

	if (p < end && *p == '<') {
		const char *q = memchr(p, '>', (size_t)(end - p));

		if (q && q - p <= 4)
			p = q + 1;
	}
	if (p < end && *p == '[') {
		const char *q = memchr(p, ']', (size_t)(end - p));

		if (q && q - p < 24) {
			p = q + 1;
			/* "[  T123]" caller ids follow the timestamp on some configs */
			if (p + 1 < end && p[0] == '[') {
				q = memchr(p, ']', (size_t)(end - p));
				if (q && q - p < 12)
					p = q + 1;
			}
		}
	}
	while (p < end && *p == ' ')
		p++;
	*len = (size_t)(end - p);
	return p;
}

static int starts(const char *p, size_t len, const char *pfx)
{
	size_t n = strlen(pfx);

	return len >= n && !memcmp(p, pfx, n);
}

static int contains(const char *p, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(p + i, needle, n))
			return 1;
	return 0;
}

enum splat_kind splat_classify(const char *line, size_t len)
{
	const char *p = console_strip_prefix(line, &len);

	if (starts(p, len, "Kernel panic - not syncing"))
		return SPLAT_PANIC;
	if (starts(p, len, "BUG: KASAN:") || starts(p, len, "BUG: KFENCE:"))
		return SPLAT_KASAN;
	if (starts(p, len, "UBSAN:"))
		return SPLAT_UBSAN;
	if (contains(p, len, "BUG: soft lockup") || contains(p, len, "hard LOCKUP") ||
	    (starts(p, len, "INFO: task ") && contains(p, len, "blocked for more than")) ||
	    contains(p, len, "self-detected stall on CPU") ||
	    contains(p, len, "rcu: INFO: rcu_") || starts(p, len, "INFO: rcu_"))
		return SPLAT_LOCKUP;
	if (starts(p, len, "Oops:") || starts(p, len, "Oops "))
		return SPLAT_OOPS;
	if (starts(p, len, "BUG: ") || starts(p, len, "kernel BUG at "))
		return SPLAT_BUG;
	if (starts(p, len, "WARNING: CPU: ") || starts(p, len, "WARNING: at "))
		return SPLAT_WARN;
	return SPLAT_NONE;
}

static bool number(const char **p, const char *end, unsigned int *out)
{
	unsigned long n = 0;

	if (*p >= end || **p < '0' || **p > '9')
		return false;
	while (*p < end && **p >= '0' && **p <= '9') {
		n = n * 10 + (unsigned long)(*(*p)++ - '0');
		if (n > 1000000)
			return false;
	}
	*out = (unsigned int)n;
	return true;
}

enum marker_kind marker_parse_sub(const char *line, size_t len, unsigned int *num, unsigned int *sub)
{
	const char *p = console_strip_prefix(line, &len), *end;
	enum marker_kind k;
	unsigned int n, m = 0;

	end = p + len;
	if (starts(p, len, "kta: begin "))
		k = MARKER_BEGIN, p += 11;
	else if (starts(p, len, "kta: end "))
		k = MARKER_END, p += 9;
	else if (starts(p, len, "kta: sub "))
		k = MARKER_SUB, p += 9;
	else
		return MARKER_NONE;
	if (!number(&p, end, &n))
		return MARKER_NONE;
	if (k == MARKER_SUB && (p >= end || *p++ != ' ' || !number(&p, end, &m)))
		return MARKER_NONE;
	if (p < end && *p != ' ' && *p != '\r' && *p != '\n')
		return MARKER_NONE;
	*num = n;
	*sub = m;
	return k;
}

enum marker_kind marker_parse(const char *line, size_t len, unsigned int *num)
{
	unsigned int sub;

	return marker_parse_sub(line, len, num, &sub);
}
