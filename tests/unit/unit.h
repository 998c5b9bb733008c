/* A minimal unit-test harness: TAP output, one binary per test file.
 *   CHECK(cond, "desc")           one test point
 *   CHECK_EQ_INT(a, b, "desc")    with both values printed on failure
 *   CHECK_EQ_STR(a, b, "desc")
 *   return unit_done();           exit status 1 if any point failed
 */
#ifndef KTA_UNIT_H
#define KTA_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

static inline int unit_check(int ok, const char *desc, const char *file, int line)
{
	unit_n++;
	printf("%sok %d - %s\n", ok ? "" : "not ", unit_n, desc);
	if (!ok) {
		unit_failed++;
		printf("#   at %s:%d\n", file, line);
	}
	return ok;
}

#define CHECK(cond, desc) unit_check(!!(cond), desc, __FILE__, __LINE__)

#define CHECK_EQ_INT(a, b, desc)                                              \
	({                                                                    \
		long long _a = (long long)(a), _b = (long long)(b);           \
		int _ok = unit_check(_a == _b, desc, __FILE__, __LINE__);     \
		if (!_ok)                                                     \
			printf("#   got %lld, expected %lld\n", _a, _b);      \
		_ok;                                                          \
	})

#define CHECK_EQ_STR(a, b, desc)                                              \
	({                                                                    \
		const char *_a = (a), *_b = (b);                              \
		int _ok = unit_check(_a && _b && !strcmp(_a, _b), desc,       \
				     __FILE__, __LINE__);                     \
		if (!_ok)                                                     \
			printf("#   got \"%s\", expected \"%s\"\n",           \
			       _a ? _a : "(null)", _b ? _b : "(null)");       \
		_ok;                                                          \
	})

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}

#endif
