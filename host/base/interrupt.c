/* The interrupt model (interrupt.h). Everything the handler touches is a
 * sig_atomic_t or a pid_t written before the slot is published, and kill()
 * is async-signal-safe. */
#include "base/interrupt.h"
#include "base/util.h"
#include "base/exit.h"

#include <errno.h>
#include <signal.h>

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction saved[ARRAY_SIZE(caught)];
static int depth;
static volatile sig_atomic_t first;
static volatile pid_t watched[INTERRUPT_WATCH];

static void forward(int sig)
{
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++) {
		pid_t g = watched[i];

		if (g > 0)
			kill(-g, sig);
	}
}

static void on_signal(int sig)
{
	int saved_errno = errno;

	if (!first)
		first = sig;
	forward(sig);
	errno = saved_errno;
}

void interrupt_begin(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (depth++)
		return;
	/* No SA_RESTART: a blocking wait returns EINTR and looks. */
	sigemptyset(&sa.sa_mask);
	first = 0;
	for (size_t i = 0; i < ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &sa, &saved[i]);
}

void interrupt_end(void)
{
	if (depth <= 0 || --depth)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &saved[i], NULL);
}

int interrupt_signal(void)
{
	return first;
}

int interrupt_check(void)
{
	return first ? -EINTR : 0;
}

void interrupt_note(int sig)
{
	if (!first)
		first = sig;
	forward(sig);
}

int interrupt_watch(pid_t pgid)
{
	if (pgid <= 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++) {
		if (watched[i] > 0)
			continue;
		watched[i] = pgid;
		/* A signal between the fork and here would be lost. */
		if (first)
			kill(-pgid, first);
		return 0;
	}
	return -ENOSPC;
}

void interrupt_unwatch(pid_t pgid)
{
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++)
		if (watched[i] == pgid)
			watched[i] = 0;
}

int interrupt_exit_code(int sig)
{
	return sig == SIGTERM ? EXIT_TERMINATED : EXIT_INTERRUPTED;
}

void interrupt_child_reset(void)
{
	sigset_t none;

	for (size_t i = 0; i < ARRAY_SIZE(caught); i++)
		signal(caught[i], SIG_DFL);
	for (size_t i = 0; i < ARRAY_SIZE(watched); i++)
		watched[i] = 0;
	depth = 0;
	first = 0;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}
