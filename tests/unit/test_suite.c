/* Suite manifests, output classification, Wilson intervals, DT_NEEDED. */
#include "run/classify.h"
#include "guest/libs.h"
#include "guest/suite.h"
#include "unit.h"

#include <elf.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

static int parse(const char *text, struct test_spec **s, unsigned int *n, char *err)
{
	*s = NULL;
	*n = 0;
	return suite_parse(text, strlen(text), "/b", s, n, err, 256);
}

int main(void)
{
	struct test_spec *s;
	unsigned int n;
	char err[256];
	double lo, hi;

	CHECK_EQ_INT(parse("# c\n\ntok_exit  asan_token  arg=--exit expect=sanitizer-exit-override"
			   " timeout=90 env=A=1\nx /abs/y\n", &s, &n, err), 0, "manifest parses");
	CHECK_EQ_INT(n, 2, "two tests");
	if (n == 2) {
		CHECK_EQ_STR(s[0].name, "tok_exit", "name");
		CHECK_EQ_STR(s[0].path, "/b/asan_token", "binary relative to the manifest");
		CHECK_EQ_STR(s[0].args[0], "--exit", "arg");
		CHECK_EQ_STR(s[0].expect, "sanitizer-exit-override", "expect");
		CHECK_EQ_INT(s[0].timeout_s, 90, "timeout");
		CHECK_EQ_STR(s[0].env[0], "A=1", "env");
		CHECK_EQ_STR(s[1].path, "/abs/y", "absolute binary");
	}
	free(s);
	CHECK_EQ_INT(parse("a b\na c\n", &s, &n, err), -EINVAL, "duplicate name refused");
	CHECK(strstr(err, "line 2"), "error names the line");
	free(s);
	CHECK_EQ_INT(parse("a b colour=red\n", &s, &n, err), -EINVAL, "unknown key refused");
	free(s);
	CHECK_EQ_INT(parse("a b expect=pass\n", &s, &n, err), -EINVAL, "unknown expectation refused");
	free(s);
	CHECK_EQ_INT(parse("a b requires=asan\nc d\n", &s, &n, err), 0, "requires parses");
	CHECK(n == 2 && !strcmp(s[0].requires, "asan") && !s[1].requires[0], "requires: only where given");
	free(s);
	CHECK_EQ_INT(parse("a b requires=gpu\n", &s, &n, err), -EINVAL, "unknown requirement refused");
	CHECK(strstr(err, "unknown requirement"), "and named");
	free(s);
	CHECK_EQ_INT(parse("a\n", &s, &n, err), -EINVAL, "missing binary refused");
	free(s);
	CHECK_EQ_INT(parse("a b timeout=x\n", &s, &n, err), -EINVAL, "bad timeout refused");
	free(s);

	wilson95(0, 10000, &lo, &hi);
	CHECK(lo == 0 && hi > 0.00037 && hi < 0.00039, "0/10000: upper bound ~0.038%");
	wilson95(50, 100, &lo, &hi);
	CHECK(fabs(lo - 0.4038) < 0.001 && fabs(hi - 0.5962) < 0.001, "50/100: 40.4%-59.6%");
	wilson95(0, 0, &lo, &hi);
	CHECK(lo == 0 && hi == 1, "no trials: [0, 1]");

	{
		struct test_result t = { .raw = OUT_FAIL, .exit_code = 1 };

		snprintf(t.expect, sizeof(t.expect), "sanitizer-exit-override");
		buf_printf(&t.output, "waitpid_child unexpected error: 1\n"
				      "kta-child: pid=77 status=1 assertions_failed=0\n");
		san_append(&t, "asan.77", "==77==ERROR: LeakSanitizer: detected memory leaks\n", 50);
		classify_test(&t);
		CHECK_EQ_INT(t.outcome, OUT_XFAIL, "expected override is XFAIL");
		buf_free(&t.output);
		buf_free(&t.san);
	}
	{
		struct test_result t = { .raw = OUT_FAIL, .exit_code = 1 };

		buf_printf(&t.output, "kta-child: pid=77 status=1 assertions_failed=0\n");
		san_append(&t, "asan.78", "==78==ERROR: LeakSanitizer: detected memory leaks\n", 50);
		classify_test(&t);
		CHECK_EQ_INT(t.outcome, OUT_FAIL, "leak report of another pid: plain failure");
		buf_free(&t.output);
		buf_free(&t.san);
	}
	{
		struct test_result t = { .raw = OUT_FAIL, .exit_code = 1 };

		buf_printf(&t.output, "kta-child: pid=9 status=1 assertions_failed=2\n");
		san_append(&t, "asan.9", "ERROR: LeakSanitizer: detected memory leaks\n", 44);
		classify_test(&t);
		CHECK_EQ_INT(t.outcome, OUT_FAIL, "failed assertions: a real failure");
		buf_free(&t.output);
		buf_free(&t.san);
	}
	{
		struct test_result t = { .raw = OUT_FAIL, .exit_code = 1 };

		buf_printf(&t.output, "kta-child: pid=9 status=1 assertions_failed=0\n");
		san_append(&t, "asan.9", "ERROR: LeakSanitizer: detected memory leaks\n", 44);
		classify_test(&t);
		CHECK_EQ_INT(t.outcome, OUT_SAN_OVERRIDE, "unexpected override is classified, not plain fail");
		buf_free(&t.output);
		buf_free(&t.san);
	}
	{
		struct test_result t = { .raw = OUT_PASS };

		snprintf(t.expect, sizeof(t.expect), "sanitizer-exit-override");
		classify_test(&t);
		CHECK_EQ_INT(t.outcome, OUT_FAIL, "expected override but passed: failure");
		CHECK(strstr(t.reason, "but the test passed"), "says so");
	}
	{
		struct test_result t = { .raw = OUT_PASS };

		buf_printf(&t.output, "x\nkta-rate: failures=3 iterations=1000\n");
		classify_test(&t);
		CHECK(t.has_rate && t.rate_failures == 3 && t.rate_iterations == 1000 &&
			      t.rate_lo < 0.003 && t.rate_hi > 0.003,
		      "rate parsed with its interval");
		buf_free(&t.output);
	}
	{
		struct test_result t = { .raw = OUT_PASS };

		san_append(&t, "asan.5", "==5==ERROR: AddressSanitizer: heap-use-after-free\n", 49);
		classify_test(&t);
		CHECK_EQ_INT(t.outcome, OUT_FAIL, "ASAN error fails a passing test");
		buf_free(&t.san);
	}
	{
		struct buf b = { 0 };
		struct elf_deps d;

		CHECK_EQ_INT(read_file("/bin/true", &b, 0), 0, "read /bin/true");
		CHECK_EQ_INT(elf_deps_parse(b.data, b.len, &d), 0, "deps parsed");
		CHECK(strstr(d.interp, "ld-linux") != NULL, "loader found");
		CHECK(d.nneeded >= 1 && !strcmp(d.needed[d.nneeded - 1], "libc.so.6"), "libc needed");
		CHECK_EQ_INT(elf_deps_parse(b.data, 200, &d), -ENOEXEC, "truncated ELF refused");
		buf_free(&b);
	}
	return unit_done();
}
