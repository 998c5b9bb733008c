/* Load during the tests, from the plan's `stress` line: the seeds' races
 * depend on when a kernel worker gets a CPU, and a quiet 2-vCPU guest under
 * TCG rarely loses one. Hogs are plain busy loops at a chosen nice level
 * (nice 19: they only take idle time; 0: they compete as equals); the memory
 * process keeps its pages in use so reclaim runs. They run in their own
 * process groups and die in the kill after each test, so they restart with
 * the next one and never outlive the run.
 */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static pid_t start_one(struct agent *a, int nice, size_t mem)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	setsid();
	setpriority(PRIO_PROCESS, 0, nice);
	if (mem) {
		volatile char *p = mmap(NULL, mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		for (;;) {
			for (size_t i = 0; i < mem; i += 4096)
				p[i]++;
			usleep(100000);
		}
	}
	(void)a;
	for (;;)
		__asm__ volatile("" ::: "memory");
}

void stress_start(struct agent *a)
{
	const struct stress *s = &a->plan.stress;

	for (unsigned int i = 0; i < s->hogs; i++)
		if (start_one(a, s->nice, 0) < 0)
			agent_warn(a, "cannot start a CPU hog: %s", strerror(errno));
	if (s->mem_mb && start_one(a, s->nice, (size_t)s->mem_mb << 20) < 0)
		agent_warn(a, "cannot start the memory load: %s", strerror(errno));
}
