/* Formatting into fixed-size path buffers with truncation reported as
 * -ENAMETOOLONG instead of silently cutting a path short.
 */
#ifndef KTA_PATHF_H
#define KTA_PATHF_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static inline __attribute__((format(printf, 3, 4))) int pathf(char *out, size_t size,
							      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

#endif
