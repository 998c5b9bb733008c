/* Suite manifests. The parser is pure and fuzzed: manifests are ours, but
 * a user's typo must give a line number, never a crash. */
#include "guest/suite.h"
#include "base/ktap.h"
#include "base/log.h"
#include "base/util.h"

#include <string.h>

static const char *const known_expect[] = { "sanitizer-exit-override", NULL };
static const char *const known_requires[] = { "asan", NULL };

static int set_str(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n >= dstsz)
		return -ENAMETOOLONG;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int parse_kv(struct test_spec *t, const char *w, size_t n, char *err, size_t errsz,
		    unsigned int lineno)
{
	const char *eq = memchr(w, '=', n);
	size_t klen, vlen;
	const char *v;

	if (!eq) {
		snprintf(err, errsz, "line %u: `%.*s` is not key=value", lineno, (int)n, w);
		return -EINVAL;
	}
	klen = (size_t)(eq - w);
	v = eq + 1;
	vlen = n - klen - 1;
	if (klen == 7 && !memcmp(w, "timeout", 7)) {
		unsigned long x = 0;

		if (!vlen || vlen > 7)
			goto bad;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				goto bad;
			x = x * 10 + (unsigned long)(v[i] - '0');
		}
		t->timeout_s = (unsigned int)x;
		return 0;
	}
	if (klen == 3 && !memcmp(w, "arg", 3)) {
		if (t->nargs == SPEC_MAX_ARGS || set_str(t->args[t->nargs], sizeof(t->args[0]), v, vlen))
			goto bad;
		t->nargs++;
		return 0;
	}
	if (klen == 3 && !memcmp(w, "env", 3)) {
		if (!memchr(v, '=', vlen) || t->nenv == SPEC_MAX_ENV ||
		    set_str(t->env[t->nenv], sizeof(t->env[0]), v, vlen))
			goto bad;
		t->nenv++;
		return 0;
	}
	if (klen == 6 && !memcmp(w, "expect", 6)) {
		for (int i = 0; known_expect[i]; i++)
			if (strlen(known_expect[i]) == vlen && !memcmp(known_expect[i], v, vlen))
				return set_str(t->expect, sizeof(t->expect), v, vlen);
		snprintf(err, errsz, "line %u: unknown expectation `%.*s` (known: %s)", lineno,
			 (int)vlen, v, known_expect[0]);
		return -EINVAL;
	}
	if (klen == 8 && !memcmp(w, "requires", 8)) {
		for (int i = 0; known_requires[i]; i++)
			if (strlen(known_requires[i]) == vlen && !memcmp(known_requires[i], v, vlen))
				return set_str(t->requires, sizeof(t->requires), v, vlen);
		snprintf(err, errsz, "line %u: unknown requirement `%.*s` (known: %s)", lineno,
			 (int)vlen, v, known_requires[0]);
		return -EINVAL;
	}
	snprintf(err, errsz, "line %u: unknown key `%.*s` (timeout, arg, env, expect, requires)", lineno,
		 (int)klen, w);
	return -EINVAL;
bad:
	snprintf(err, errsz, "line %u: bad value in `%.*s`", lineno, (int)n, w);
	return -EINVAL;
}

int suite_parse(const char *text, size_t len, const char *basedir, struct test_spec **specs,
		unsigned int *n, char *err, size_t errsz)
{
	const char *p = text, *end = text + len;
	unsigned int lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *w = p;
		struct test_spec t;
		int field = 0, err2;

		lineno++;
		p = nl ? nl + 1 : end;
		memset(&t, 0, sizeof(t));
		while (w < le) {
			const char *we;

			while (w < le && (*w == ' ' || *w == '\t' || *w == '\r'))
				w++;
			if (w >= le || *w == '#')
				break;
			we = w;
			while (we < le && *we != ' ' && *we != '\t' && *we != '\r')
				we++;
			if (field == 0) {
				char raw[128];

				if (set_str(raw, sizeof(raw), w, (size_t)(we - w)))
					goto toolong;
				ktap_sanitize_name(raw, t.name, sizeof(t.name));
				if (strcmp(raw, t.name)) {
					snprintf(err, errsz, "line %u: test name `%s` may not contain "
							     "spaces, '#' or '/'", lineno, raw);
					return -EINVAL;
				}
			} else if (field == 1) {
				int m;

				if ((size_t)(we - w) >= 256)
					goto toolong;
				if (*w == '/')
					m = snprintf(t.path, sizeof(t.path), "%.*s", (int)(we - w), w);
				else
					m = snprintf(t.path, sizeof(t.path), "%s/%.*s", basedir,
						     (int)(we - w), w);
				if (m < 0 || (size_t)m >= sizeof(t.path))
					goto toolong;
			} else {
				err2 = parse_kv(&t, w, (size_t)(we - w), err, errsz, lineno);
				if (err2)
					return err2;
			}
			field++;
			w = we;
		}
		if (field == 0)
			continue;
		if (field == 1) {
			snprintf(err, errsz, "line %u: `%s` has no binary", lineno, t.name);
			return -EINVAL;
		}
		for (unsigned int i = 0; i < *n; i++) {
			if (!strcmp((*specs)[i].name, t.name)) {
				snprintf(err, errsz, "line %u: test `%s` listed twice", lineno, t.name);
				return -EINVAL;
			}
		}
		{
			struct test_spec *ns = realloc(*specs, (*n + 1) * sizeof(**specs));

			if (!ns)
				return -ENOMEM;
			*specs = ns;
			ns[(*n)++] = t;
		}
	}
	return 0;
toolong:
	snprintf(err, errsz, "line %u: a field is too long", lineno);
	return -EINVAL;
}

int suite_load(const char *path, struct test_spec **specs, unsigned int *n)
{
	cleanup_buf struct buf b = { 0 };
	char dir[PATH_MAX], err[256] = "";
	char *slash;
	int r = read_file(path, &b, 1 << 20);

	if (r) {
		pr_err("cannot read suite manifest `%s`: %s", path, strerror(-r));
		return r == -ENOENT ? -ENOENT : -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	{
		unsigned int first = *n;
		const char *sname = strrchr(dir, '/');

		r = suite_parse(b.data, b.len, dir, specs, n, err, sizeof(err));
		if (r) {
			pr_err("suite manifest `%s`: %s", path, err);
			return r;
		}
		/* The suite is its manifest's directory: build/<arch>/suites/<suite>/. */
		for (unsigned int i = first; i < *n; i++)
			snprintf((*specs)[i].suite, sizeof((*specs)[i].suite), "%s", sname ? sname + 1 : dir);
	}
	return 0;
}

int spec_from_path(const char *path, struct test_spec *s)
{
	const char *base = strrchr(path, '/');

	memset(s, 0, sizeof(*s));
	ktap_sanitize_name(base ? base + 1 : path, s->name, sizeof(s->name));
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s", path) >= sizeof(s->path))
		return -ENAMETOOLONG;
	return 0;
}
