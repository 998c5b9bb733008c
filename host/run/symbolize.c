/* Host-side symbolization of sanitizer frames (symbolize.h). */
#include "run/symbolize.h"

#include "base/log.h"
#include "base/spawn.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 512

size_t san_frames(const char *log, size_t len, struct san_frame *out, size_t max)
{
	const char *p = log, *end = log + len;
	size_t n = 0;

	while (p && p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *q = p, *open, *plus, *close;

		/* "    #N 0xADDR (MODULE+0xOFF)": no " in FUNCTION". */
		while (q < le && *q == ' ')
			q++;
		if (le - q > 4 && *q == '#' && isdigit((unsigned char)q[1]) &&
		    (open = memmem(q, (size_t)(le - q), " (", 2)) && !memmem(q, (size_t)(open - q), " in ", 4) &&
		    (close = memchr(open, ')', (size_t)(le - open))) &&
		    (plus = memmem(open, (size_t)(close - open), "+0x", 3))) {
			const char *m = open + 2, *h = plus + 3;
			size_t mlen = (size_t)(plus - m);
			unsigned long long off = 0;
			bool ok = h < close && mlen > 0 && mlen < sizeof(out->module);

			for (const char *c = h; ok && c < close; c++) {
				int v = isdigit((unsigned char)*c) ? *c - '0'
					: (*c >= 'a' && *c <= 'f') ? *c - 'a' + 10 : -1;

				ok = v >= 0 && off >> 60 == 0;
				off = off << 4 | (unsigned int)(v < 0 ? 0 : v);
			}
			if (ok) {
				const char *sp = open + 1;

				while (sp > q && sp[-1] == ' ')
					sp--;
				out[n].at = (size_t)(sp - log);
				out[n].skip = (size_t)(open + 1 - sp);
				memcpy(out[n].module, m, mlen);
				out[n].module[mlen] = '\0';
				out[n].offset = off;
				n++;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

int san_insert(const char *log, size_t len, const struct san_frame *frames, char *const *what, size_t n,
	       struct buf *out)
{
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		if (!what[i] || !*what[i] || frames[i].at < from || frames[i].at > len ||
		    frames[i].skip > len - frames[i].at)
			continue;
		if (buf_append(out, log + from, frames[i].at - from) || buf_printf(out, " in %s ", what[i]))
			return -ENOMEM;
		from = frames[i].at + frames[i].skip;
	}
	return buf_append(out, log + from, len - from) ? -ENOMEM : 0;
}

/* llvm-symbolizer's answer for one address: "FUNCTION\nFILE:LINE:COL\n"
 * (then the frames it is inlined into), a blank line after each address.
 * The innermost frame's function and place, as ASAN prints them. */
static char *first_answer(const char **p, const char *end)
{
	const char *fn = *p, *fe = memchr(fn, '\n', (size_t)(end - fn)), *loc, *le, *next;
	char *s = NULL;

	if (!fe)
		return *p = end, NULL;
	loc = fe + 1;
	le = loc < end ? memchr(loc, '\n', (size_t)(end - loc)) : NULL;
	next = le ? memmem(le, (size_t)(end - le), "\n\n", 2) : NULL;
	*p = next ? next + 2 : end;
	if (!le || (fe - fn == 2 && !memcmp(fn, "??", 2)))
		return NULL;
	/* "??:0:0": no line table. */
	if (le - loc >= 2 && !memcmp(loc, "??", 2))
		return xasprintf("%.*s", (int)(fe - fn), fn);
	/* Drop a ":0" column. */
	if (le - loc > 2 && !memcmp(le - 2, ":0", 2))
		le -= 2;
	if (fe > fn)
		s = xasprintf("%.*s %.*s", (int)(fe - fn), fn, (int)(le - loc), loc);
	return s;
}

static int ask(const char *host, const struct san_frame *f, size_t n, const char *module, char **what)
{
	char **argv = calloc(n + 4, sizeof(*argv)), obj[4200];
	cleanup_buf struct buf out = { 0 };
	size_t k = 0, idx[MAX_FRAMES], m = 0;
	int err;

	if (!argv)
		return -ENOMEM;
	snprintf(obj, sizeof(obj), "--obj=%s", host);
	argv[k++] = "llvm-symbolizer-19";
	argv[k++] = obj;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].module, module) || what[i])
			continue;
		argv[k++] = xasprintf("0x%llx", f[i].offset);
		if (!argv[k - 1]) {
			k--;
			break;
		}
		idx[m++] = i;
	}
	err = spawn_run(argv, &(struct spawn_opts){ .output = SPAWN_STDOUT }, &out);
	if (!err && out.data) {
		const char *p = out.data, *end = out.data + out.len;

		for (size_t j = 0; j < m && p < end; j++)
			what[idx[j]] = first_answer(&p, end);
	}
	for (size_t i = 2; i < k; i++)
		free(argv[i]);
	free(argv);
	if (err)
		pr_debug("llvm-symbolizer on %s: %s", host, strerror(-err));
	return 0;
}

int san_symbolize(struct buf *log, san_resolve_fn resolve, void *ctx)
{
	struct san_frame *f;
	char **what;
	size_t n;
	int err = 0;

	if (!log->data || !log->len)
		return 0;
	f = calloc(MAX_FRAMES, sizeof(*f));
	what = calloc(MAX_FRAMES, sizeof(*what));
	if (!f || !what) {
		free(f);
		free(what);
		return -ENOMEM;
	}
	n = san_frames(log->data, log->len, f, MAX_FRAMES);
	for (size_t i = 0; i < n && !err; i++) {
		const char *host;

		/* One symbolizer per module: its frames are answered at once. */
		if (what[i] || !(host = resolve(f[i].module, ctx)))
			continue;
		err = ask(host, f, n, f[i].module, what);
		/* Asked and not answered: a marker, so it is not asked again. */
		for (size_t j = i; j < n; j++)
			if (!what[j] && !strcmp(f[j].module, f[i].module))
				what[j] = strdup("");
	}
	if (!err) {
		struct buf out = { 0 };

		err = san_insert(log->data, log->len, f, what, n, &out);
		if (!err) {
			buf_free(log);
			*log = out;
		} else {
			buf_free(&out);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(what[i]);
	free(what);
	free(f);
	return err;
}
