/* Busy-loop hogs for sockmap_multi --load: see load.h. */
#include "load.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static __attribute__((noreturn)) void hog(pid_t parent, int cpu)
{
	volatile unsigned long spin = 0;

	/* Die with the test, even if it is killed before load_stop(). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	if (cpu >= 0)
		pin(cpu);
	for (;;)
		spin++;
}

static int online_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

int load_start(struct load *l, int nr)
{
	pid_t self = getpid();
	int cpus = online_cpus();

	memset(l, 0, sizeof(*l));
	l->pinned = nr < 0;
	if (l->pinned) {
		nr = cpus - 1;
		pin(0);
	}
	if (nr > LOAD_MAX_HOGS)
		nr = LOAD_MAX_HOGS;
	fflush(NULL); /* nothing buffered may be written twice */
	for (int i = 0; i < nr; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			int err = errno;

			fprintf(stderr, "sockmap_multi: cannot fork load hog %d: %s\n", i,
				strerror(err));
			load_stop(l);
			return -err;
		}
		if (pid == 0)
			hog(self, l->pinned ? i + 1 : -1);
		l->pids[l->nr++] = pid;
	}
	if (l->pinned && cpus < 2)
		snprintf(l->what, sizeof(l->what),
			 "no hog: 1 vCPU, none besides the test's (use --load=N for hogs beside it)");
	else if (l->pinned)
		snprintf(l->what, sizeof(l->what),
			 "%d busy-loop hog(s), one pinned to each of vCPUs 1..%d; the test pinned "
			 "to vCPU 0 (%d vCPUs)", l->nr, cpus - 1, cpus);
	else
		snprintf(l->what, sizeof(l->what), "%d unpinned busy-loop hog(s) on %d vCPUs",
			 l->nr, cpus);
	return 0;
}

void load_stop(struct load *l)
{
	for (int i = 0; i < l->nr; i++)
		kill(l->pids[i], SIGKILL);
	for (int i = 0; i < l->nr; i++)
		while (waitpid(l->pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	l->nr = 0;
}
