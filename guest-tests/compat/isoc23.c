/* glibc 2.38 compiles strtol() in C2x/GNU mode as __isoc23_strtol, which
 * also accepts "0b" binary literals. Static libraries from a newer Debian
 * (the riscv64 sysroot: bookworm has no riscv64) call it, and the cross
 * toolchain's libc (2.36) lacks it. This archive member is pulled in only
 * when such a library needs it, and is weak: a libc that has the real one
 * wins.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

long __isoc23_strtol(const char *s, char **end, int base);

__attribute__((weak)) long __isoc23_strtol(const char *s, char **end, int base)
{
	const char *p = s;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		p++;
	/* Only the binary prefix differs from C11's strtol. */
	if ((base == 0 || base == 2) && p[0] == '0' && (p[1] == 'b' || p[1] == 'B') &&
	    (p[2] == '0' || p[2] == '1')) {
		unsigned long v = 0;
		const char *q = p + 2;
		int neg = p > s && p[-1] == '-';

		while (*q == '0' || *q == '1') {
			if (v > (unsigned long)LONG_MAX / 2 + 1) {
				errno = ERANGE;
				v = (unsigned long)LONG_MAX + neg;
				while (*q == '0' || *q == '1')
					q++;
				break;
			}
			v = v * 2 + (unsigned long)(*q++ - '0');
		}
		if (v > (unsigned long)LONG_MAX + neg) {
			errno = ERANGE;
			v = (unsigned long)LONG_MAX + neg;
		}
		if (end)
			*end = (char *)q;
		return neg ? (long)(0 - v) : (long)v;
	}
	return strtol(s, end, base);
}
