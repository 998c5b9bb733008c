/* Integration test program: a test that never ends, so that the agent's
 * per-test deadline kills its process group and reports a TIMEOUT.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("hanging\n");
	fflush(stdout);
	for (;;)
		pause();
}
