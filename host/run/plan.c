/* Writing the test plan (plan.h). */
#include "run/plan.h"
#include "base/util.h"

#include <errno.h>
#include <string.h>

/* One field: non-empty, no separator, no newline, no NUL trouble. */
static bool word_ok(const char *w)
{
	return w && *w && !strpbrk(w, " \t\r\n");
}

static bool path_ok(const char *p)
{
	return word_ok(p) && p[0] == '/';
}

int planw_begin(struct buf *b)
{
	return buf_printf(b, "%s\n", PLAN_MAGIC) < 0 ? -ENOMEM : 0;
}

int planw_env(struct buf *b, const char *kv, int per_test)
{
	const char *eq = strchr(kv, '=');

	/* The value runs to the end of the line: spaces are fine there. */
	if (!eq || eq == kv || strpbrk(kv, "\r\n") || memchr(kv, ' ', (size_t)(eq - kv)) ||
	    memchr(kv, '\t', (size_t)(eq - kv)))
		return -EINVAL;
	return buf_printf(b, "%s %s\n", per_test ? PLAN_TENV : PLAN_ENV, kv) < 0 ? -ENOMEM : 0;
}

int planw_topt(struct buf *b, const char *opt, const char *value)
{
	if (!strcmp(opt, PLAN_TOPT_PARSE_TPROGS)) {
		value = "";
	} else if (!strcmp(opt, PLAN_TOPT_ROOT) || !strcmp(opt, PLAN_TOPT_CWD)) {
		if (!path_ok(value))
			return -EINVAL;
	} else if (!strcmp(opt, PLAN_TOPT_SUBTIMEOUT)) {
		if (!word_ok(value) || strspn(value, "0123456789") != strlen(value))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return buf_printf(b, "%s %s%s\n", PLAN_TOPT, opt, value) < 0 ? -ENOMEM : 0;
}

int planw_test(struct buf *b, unsigned int timeout_s, const char *name, const char *path,
	       const char *const *args, size_t nargs)
{
	if (timeout_s > PLAN_MAX_TIMEOUT_S || !word_ok(name) || !path_ok(path) || nargs + 4 > PLAN_MAX_ARGS)
		return -EINVAL;
	for (size_t i = 0; i < nargs; i++)
		if (!word_ok(args[i]))
			return -EINVAL;
	buf_printf(b, "%s %u %s %s", PLAN_TEST, timeout_s, name, path);
	for (size_t i = 0; i < nargs; i++)
		buf_printf(b, " %s", args[i]);
	return buf_printf(b, "\n") < 0 ? -ENOMEM : 0;
}

int planw_disk(struct buf *b, const char *dev, const char *dir)
{
	if (!word_ok(dev) || strchr(dev, '/') || !path_ok(dir))
		return -EINVAL;
	return buf_printf(b, "%s %s %s\n", PLAN_DISK, dev, dir) < 0 ? -ENOMEM : 0;
}

int planw_root(struct buf *b, const char *dir)
{
	if (!path_ok(dir))
		return -EINVAL;
	return buf_printf(b, "%s %s\n", PLAN_ROOT, dir) < 0 ? -ENOMEM : 0;
}

int planw_image(struct buf *b, const char *dev, const char *fstype, const char *dir, const char *out)
{
	if (!word_ok(dev) || strchr(dev, '/') || !word_ok(fstype) || strchr(fstype, '/') || !path_ok(dir) ||
	    !path_ok(out) || strstr(out, ".."))
		return -EINVAL;
	return buf_printf(b, "%s %s %s %s %s\n", PLAN_IMAGE, dev, fstype, dir, out) < 0 ? -ENOMEM : 0;
}

int planw_stress(struct buf *b, unsigned int hogs, int nice, unsigned int mem_mb)
{
	if (hogs > PLAN_STRESS_MAX_HOGS || nice < -20 || nice > 19 || mem_mb > PLAN_STRESS_MAX_MEM_MB)
		return -EINVAL;
	return buf_printf(b, "%s hogs=%u nice=%d mem=%u\n", PLAN_STRESS, hogs, nice, mem_mb) < 0 ? -ENOMEM : 0;
}
