/* test_progs' result lines (tprogs.h). The formats are test_progs.c's
 * print_subtest_name() and print_test_result() (7.3.4): "#%-7s %s/%s:%s"
 * and "#%-7d %s:%s", results OK, FAIL, SKIP, "SKIP (not built)" and
 * "OK (SKIP: s/n)". Anything that does not match exactly is output.
 */
#include "selftests/tprogs.h"

#include <stdio.h>
#include <string.h>

const char *tp_result_name(enum tp_result r)
{
	switch (r) {
	case TP_OK:
		return "OK";
	case TP_FAIL:
		return "FAIL";
	case TP_SKIP:
		return "SKIP";
	case TP_NOT_BUILT:
		return "SKIP (not built)";
	default:
		return "?";
	}
}

static bool digits(const char **p, const char *end, unsigned int *out)
{
	unsigned long v = 0;
	const char *s = *p;

	while (*p < end && **p >= '0' && **p <= '9' && v < 100000000)
		v = v * 10 + (unsigned long)(*(*p)++ - '0');
	*out = (unsigned int)v;
	return *p > s && *p - s <= 9;
}

static bool has(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) == n && !memcmp(p, s, n);
}

/* RESULT after the last ':' of "name:RESULT". */
static bool result(const char *p, const char *end, struct tp_line *out)
{
	if (has(p, end, "OK")) {
		out->result = TP_OK;
	} else if (has(p, end, "FAIL")) {
		out->result = TP_FAIL;
	} else if (has(p, end, "SKIP")) {
		out->result = TP_SKIP;
	} else if (has(p, end, "SKIP (not built)")) {
		out->result = TP_NOT_BUILT;
	} else if ((size_t)(end - p) > 10 && !memcmp(p, "OK (SKIP: ", 10) && end[-1] == ')') {
		const char *q = p + 10;

		if (!digits(&q, end, &out->skipped) || q >= end || *q++ != '/' ||
		    !digits(&q, end, &out->subtests) || q != end - 1)
			return false;
		out->result = TP_OK;
	} else {
		return false;
	}
	return true;
}

static void watchdog(const char *p, const char *end, struct tp_line *out)
{
	static const char head[] = "WATCHDOG: test case ", mid[] = " executes for ";
	const char *name = p + sizeof(head) - 1, *m;

	if ((size_t)(end - p) < sizeof(head) || memcmp(p, head, sizeof(head) - 1))
		return;
	for (m = end - (sizeof(mid) - 1); m > name; m--)
		if (!memcmp(m, mid, sizeof(mid) - 1))
			break;
	if (m <= name || (size_t)(m - name) >= sizeof(out->name))
		return;
	out->kind = TP_WATCHDOG;
	memcpy(out->name, name, (size_t)(m - name));
	out->name[m - name] = '\0';
	m += sizeof(mid) - 1;
	digits(&m, end, &out->seconds);
}

void tprogs_parse(const char *line, size_t len, struct tp_line *out)
{
	const char *p = line, *end = line + len, *colon, *name;
	unsigned int test, sub = 0;
	bool is_sub = false;

	memset(out, 0, sizeof(*out));
	while (end > p && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	if (len >= 9 && !memcmp(line, "Summary: ", 9)) {
		out->kind = TP_SUMMARY;
		return;
	}
	if (!len || *p != '#') {
		watchdog(p, end, out);
		return;
	}
	p++;
	if (!digits(&p, end, &test) || !test)
		return;
	if (p < end && *p == '/') {
		p++;
		if (!digits(&p, end, &sub) || !sub)
			return;
		is_sub = true;
	}
	if (p >= end || *p != ' ')
		return;
	while (p < end && *p == ' ')
		p++;
	name = p;
	/* The result follows the name's last ':' that starts a known result:
	 * names hold no ':' in test_progs, but their descriptions may. */
	for (colon = end - 1; colon > name; colon--) {
		if (*colon != ':')
			continue;
		if (result(colon + 1, end, out))
			break;
	}
	if (colon <= name || (size_t)(colon - name) >= sizeof(out->name))
		return;
	memcpy(out->name, name, (size_t)(colon - name));
	out->name[colon - name] = '\0';
	/* A subtest's name is "test/sub"; a test's has no '/'. */
	if (is_sub != (strchr(out->name, '/') != NULL)) {
		out->result = TP_OK;
		out->name[0] = '\0';
		return;
	}
	out->kind = is_sub ? TP_SUBTEST : TP_TEST;
	out->test_num = test;
	out->sub_num = sub;
}
