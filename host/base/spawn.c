/* Child processes with a working directory and extra environment. */
#include "base/spawn.h"
#include "base/log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>

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

int spawn_start(char *const argv[], const struct spawn_opts *o, pid_t *pid, int *out_pipe)
{
	static const struct spawn_opts none = { .out_fd = -1 };
	cleanup_free char **joined = NULL;
	int pfd[2] = { -1, -1 };

	if (!o)
		o = &none;
	if (o->prefix) {
		joined = join_argv(o->prefix, argv);
		if (!joined)
			return -ENOMEM;
		argv = joined;
	}
	log_argv(argv, o);
	if (o->out_fd < 0 && pipe2(pfd, O_CLOEXEC) < 0)
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
		int devnull = open("/dev/null", O_RDONLY);
		int out = o->out_fd >= 0 ? o->out_fd : pfd[1];

		if (o->new_pgrp)
			setpgid(0, 0);
		/* Nothing kta starts outlives it, even if kta is SIGKILLed. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (devnull >= 0 && !o->keep_stdin)
			dup2(devnull, 0);
		dup2(out, 1);
		dup2(out, 2);
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

int spawn_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int spawn_run(char *const argv[], const struct spawn_opts *o, struct buf *out)
{
	cleanup_buf struct buf tmp = { 0 };
	struct buf *sink = out ? out : &tmp;
	int fd = -1, err, st;
	pid_t pid;

	err = spawn_start(argv, o, &pid, o && o->out_fd >= 0 ? NULL : &fd);
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
