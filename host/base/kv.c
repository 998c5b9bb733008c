/* key=value lines (kv.h). */
#include "base/kv.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const char *find_sep(const char *p, const char *end, bool words)
{
	for (; p < end; p++)
		if (*p == '\n' || (words && *p == ' '))
			return p;
	return NULL;
}

static int kv_find(const char *text, size_t len, const char *key, char *out, size_t outsz,
		   bool words)
{
	size_t klen = strlen(key);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = find_sep(p, end, words);
		const char *le = nl ? nl : end;

		if ((size_t)(le - p) > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = (size_t)(le - p) - klen - 1;

			if (outsz) {
				size_t n = vlen < outsz - 1 ? vlen : outsz - 1;

				memcpy(out, p + klen + 1, n);
				out[n] = '\0';
			}
			return (int)vlen;
		}
		p = nl ? nl + 1 : end;
	}
	return -ENOENT;
}

int kv_get(const char *text, size_t len, const char *key, char *out, size_t outsz)
{
	return kv_find(text, len, key, out, outsz, false);
}

int kv_get_word(const char *text, size_t len, const char *key, char *out, size_t outsz)
{
	return kv_find(text, len, key, out, outsz, true);
}

int kv_value(const char *text, const char *key, char *out, size_t size)
{
	int n;

	if (!*key || !size)
		return -EINVAL;
	n = kv_find(text ? text : "", text ? strlen(text) : 0, key, NULL, 0, false);
	if (n < 0)
		return n;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	kv_find(text, strlen(text), key, out, size, false);
	return 0;
}

int kv_read(const char *path, const char *key, char *out, size_t size)
{
	cleanup_buf struct buf b = { 0 };
	int err = read_file(path, &b, 1 << 16);

	return err ?: kv_value(b.data, key, out, size);
}

int kv_add(struct buf *b, const char *key, const char *value)
{
	if (!*key || strpbrk(key, "=\n") || strchr(value, '\n'))
		return -EINVAL;
	return buf_printf(b, "%s=%s\n", key, value);
}
