/* The process module (spawn.h). */
#include "base/spawn.h"
#include "base/exit.h"
#include "base/log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

static void log_argv(char *const argv[], const struct spawn_opts *o)
{
	cleanup_buf struct buf line = { 0 };

	if (log_get_level() < LOG_DEBUG)
		return;
	for (size_t i = 0; o && o->env && o->env[i]; i++)
		buf_printf(&line, "%s ", o->env[i]);
	for (int i = 0; argv[i]; i++)
		buf_printf(&line, "%s%s", i ? " " : "", argv[i]);
	pr_debug("running%s%s: %s", o && o->cwd ? " in " : "", o && o->cwd ? o->cwd : "", line.data);
}

/* prefix + argv, pointing into both (only the array is allocated). */
static char **join_argv(char *const prefix[], char *const argv[])
{
	size_t np = 0, na = 0;
	char **v;

	while (prefix[np])
		np++;
	while (argv[na])
		na++;
	v = calloc(np + na + 1, sizeof(*v));
	if (!v)
		return NULL;
	memcpy(v, prefix, np * sizeof(*v));
	memcpy(v + np, argv, na * sizeof(*v));
	return v;
}

/* In the child, before anything else: its group, its parent-death
 * signal, the signals kta catches or blocks given back, its stdio. Returns
 * false when kta is already gone (the parent-death signal would never
 * come) or the output cannot be wired. */
static bool child_setup(const struct spawn_opts *o, pid_t parent, int pipe_w)
{
	int devnull = open("/dev/null", O_RDWR);
	sigset_t none;

	if (o->new_pgrp)
		setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, o->pdeath_sig ? o->pdeath_sig : SIGTERM);
	if (getppid() != parent)
		return false;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (devnull < 0)
		return false;
	if (!o->keep_stdin)
		dup2(devnull, 0);
	switch (o->output) {
	case SPAWN_TO_FD:
		if (o->out_fd < 0)
			return false;
		dup2(o->out_fd, 1);
		dup2(o->out_fd, 2);
		break;
	case SPAWN_STDERR:
		dup2(devnull, 1);
		dup2(pipe_w >= 0 ? pipe_w : devnull, 2);
		break;
	case SPAWN_STDOUT:
		dup2(pipe_w >= 0 ? pipe_w : devnull, 1);
		dup2(devnull, 2);
		break;
	case SPAWN_INHERIT:
		break;
	case SPAWN_CAPTURE:
	default:
		dup2(pipe_w >= 0 ? pipe_w : devnull, 1);
		dup2(pipe_w >= 0 ? pipe_w : devnull, 2);
		break;
	}
	if (devnull > 2)
		close(devnull);
	return true;
}

static const struct spawn_opts defaults = { .output = SPAWN_CAPTURE };

pid_t spawn_fork(const struct spawn_opts *o)
{
	pid_t parent = getpid(), pid;

	if (!o)
		o = &defaults;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (!child_setup(o, parent, -1))
			_exit(EXIT_INFRA);
		return 0;
	}
	if (o->new_pgrp)
		setpgid(pid, pid); /* also here: no race with an early kill */
	return pid;
}

int spawn_start(char *const argv[], const struct spawn_opts *o, pid_t *pid, int *out_pipe)
{
	cleanup_free char **joined = NULL;
	int pfd[2] = { -1, -1 };
	pid_t parent = getpid();

	if (!o)
		o = &defaults;
	if (o->prefix) {
		joined = join_argv(o->prefix, argv);
		if (!joined)
			return -ENOMEM;
		argv = joined;
	}
	log_argv(argv, o);
	if (o->output != SPAWN_TO_FD && o->output != SPAWN_INHERIT && pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		int err = -errno;

		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return err;
	}
	if (*pid == 0) {
		if (!child_setup(o, parent, pfd[1]))
			_exit(127);
		for (size_t i = 0; o->env && o->env[i]; i++)
			putenv((char *)o->env[i]);
		if (o->cwd && chdir(o->cwd) < 0) {
			fprintf(stderr, "cannot enter `%s`: %s\n", o->cwd, strerror(errno));
			_exit(127);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run `%s`: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (o->new_pgrp)
		setpgid(*pid, *pid); /* also here: no race with an early kill */
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (out_pipe)
		*out_pipe = pfd[0];
	else if (pfd[0] >= 0)
		close(pfd[0]);
	return 0;
}

int spawn_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 128 + WTERMSIG(wstatus);
}

int spawn_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return spawn_status(status);
}

void spawn_kill(pid_t pid, int sig)
{
	if (pid <= 0)
		return;
	/* ESRCH when it leads no group: then the pid alone. */
	kill(-pid, sig);
	kill(pid, sig);
}

int spawn_run(char *const argv[], const struct spawn_opts *o, struct buf *out)
{
	cleanup_buf struct buf tmp = { 0 };
	struct buf *sink = out ? out : &tmp;
	int fd = -1, err, st;
	pid_t pid;

	err = spawn_start(argv, o, &pid, o && o->output == SPAWN_TO_FD ? NULL : &fd);
	if (err)
		return err;
	while (fd >= 0) {
		char b[8192];
		ssize_t n = read(fd, b, sizeof(b));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Out of memory: keep draining, or the child blocks forever. */
		buf_append(sink, b, (size_t)n);
	}
	if (fd >= 0)
		close(fd);
	st = spawn_wait(pid);
	if (!out && tmp.len)
		pr_debug("%s: %s", argv[0], tmp.data);
	return st;
}

pid_t spawn_wait_any(int *status, unsigned int ms)
{
	pid_t pid = waitpid(-1, status, WNOHANG);

	if (pid <= 0) {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		return 0;
	}
	return pid;
}
