/* Integration test program: a second passing test with its own name, for
 * runs that need a test after another one (tests/integration/run.sh). */
#include <stdio.h>

int main(void)
{
	printf("hello again from the guest\n");
	return 0;
}
