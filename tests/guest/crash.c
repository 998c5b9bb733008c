/* Integration test program: a test killed by SIGSEGV, reported as a CRASH
 * with the signal's number and name.
 */
#include <stdio.h>

int main(void)
{
	volatile int *volatile p = NULL;

	printf("about to write through a NULL pointer\n");
	fflush(stdout);
	*p = 1;
	return 0;
}
