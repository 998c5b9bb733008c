/* A tiny test harness for kta's guest tests, in the style of the kernel's
 * selftests (test_progs): ASSERT_*() macros that print file:line with the
 * expected and actual values and evaluate to a bool, so a check reads
 *
 *	if (!ASSERT_OK(err, "map_update"))
 *		goto cleanup;
 *
 * a runner over a const table of subtests that prints one
 * "# subtest NAME: ok|FAIL|SKIP reason" line each, and the exit codes the
 * agent classifies: 0 pass, 1 fail, 4 skip (kselftest's KSFT_SKIP). A
 * single-file header: each test is one static binary.
 */
#ifndef KTA_TEST_H
#define KTA_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KTA_EXIT_PASS 0
#define KTA_EXIT_FAIL 1
#define KTA_EXIT_SKIP 4

struct kta_subtest {
	const char *name;
	void (*fn)(void);
};

/* Per-process state: a test binary runs its subtests one after another. */
static struct {
	unsigned int failed_asserts; /* in the current subtest */
	unsigned int failed;         /* subtests that failed so far */
	char skip_reason[256];       /* set by test__skip() in the current subtest */
} kta__env;

static inline bool kta__report(bool ok, const char *file, int line, const char *name,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline bool kta__report(bool ok, const char *file, int line, const char *name,
			       const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	kta__env.failed_asserts++;
	fprintf(stderr, "%s:%d: FAIL %s: ", file, line, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

#define KTA__CMP(actual, expected, op, name)                                          \
	({                                                                            \
		long long ___a = (long long)(actual), ___e = (long long)(expected);   \
		kta__report(___a op ___e, __FILE__, __LINE__, (name),                 \
			    "expected %s %s %s (%lld), got %lld", #actual, #op,      \
			    #expected, ___e, ___a);                                   \
	})

#define ASSERT_EQ(actual, expected, name) KTA__CMP(actual, expected, ==, name)
#define ASSERT_NEQ(actual, expected, name) KTA__CMP(actual, expected, !=, name)
#define ASSERT_GE(actual, expected, name) KTA__CMP(actual, expected, >=, name)
#define ASSERT_GT(actual, expected, name) KTA__CMP(actual, expected, >, name)
#define ASSERT_LE(actual, expected, name) KTA__CMP(actual, expected, <=, name)
#define ASSERT_LT(actual, expected, name) KTA__CMP(actual, expected, <, name)

#define ASSERT_TRUE(cond, name)                                                       \
	kta__report(!!(cond), __FILE__, __LINE__, (name), "expected %s to be true", #cond)
#define ASSERT_FALSE(cond, name)                                                      \
	kta__report(!(cond), __FILE__, __LINE__, (name), "expected %s to be false", #cond)

/* A syscall-style result: 0 (or >= 0 for _FD) is success, else errno says why. */
#define ASSERT_OK(res, name)                                                          \
	({                                                                            \
		long long ___r = (long long)(res);                                    \
		int ___errno = errno;                                                 \
		kta__report(___r == 0, __FILE__, __LINE__, (name),                    \
			    "%s returned %lld (errno %d: %s)", #res, ___r, ___errno,  \
			    strerror(___errno));                                      \
	})
#define ASSERT_OK_FD(fd, name)                                                        \
	({                                                                            \
		long long ___r = (long long)(fd);                                     \
		int ___errno = errno;                                                 \
		kta__report(___r >= 0, __FILE__, __LINE__, (name),                    \
			    "%s returned %lld (errno %d: %s)", #fd, ___r, ___errno,   \
			    strerror(___errno));                                      \
	})
/* A call expected to fail with a given errno. */
#define ASSERT_ERRNO(res, err, name)                                                  \
	({                                                                            \
		long long ___r = (long long)(res);                                    \
		int ___errno = errno, ___want = (err);                                \
		kta__report(___r < 0 && ___errno == ___want, __FILE__, __LINE__,      \
			    (name), "%s: expected failure with errno %d (%s), got "   \
			    "%lld (errno %d: %s)", #res, ___want, strerror(___want),  \
			    ___r, ___errno, strerror(___errno));                      \
	})
#define ASSERT_STREQ(actual, expected, name)                                          \
	({                                                                            \
		const char *___a = (actual), *___e = (expected);                      \
		kta__report(___a && ___e && !strcmp(___a, ___e), __FILE__, __LINE__,  \
			    (name), "expected %s \"%s\", got \"%s\"", #actual,        \
			    ___e ? ___e : "(null)", ___a ? ___a : "(null)");          \
	})

/* The whole test cannot run on this kernel: say why, in the line the agent
 * takes the reason from, and exit with KSFT_SKIP. A failure seen before
 * wins: it is reported, not hidden behind the skip. */
static inline __attribute__((noreturn)) void skip(const char *reason)
{
	printf("SKIP: %s\n", reason);
	fflush(stdout);
	exit(kta__env.failed || kta__env.failed_asserts ? KTA_EXIT_FAIL : KTA_EXIT_SKIP);
}

/* Only this subtest cannot run; the others still do. */
static inline void test__skip(const char *reason)
{
	snprintf(kta__env.skip_reason, sizeof(kta__env.skip_reason), "%s", reason);
}

/* Runs the subtests named on the command line, or all of them. */
static inline int kta_run_subtests(const struct kta_subtest *tests, size_t n, int argc,
				   char **argv)
{
	unsigned int ran = 0, skipped = 0;

	/* Line-buffered: stdout and stderr share one pipe, and the last
	 * line before a crash must not be lost in a buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		bool selected = argc <= 1;

		for (int j = 1; j < argc; j++)
			selected |= !strcmp(argv[j], tests[i].name);
		if (!selected)
			continue;
		kta__env.failed_asserts = 0;
		kta__env.skip_reason[0] = '\0';
		tests[i].fn();
		ran++;
		if (kta__env.failed_asserts) {
			kta__env.failed++;
			printf("# subtest %s: FAIL\n", tests[i].name);
		} else if (kta__env.skip_reason[0]) {
			skipped++;
			printf("# subtest %s: SKIP %s\n", tests[i].name, kta__env.skip_reason);
		} else {
			printf("# subtest %s: ok\n", tests[i].name);
		}
	}
	printf("# %u subtests: %u passed, %u failed, %u skipped\n", ran,
	       ran - kta__env.failed - skipped, kta__env.failed, skipped);
	if (kta__env.failed || !ran)
		return KTA_EXIT_FAIL;
	if (skipped == ran) {
		/* The agent takes the skip reason from the last SKIP: line. */
		printf("SKIP: %s\n", kta__env.skip_reason[0] ? kta__env.skip_reason
				      : "every subtest skipped");
		return KTA_EXIT_SKIP;
	}
	return KTA_EXIT_PASS;
}

#define KTA_RUN_SUBTESTS(table, argc, argv)                                           \
	kta_run_subtests(table, sizeof(table) / sizeof((table)[0]), argc, argv)

#endif
