/* Integration test program: the simplest passing test. */
#include <stdio.h>

int main(void)
{
	printf("hello from the guest\n");
	return 0;
}
