/* Integration test program: a test that fails with a message, as a real
 * test's assertion would. kta must report it as `not ok` with exit 1 and
 * keep its output.
 */
#include <stdio.h>

int main(void)
{
	printf("deliberate failure: expected 1, got 2\n");
	return 1;
}
