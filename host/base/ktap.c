/* KTAP v1 result-line and key=value parsing. */
#include "base/ktap.h"

#include <errno.h>
#include <string.h>

static void copy_trim(char *dst, size_t dstsz, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int ktap_parse_result(const char *line, size_t len, struct ktap_line *out)
{
	const char *p = line, *end, *hash;
	unsigned long num = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	end = memchr(line, '\n', len);
	if (end)
		len = (size_t)(end - line);
	end = line + len;
	if (len >= 7 && !memcmp(p, "not ok ", 7)) {
		p += 7;
	} else if (len >= 3 && !memcmp(p, "ok ", 3)) {
		out->ok = true;
		p += 3;
	} else {
		return -EINVAL;
	}
	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	while (p < end && *p >= '0' && *p <= '9') {
		num = num * 10 + (unsigned long)(*p - '0');
		if (num > 1000000)
			return -EINVAL;
		p++;
	}
	out->num = (unsigned int)num;
	if (p < end && *p != ' ')
		return -EINVAL;
	hash = memchr(p, '#', (size_t)(end - p));
	copy_trim(out->name, sizeof(out->name), p, (size_t)((hash ? hash : end) - p));
	if (out->name[0] == '-' && out->name[1] == ' ')
		memmove(out->name, out->name + 2, strlen(out->name + 2) + 1);
	if (!hash)
		return 0;
	p = hash + 1;
	while (p < end && *p == ' ')
		p++;
	for (i = 0; p + i < end && i + 1 < sizeof(out->directive) && p[i] >= 'A' && p[i] <= 'Z'; i++)
		;
	if (i >= 4 && (p + i == end || p[i] == ' ')) {
		memcpy(out->directive, p, i);
		out->directive[i] = '\0';
		p += i;
	}
	copy_trim(out->text, sizeof(out->text), p, (size_t)(end - p));
	return 0;
}

void ktap_sanitize_name(const char *in, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (c <= ' ' || c == '#' || c == '/' || c >= 0x7f) ? '_' : (char)c;
	}
	out[i] = '\0';
}
