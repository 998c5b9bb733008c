/* Integration test program: 200 KiB of numbered lines on stdout, then a
 * failure, to check that output is chunked and arrives whole and in order.
 */
#include <stdio.h>

int main(void)
{
	/* 10000 lines of 21 bytes: 210000 bytes, the last is "line 9999: ...". */
	for (int i = 0; i < 10000; i++)
		printf("line %04d: %09d\n", i, i * 7919);
	return 1;
}
