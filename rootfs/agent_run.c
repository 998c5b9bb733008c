/* Running one test: fork it into its own session and process group with
 * stdout and stderr on one pipe, forward that output as `out` frames while
 * waiting (one poll() on the pipe and the SIGCHLD signalfd, up to the
 * test's deadline), turn how it ended into a KTAP result frame, and kill
 * whatever it left behind so that no process outlives its test. As PID 1
 * the agent also reaps every orphan the kernel reparents to it.
 */
#include "agent.h"
#include "selftests/tprogs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define KILL_GRACE_MS 10000 /* a SIGKILLed test still running: stuck in the kernel */
#define DRAIN_MS 2000       /* output still in flight after the kill */
#define REAP_MS 2000
#define EXIT_SKIP 4         /* kselftest's KSFT_SKIP */
#define EXIT_EXEC 127       /* the shell's "command not found" */

struct test_state {
	const struct plan_test *t;
	pid_t pid;
	int out_fd;            /* read end of the output pipe; -1 at EOF */
	int status;            /* wait status of the main process */
	bool exited, timed_out, stuck;
	uint64_t start_ms, end_ms;
	size_t forwarded;      /* output bytes sent, up to AGENT_OUT_CAP */
	bool truncated, at_line_start;
	size_t line_len;
	char line[256];        /* the output line being received */
	char skip_reason[256]; /* the last "SKIP: " line, without the prefix */
	char last_line[256];   /* the last non-empty line */
	/* parse=test_progs: the subtests as they end. */
	unsigned int subs;     /* leaf results sent (KTAP numbers of the subtests) */
	uint64_t mark_ms;      /* when the last one ended (or the test started) */
	struct timespec mark_real; /* the same on the wall clock (sanitizer log mtimes) */
	unsigned int cur_num;  /* test_progs' number of the test running now */
	bool cur_has_subs;     /* it printed subtest results */
	char running[160];     /* what the watchdog last named */
	char window_line[256]; /* the last output line since the mark */
	bool sub_timed_out;
};

/* "SIGSEGV": the name the host prints next to the number. */
static const char *sig_name(int sig, char *buf, size_t n)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, n, "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, n, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, n, "unknown signal");
	return buf;
}

/* The test's root becomes its mount namespace's root, the way switch_root
 * does it (move the root's mount onto /, then chroot into it), not a bare
 * chroot: the kernel refuses a chrooted process a user namespace, and BPF
 * token tests make one. The agent's own namespace stays as it is. */
static int enter_root(const char *root)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	/* A mount of its own (a directory of the initramfs is none), with
	 * what is mounted under it. */
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) || chdir(root))
		return -1;
	if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/"))
		return -1;
	return 0;
}

static __attribute__((noreturn)) void child(const struct plan_test *t, int out, char **env)
{
	sigset_t none;
	int null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The agent runs at a higher priority (agent.c); the test at the
	 * ordinary one. */
	setpriority(PRIO_PROCESS, 0, 0);
	/* Its own session and process group: the group is killed as a whole. */
	setsid();
	null = open("/dev/null", O_RDONLY);
	if (null > 0) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	/* One pipe for both keeps their relative order. */
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	close(out);
	if (t->root && enter_root(t->root)) {
		dprintf(STDOUT_FILENO, "kta-agent: cannot enter the root `%s`: %s\n", t->root, strerror(errno));
		_exit(EXIT_EXEC);
	}
	if (t->cwd ? chdir(t->cwd) != 0 : chdir("/tmp") && chdir("/")) {
		dprintf(STDOUT_FILENO, "kta-agent: cannot enter `%s`: %s\n", t->cwd ? t->cwd : "/tmp", strerror(errno));
		_exit(EXIT_EXEC);
	}
	execve(t->path, t->argv, env);
	dprintf(STDOUT_FILENO, "kta-agent: cannot execute `%s`: %s\n", t->path, strerror(errno));
	_exit(EXIT_EXEC);
}

/* A pseudo-terminal as a pipe: fds[0] the master (read), fds[1] the
 * slave (the child's stdout), raw so that "\n" stays "\n". */
static int open_pty(int fds[2])
{
	struct termios tio;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), sl;

	if (m < 0)
		return -1;
	if (grantpt(m) || unlockpt(m) || (sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		int e = errno;

		close(m);
		errno = e;
		return -1;
	}
	if (!tcgetattr(sl, &tio)) {
		cfmakeraw(&tio);
		tcsetattr(sl, TCSANOW, &tio);
	}
	fds[0] = m;
	fds[1] = sl;
	return 0;
}

static int spawn(struct agent *a, struct test_state *s)
{
	char **owned = NULL, **env = plan_env(&a->plan, s->t, &owned);
	int pipefd[2], err = 0;
	pid_t pid;

	if (!env)
		return -ENOMEM;
	err = san_prepare(s->t);
	if (err)
		agent_diag(a, "cannot create the sanitizer log directory of test %u: %s",
			   s->t->num, strerror(-err));
	err = 0;
	/* test_progs' output through a terminal, as on BPF CI's serial
	 * console: stdio buffers it by line, so each result comes when the
	 * subtest ends, and a forked child's exit() cannot flush a copy of
	 * the parent's unwritten buffer a second time. */
	if (s->t->tprogs && open_pty(pipefd)) {
		agent_diag(a, "test %u: no pseudo-terminal (%s): its output goes through a pipe, block-buffered",
			   s->t->num, strerror(errno));
	} else if (s->t->tprogs) {
		goto forked;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		err = -errno;
		goto out;
	}
forked:
	s->start_ms = clock_ms(CLOCK_MONOTONIC);
	pid = fork();
	if (pid == 0)
		child(s->t, pipefd[1], env);
	if (pid < 0) {
		err = -errno;
		close(pipefd[0]);
	} else {
		s->pid = pid;
		s->out_fd = pipefd[0];
		fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	}
	close(pipefd[1]);
out:
	free(env);
	for (size_t i = 0; owned[i]; i++)
		free(owned[i]);
	free(owned);
	return err;
}

static void copy_line(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < n; i++)
		dst[i] = (unsigned char)src[i] < ' ' || src[i] == 0x7f ? ' ' : src[i];
	dst[i] = '\0';
}

static void set_mark(struct test_state *s)
{
	s->mark_ms = clock_ms(CLOCK_MONOTONIC);
	clock_gettime(CLOCK_REALTIME, &s->mark_real);
	s->window_line[0] = '\0';
}

/* One subtest's result, as a `sub` frame and a console marker, so that a
 * kernel splat between two markers belongs to the subtest that ended at
 * the second. status: pass, fail, skip, timeout. */
static void send_sub(struct agent *a, struct test_state *s, const char *name, const char *status,
		     const char *reason, const char *tp_num)
{
	char san[512], res[2048];
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	bool ok = !strcmp(status, "pass") || !strcmp(status, "skip");

	san_since(s->t, &s->mark_real, san, sizeof(san));
	s->subs++;
	snprintf(res, sizeof(res), "%u\n%s %u %s%s%s\nstatus=%s\nduration_ms=%llu\ntp=%s\npid=%d\n%s%s%s%s%s",
		 s->t->num, ok ? "ok" : "not ok", s->subs, name, !strcmp(status, "skip") ? " # SKIP " : "",
		 !strcmp(status, "skip") ? reason : "", status, (unsigned long long)(now - s->mark_ms), tp_num,
		 (int)s->pid, san[0] ? "san=" : "", san, san[0] ? "\n" : "", reason[0] ? "reason=" : "", reason);
	port_send(&a->port, REC_SUB, res, strlen(res));
	sys_kmsg(a, "kta: sub %u %u", s->t->num, s->subs);
	set_mark(s);
}

static void tprogs_line(struct agent *a, struct test_state *s, const char *line, size_t len)
{
	struct tp_line tp;
	char num[32];

	tprogs_parse(line, len, &tp);
	switch (tp.kind) {
	case TP_SUBTEST:
	case TP_TEST:
		if (tp.test_num != s->cur_num) {
			s->cur_num = tp.test_num;
			s->cur_has_subs = false;
		}
		if (tp.kind == TP_SUBTEST)
			s->cur_has_subs = true;
		else if (s->cur_has_subs) /* the subtests' summary */
			break;
		snprintf(num, sizeof(num), tp.sub_num ? "%u/%u" : "%u", tp.test_num, tp.sub_num);
		send_sub(a, s, tp.name,
			 tp.result == TP_FAIL ? "fail" : tp.result == TP_OK ? "pass" : "skip",
			 tp.result == TP_NOT_BUILT ? "not built (its BPF object failed to compile for this kernel)"
			 : tp.result == TP_SKIP ? (s->window_line[0] ? s->window_line : "skipped by the test")
						 : "",
			 num);
		s->running[0] = '\0';
		break;
	case TP_WATCHDOG:
		snprintf(s->running, sizeof(s->running), "%s", tp.name);
		break;
	case TP_NONE:
	case TP_SUMMARY:
	default:
		break;
	}
}

/* A complete output line: remember it for the skip reason. */
static void end_line(struct agent *a, struct test_state *s)
{
	char *p = s->line, *end = s->line + s->line_len;

	*end = '\0';
	s->line_len = 0;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (s->t->tprogs)
		tprogs_line(a, s, p, (size_t)(end - p));
	if (!strncmp(p, "SKIP: ", 6))
		copy_line(s->skip_reason, sizeof(s->skip_reason), p + 6);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p) {
		copy_line(s->last_line, sizeof(s->last_line), p);
		if (*p != '#')
			copy_line(s->window_line, sizeof(s->window_line), p);
	}
}

static void track_lines(struct agent *a, struct test_state *s, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n')
			end_line(a, s);
		else if (s->line_len + 1 < sizeof(s->line))
			s->line[s->line_len++] = buf[i];
	}
}

/* chunk holds "N\n" (hdr bytes) and then n bytes of output. */
static void forward(struct agent *a, struct test_state *s, char *chunk, size_t hdr, size_t n)
{
	size_t room = AGENT_OUT_CAP - s->forwarded, len = n < room ? n : room;

	if (s->truncated)
		return;
	if (len) {
		port_send(&a->port, REC_OUT, chunk, hdr + len);
		s->forwarded += len;
		s->at_line_start = chunk[hdr + len - 1] == '\n';
	}
	if (len < n) {
		port_sendf(&a->port, REC_OUT, "%u\n%s[output truncated]\n", s->t->num,
			   s->at_line_start ? "" : "\n");
		s->truncated = true;
	}
}

static void read_output(struct agent *a, struct test_state *s)
{
	char chunk[AGENT_OUT_CHUNK];
	size_t hdr = (size_t)snprintf(chunk, sizeof(chunk), "%u\n", s->t->num);

	/* A bounded number of reads, so a flood cannot starve the deadline. */
	for (int i = 0; i < 64 && s->out_fd >= 0; i++) {
		ssize_t n = read(s->out_fd, chunk + hdr, sizeof(chunk) - hdr);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* A terminal's master reads EIO once every slave is closed. */
		if (n <= 0) {
			if (s->line_len)
				end_line(a, s);
			close(s->out_fd);
			s->out_fd = -1;
			return;
		}
		/* Forwarded first: a subtest's output reaches the host before
		 * its result. */
		forward(a, s, chunk, hdr, (size_t)n);
		track_lines(a, s, chunk + hdr, (size_t)n);
	}
}

/* Reap every child that has exited, noting the test's own status. */
static void reap(struct agent *a, struct test_state *s)
{
	struct signalfd_siginfo si;
	pid_t pid;
	int st;

	while (read(a->sig_fd, &si, sizeof(si)) == sizeof(si))
		;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (s && pid == s->pid && !s->exited) {
			s->exited = true;
			s->status = st;
			s->end_ms = clock_ms(CLOCK_MONOTONIC);
		}
	}
}

static void kill_group(struct test_state *s)
{
	/* Before the child's setsid() the group does not exist yet. */
	if (kill(-s->pid, SIGKILL) && errno == ESRCH && !s->exited)
		kill(s->pid, SIGKILL);
}

static int poll_ms(uint64_t deadline)
{
	uint64_t now = clock_ms(CLOCK_MONOTONIC);

	if (!deadline)
		return -1;
	return now >= deadline ? 0 : deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* Without the signalfd (it failed at boot), poll waits in short steps and
 * every step reaps. */
static int step_ms(const struct agent *a, int timeout)
{
	return a->sig_fd >= 0 || (timeout >= 0 && timeout < 100) ? timeout : 100;
}

/* A subtest past its own deadline: its tasks' kernel stacks, its result
 * (named by test_progs' watchdog when it spoke), then the test's kill. */
static void sub_timeout(struct agent *a, struct test_state *s)
{
	char name[200], reason[128];

	if (s->running[0])
		snprintf(name, sizeof(name), "%s", s->running);
	else
		snprintf(name, sizeof(name), "unnamed subtest after test_progs' %u/%u", s->cur_num, s->subs);
	snprintf(reason, sizeof(reason), "no result within its %u s subtest timeout", s->t->subtimeout_s);
	port_sendf(&a->port, REC_OUT, "%u\nkta-agent: %s: %s; the kernel stacks of the test's tasks:\n", s->t->num,
		   name, reason);
	roots_dump_stacks(a, s->t->num, s->pid);
	send_sub(a, s, name, "timeout", reason, "?");
	s->sub_timed_out = true;
}

static void wait_test(struct agent *a, struct test_state *s)
{
	uint64_t end = s->t->timeout_s ? s->start_ms + 1000ull * s->t->timeout_s : 0;

	set_mark(s);
	while (!s->exited) {
		struct pollfd pfd[2] = { { a->sig_fd, POLLIN, 0 }, { s->out_fd, POLLIN, 0 } };
		uint64_t sub_end = s->t->subtimeout_s && !s->timed_out ? s->mark_ms + 1000ull * s->t->subtimeout_s : 0;
		uint64_t deadline = sub_end && (!end || sub_end < end) ? sub_end : end;
		int timeout = poll_ms(deadline);

		if (timeout == 0 && !s->timed_out) {
			if (deadline == sub_end)
				sub_timeout(a, s);
			else
				roots_dump_stacks(a, s->t->num, s->pid);
			s->timed_out = true;
			kill_group(s);
			end = clock_ms(CLOCK_MONOTONIC) + KILL_GRACE_MS;
			continue;
		}
		if (timeout == 0) {
			agent_warn(a, "test %s: pid %d still alive %u ms after SIGKILL; moving on",
				   s->t->name, (int)s->pid, KILL_GRACE_MS);
			s->stuck = true;
			s->end_ms = clock_ms(CLOCK_MONOTONIC);
			return;
		}
		if (poll(pfd, 2, step_ms(a, timeout)) < 0 && errno != EINTR) {
			agent_warn(a, "poll: %s", strerror(errno));
			usleep(10000);
		}
		if (pfd[1].revents)
			read_output(a, s);
		if (pfd[0].revents || a->sig_fd < 0)
			reap(a, s);
	}
}

/* Kill and reap everything but PID 1: tests may leave daemons behind in
 * other process groups, and the next test must start from a clean slate. */
void run_reap_all(struct agent *a, unsigned int max_ms)
{
	uint64_t deadline = clock_ms(CLOCK_MONOTONIC) + max_ms;

	kill(-1, SIGKILL);
	for (;;) {
		struct pollfd pfd = { a->sig_fd, POLLIN, 0 };
		struct signalfd_siginfo si;
		pid_t pid = waitpid(-1, NULL, WNOHANG);
		int timeout;

		if (pid > 0 || (pid < 0 && errno == EINTR))
			continue;
		if (pid < 0) /* ECHILD: nothing left */
			return;
		timeout = poll_ms(deadline);
		if (!timeout) {
			agent_warn(a, "processes still alive %u ms after SIGKILL (stuck in the "
				   "kernel?); going on without them", max_ms);
			return;
		}
		if (poll(&pfd, 1, step_ms(a, timeout)) > 0)
			while (read(a->sig_fd, &si, sizeof(si)) == sizeof(si))
				;
	}
}

static void cleanup_test(struct agent *a, struct test_state *s)
{
	uint64_t deadline;

	kill_group(s);
	/* Processes that left the group may hold the pipe open: kill them
	 * too, or the drain below would wait for them. */
	kill(-1, SIGKILL);
	deadline = clock_ms(CLOCK_MONOTONIC) + DRAIN_MS;
	while (s->out_fd >= 0) {
		struct pollfd pfd[2] = { { a->sig_fd, POLLIN, 0 }, { s->out_fd, POLLIN, 0 } };
		int timeout = poll_ms(deadline);

		if (!timeout) {
			agent_warn(a, "test %s: output pipe still open %u ms after the kill",
				   s->t->name, DRAIN_MS);
			close(s->out_fd);
			s->out_fd = -1;
			break;
		}
		if (poll(pfd, 2, step_ms(a, timeout)) < 0 && errno != EINTR)
			usleep(10000);
		if (pfd[1].revents)
			read_output(a, s);
		if (pfd[0].revents || a->sig_fd < 0)
			reap(a, s);
	}
	run_reap_all(a, REAP_MS);
}

static const char *skip_reason(const struct test_state *s)
{
	return s->skip_reason[0] ? s->skip_reason : s->last_line[0] ? s->last_line : "skipped";
}

static void send_result(struct agent *a, const struct test_state *s)
{
	const struct plan_test *t = s->t;
	unsigned int n = t->num;
	char res[1024];
	int len;

	if (s->sub_timed_out) {
		len = snprintf(res, sizeof(res), "not ok %u %s # TIMEOUT %us (a subtest)\nstatus=timeout\n"
			       "timeout=%u\nsubtimeout=%u\n", n, t->name, t->subtimeout_s, t->timeout_s,
			       t->subtimeout_s);
		a->tally.fail++;
	} else if (s->timed_out || s->stuck) {
		len = snprintf(res, sizeof(res), "not ok %u %s # TIMEOUT %us\nstatus=timeout\n"
			       "timeout=%u\n", n, t->name, t->timeout_s, t->timeout_s);
		a->tally.fail++;
	} else if (WIFSIGNALED(s->status)) {
		int sig = WTERMSIG(s->status);
		char name[32];

		len = snprintf(res, sizeof(res), "not ok %u %s # CRASH signal %d (%s)\n"
			       "status=signal\nsignal=%d\n", n, t->name, sig,
			       sig_name(sig, name, sizeof(name)), sig);
		a->tally.fail++;
	} else if (WEXITSTATUS(s->status) == 0) {
		len = snprintf(res, sizeof(res), "ok %u %s\nstatus=pass\nexit=0\n", n, t->name);
		a->tally.pass++;
	} else if (WEXITSTATUS(s->status) == EXIT_SKIP) {
		len = snprintf(res, sizeof(res), "ok %u %s # SKIP %s\nstatus=skip\nexit=%d\n"
			       "reason=%s\n", n, t->name, skip_reason(s), EXIT_SKIP, skip_reason(s));
		a->tally.skip++;
	} else {
		len = snprintf(res, sizeof(res), "not ok %u %s\nstatus=fail\nexit=%d\n", n,
			       t->name, WEXITSTATUS(s->status));
		a->tally.fail++;
	}
	a->tally.total++;
	if (len > 0 && (size_t)len < sizeof(res))
		snprintf(res + len, sizeof(res) - (size_t)len, "duration_ms=%llu",
			 (unsigned long long)(s->end_ms - s->start_ms));
	port_send(&a->port, REC_RESULT, res, strlen(res));
}

void run_test(struct agent *a, const struct plan_test *t)
{
	struct test_state s = { .t = t, .pid = -1, .out_fd = -1, .at_line_start = true };
	int err;

	sys_kmsg(a, "kta: begin %u %s", t->num, t->name);
	port_sendf(&a->port, REC_BEGIN, "%u %s", t->num, t->name);
	stress_start(a);
	err = spawn(a, &s);
	if (err) {
		/* Reported like a failed exec: the test did not run. */
		port_sendf(&a->port, REC_OUT, "%u\nkta-agent: cannot start `%s`: %s\n", t->num,
			   t->path, strerror(-err));
		agent_warn(a, "cannot start test %s: %s", t->name, strerror(-err));
		s.status = EXIT_EXEC << 8; /* a wait status: exited with 127 */
		s.start_ms = s.end_ms = clock_ms(CLOCK_MONOTONIC);
	} else {
		wait_test(a, &s);
		cleanup_test(a, &s);
	}
	san_forward(a, t);
	/* What the test wrote into an image reaches the overlay before its
	 * result: the host may kill QEMU after the last one, and pulls files
	 * from the overlay whatever happens next. */
	if (a->plan.writable_root)
		sync();
	send_result(a, &s);
	sys_kmsg(a, "kta: end %u", t->num);
}
