/* The selftests' pure parts: test_progs' result lines, the subtest
 * markers on the console, Fisher's exact test, the BTF finder, the
 * toolchain root's package list. */
#include "base/arch.h"
#include "base/log.h"
#include "run/splat.h"
#include "base/stats.h"
#include "selftests/tprogs.h"
#include "toolchain/troot.h"
#include "unit.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int st_btf_find(const void *buf, size_t len, size_t *off, size_t *size);

static void parse(const char *line, struct tp_line *tp)
{
	tprogs_parse(line, strlen(line), tp);
}

static void test_tprogs(void)
{
	struct tp_line tp;

	parse("#123/4   token/map_token:OK", &tp);
	CHECK(tp.kind == TP_SUBTEST && tp.result == TP_OK && tp.test_num == 123 && tp.sub_num == 4,
	      "a passing subtest");
	CHECK_EQ_STR(tp.name, "token/map_token", "its name");
	parse("#470/11  token/obj_priv_implicit_token_envvar:FAIL", &tp);
	CHECK(tp.kind == TP_SUBTEST && tp.result == TP_FAIL && tp.sub_num == 11, "a failing subtest");
	parse("#402/24   sockmap_basic/sockmap udp multi channels:SKIP", &tp);
	CHECK(tp.kind == TP_SUBTEST && tp.result == TP_SKIP, "a skipped subtest with spaces in its name");
	CHECK_EQ_STR(tp.name, "sockmap_basic/sockmap udp multi channels", "spaces kept");
	parse("#471     test_bpffs:FAIL", &tp);
	CHECK(tp.kind == TP_TEST && tp.result == TP_FAIL && tp.test_num == 471 && tp.sub_num == 0, "a test");
	parse("#470     token:OK (SKIP: 3/13)", &tp);
	CHECK(tp.kind == TP_TEST && tp.result == TP_OK && tp.skipped == 3 && tp.subtests == 13,
	      "a test with skipped subtests");
	parse("#12      arena_atomics:SKIP (not built)", &tp);
	CHECK(tp.kind == TP_TEST && tp.result == TP_NOT_BUILT, "not built");
	parse("#5/2     foo/desc: with: colons:OK", &tp);
	CHECK(tp.kind == TP_SUBTEST && !strcmp(tp.name, "foo/desc: with: colons"), "colons in a description");
	parse("WATCHDOG: test case token/map_token executes for 10 seconds...", &tp);
	CHECK(tp.kind == TP_WATCHDOG && !strcmp(tp.name, "token/map_token") && tp.seconds == 10, "the watchdog");
	parse("WATCHDOG: test case a b/c executes for 120 seconds, terminating with SIGSEGV", &tp);
	CHECK(tp.kind == TP_WATCHDOG && !strcmp(tp.name, "a b/c") && tp.seconds == 120, "the watchdog's kill");
	parse("Summary: 2/13 PASSED, 0 SKIPPED, 1 FAILED", &tp);
	CHECK(tp.kind == TP_SUMMARY, "the summary");
	/* The tests' own output must never be taken for a result. */
	static const char *const noise[] = {
		"#", "#123", "#123/", "#1/2 nosub:OK", "#1 has/slash:OK", "#0 zero:OK", "#1/0 a/b:OK",
		"#123 token:MAYBE", "#123 token:OK (SKIP: 3)", "# 123 token:OK", "run_test:PASS:create 0 nsec",
		"#1234567890 x:OK", "token:OK", "",
	};
	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++) {
		parse(noise[i], &tp);
		if (!CHECK(tp.kind == TP_NONE, "output, not a result"))
			printf("#   line: `%s`\n", noise[i]);
	}
}

static void test_markers(void)
{
	unsigned int n = 0, sub = 0;

	CHECK(marker_parse_sub("[    1.234567] kta: sub 3 7", 27, &n, &sub) == MARKER_SUB && n == 3 && sub == 7,
	      "a subtest marker");
	CHECK(marker_parse_sub("kta: begin 2 name", 17, &n, &sub) == MARKER_BEGIN && n == 2, "begin still parses");
	CHECK(marker_parse_sub("kta: sub 3", 10, &n, &sub) == MARKER_NONE, "a sub marker needs both numbers");
	CHECK(marker_parse_sub("kta: sub 3 x", 12, &n, &sub) == MARKER_NONE, "and digits");
}

static void test_fisher(void)
{
	struct fisher f;

	/* 5/5 against 0/5: the classic p = 1/252 each side. */
	fisher_exact(5, 5, 0, 5, &f);
	CHECK(fabs(f.less - 1.0 / 252) < 1e-9, "all fail without, none with: one-sided p = 1/252");
	CHECK(f.greater > 0.999, "the other side");
	CHECK(fabs(f.two - 2.0 / 252) < 1e-9, "two-sided p = 2/252");
	fisher_exact(0, 20, 0, 20, &f);
	CHECK(f.less == 1 && f.greater == 1 && f.two == 1, "no failures at all: nothing to see");
	/* 3/20 against 1/20: R's fisher.test gives 0.6050 two-sided. */
	fisher_exact(3, 20, 1, 20, &f);
	CHECK(fabs(f.two - 0.6050) < 5e-4, "3/20 against 1/20, two-sided");
	CHECK(fabs(f.less - 0.3025) < 5e-4, "one-sided");
	fisher_exact(1, 0, 0, 5, &f);
	CHECK(f.two == 1, "nonsense counts are not significant");
}

static void test_btf(void)
{
	unsigned char img[4096] = { 0 };
	size_t off = 0, size = 0;
	/* A header at 100: types 0..40, strings 40..60 of the data after it. */
	unsigned char hdr[24] = { 0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 40, 0, 0, 0, 20, 0, 0, 0 };

	CHECK(st_btf_find(img, sizeof(img), &off, &size) == -ENOENT, "no BTF in zeros");
	memcpy(img + 100, hdr, sizeof(hdr));
	img[124 + 40] = 0; /* the strings start with "" */
	CHECK(st_btf_find(img, sizeof(img), &off, &size) == 0 && off == 100 && size == 84, "found with its size");
	hdr[20] = 0xff;
	hdr[21] = 0xff;
	memcpy(img + 100, hdr, sizeof(hdr));
	CHECK(st_btf_find(img, sizeof(img), &off, &size) == -ENOENT, "sections past the end: not BTF");
	CHECK(st_btf_find(img, 10, &off, &size) == -ENOENT, "a short buffer");
}

static void test_packages(void)
{
	const struct arch_profile *set[2] = { arch_lookup("x86_64"), arch_lookup("arm64") };
	char pk[2048];

	CHECK_EQ_INT(troot_packages("22", set, 2, pk, sizeof(pk)), 0, "the package list");
	CHECK(strstr(pk, "clang-22 llvm-22 lld-22 libclang-rt-22-dev ") == pk, "the compilers by version");
	if (arch_is_native(set[1]) != 1)
		CHECK(strstr(pk, "gcc-aarch64-linux-gnu") && strstr(pk, "libelf-dev:arm64"),
		      "a foreign arch's cross compiler and libraries");
	CHECK(strstr(pk, "dwarves") && strstr(pk, "openssl"), "pahole and openssl");
	CHECK_EQ_INT(troot_packages("22", set, 2, pk, 20), -ENAMETOOLONG, "too small a buffer");
}

/* pr_err() must not clobber errno: `return pr_err(...), -errno;`. */
static void clobber(enum log_level l, const char *m, void *c)
{
	(void)l;
	(void)m;
	(void)c;
	errno = EBADF;
}

static void test_log_errno(void)
{
	log_set_sink(clobber, NULL);
	errno = ENOENT;
	pr_err("x");
	CHECK_EQ_INT(errno, ENOENT, "the logger restores errno");
	log_set_sink(NULL, NULL);
}

int main(void)
{
	test_tprogs();
	test_markers();
	test_fisher();
	test_btf();
	test_packages();
	test_log_errno();
	return unit_done();
}
