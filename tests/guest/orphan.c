/* Integration test program: a test that passes but leaves a daemon behind
 * in its own session, holding the output pipe. The agent must still end
 * the test promptly and kill the leftover before the next test starts.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		setsid();
		for (;;)
			pause();
	}
	printf("left pid %d behind\n", (int)pid);
	return 0;
}
