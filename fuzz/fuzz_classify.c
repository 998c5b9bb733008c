/* Fuzz target: the judgement (classify.c) of a test whose output and
 * sanitizer logs are any bytes, with and without subtests, expectation and
 * splat; the same facts must always give the same answer. Input: a control
 * byte, then output and log separated by the first NUL. */
#include "run/classify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum outcome raws[] = { OUT_PASS, OUT_FAIL, OUT_SKIP, OUT_TIMEOUT, OUT_CRASH, OUT_PENDING };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct test_result t = { .num = 1, .begun = true };
	struct sub_result s[2];
	struct splat_event e = { .kind = SPLAT_WARN, .test = 1 };
	struct run_result r = { .tests = &t, .ntests = 1, .splats = &e };
	struct run_facts f = { .hello = true, .end = true };
	const uint8_t *nul;
	uint8_t c;
	enum outcome first, firsts[2];
	char reason[sizeof(t.reason)];

	if (!size)
		return 0;
	c = data[0];
	data++, size--;
	nul = memchr(data, '\0', size);
	t.raw = raws[c % 6];
	t.exit_code = c & 8 ? 1 : 0;
	if (c & 16)
		snprintf(t.expect, sizeof(t.expect), "sanitizer-exit-override");
	r.nsplats = c & 32 ? 1 : 0;
	buf_append(&t.output, data, nul ? (size_t)(nul - data) : size);
	if (nul)
		san_append(&t, c & 64 ? "asan.77" : "asan.1", (const char *)nul + 1, size - (size_t)(nul + 1 - data));
	memset(s, 0, sizeof(s));
	if (c & 128) {
		t.subs = s;
		t.nsubs = 2;
		for (int i = 0; i < 2; i++) {
			s[i].num = (unsigned int)i + 1;
			s[i].raw = raws[(c >> (i + 1)) % 6];
			s[i].main_pid = 1;
			snprintf(s[i].san, sizeof(s[i].san), "asan.%d", i ? 77 : 1);
		}
		e.sub = c & 4 ? 2 : 0;
	}
	classify_run(&f, &r);
	first = t.outcome;
	firsts[0] = s[0].outcome;
	firsts[1] = s[1].outcome;
	memcpy(reason, t.reason, sizeof(reason));
	classify_run(&f, &r);
	if (t.outcome != first || s[0].outcome != firsts[0] || s[1].outcome != firsts[1] ||
	    strcmp(reason, t.reason))
		(fprintf(stderr, "c=%02x %d/%d %d/%d %d/%d [%s] [%s]\n", c, first, t.outcome, firsts[0], s[0].outcome, firsts[1], s[1].outcome, reason, t.reason), abort()); /* the judgement must depend on the facts alone */
	buf_free(&t.output);
	buf_free(&t.san);
	return 0;
}
