/* Running the kernel's make for `kta kernel build`: its output goes to a
 * log file in full; on a terminal a status line shows the phase, the
 * elapsed time and the objects compiled so far; on failure the compiler's
 * error lines (not the last screen of make noise) are printed. make runs
 * in its own process group so that an interrupted kta stops all of it.
 */
#include "kbuild/kbuild.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "base/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

struct progress {
	bool tty;
	const char *what;
	uint64_t t0, last;
	size_t objects;
	const char *phase;
	char current[96];
};

/* kbuild's quiet lines: "  CC      kernel/fork.o". */
static void progress_line(struct progress *p, const char *l, size_t n)
{
	char tag[12] = "";
	const char *obj;
	size_t i = 0;

	if (n < 4 || l[0] != ' ' || l[1] != ' ' || l[2] == ' ')
		return;
	while (i + 2 < n && i < sizeof(tag) - 1 && l[i + 2] != ' ')
		tag[i] = l[i + 2], i++;
	tag[i] = '\0';
	for (obj = l + 2 + i; obj < l + n && *obj == ' '; obj++)
		;
	if (!strcmp(tag, "CC") || !strcmp(tag, "AS")) {
		p->objects++;
		if (strncmp(p->phase, "link", 4))
			p->phase = "compile";
	} else if (!strcmp(tag, "LD") && !strncmp(obj, "vmlinux", 7)) {
		p->phase = "link";
	} else if (!strcmp(tag, "BTF") || !strcmp(tag, "PAHOLE")) {
		p->phase = "link: BTF";
	} else if (!strcmp(tag, "KSYMS") || !strcmp(tag, "SORTTAB")) {
		p->phase = "link";
	} else if (!strcmp(tag, "ZSTD") || !strcmp(tag, "XZKERN") || !strcmp(tag, "GZIP") ||
		   !strcmp(tag, "OBJCOPY") || !strcmp(tag, "BUILD")) {
		p->phase = "image";
	} else if (!strcmp(tag, "HOSTCC") || !strcmp(tag, "HOSTLD") || !strcmp(tag, "SYSHDR") ||
		   !strcmp(tag, "WRAP") || !strcmp(tag, "UPD") || !strcmp(tag, "GEN") || !strcmp(tag, "SYSTBL")) {
		if (!p->objects)
			p->phase = "prepare";
	}
	snprintf(p->current, sizeof(p->current), "%.*s", (int)(l + n - obj), obj);
}

static void progress_show(struct progress *p, bool force)
{
	uint64_t now = monotonic_ms(), s = (now - p->t0) / 1000;

	if (!p->tty || (!force && now - p->last < 250))
		return;
	p->last = now;
	fprintf(stderr, "\r\033[K  %s: %-9s %02llu:%02llu  %zu objects  %.40s", p->what, p->phase,
		(unsigned long long)(s / 60), (unsigned long long)(s % 60), p->objects, p->current);
	fflush(stderr);
}

size_t kbuild_log_objects(const char *log_path)
{
	cleanup_buf struct buf b = { 0 };
	struct progress p = { .phase = "" };

	if (read_file(log_path, &b, 0))
		return 0;
	for (const char *l = b.data; l && *l;) {
		const char *e = strchrnul(l, '\n');

		progress_line(&p, l, (size_t)(e - l));
		l = *e ? e + 1 : e;
	}
	return p.objects;
}

/* The compiler's diagnostics from the log: every "error:" line with the
 * two lines after it (source and caret), the last 30 lines of that; when
 * there is none (a Kconfig or tool failure), the log's last 15 lines. */
static void print_errors(const char *log_path, const char *what)
{
	cleanup_buf struct buf b = { 0 }, errs = { 0 };
	size_t nlines = 0, after = 0, keep;
	const char *start;
	bool compiler;

	if (read_file(log_path, &b, 0) || !b.data)
		return;
	for (const char *l = b.data; *l;) {
		const char *e = strchrnul(l, '\n');
		size_t n = (size_t)(e - l);
		bool makeline = n > 4 && !strncmp(l, "make", 4);

		if (!makeline && (memmem(l, n, "error:", 6) || memmem(l, n, "undefined reference", 19))) {
			buf_printf(&errs, "%.*s\n", (int)n, l);
			after = 2;
		} else if (after && !makeline) {
			buf_printf(&errs, "%.*s\n", (int)n, l);
			after--;
		}
		l = *e ? e + 1 : e;
	}
	compiler = errs.len > 0;
	if (!compiler)
		buf_append(&errs, b.data, b.len);
	for (size_t i = 0; i < errs.len; i++)
		nlines += errs.data[i] == '\n';
	keep = compiler ? 30 : 15;
	start = errs.data;
	for (size_t skip = nlines > keep ? nlines - keep : 0; skip && start; skip--)
		start = strchr(start, '\n') + 1;
	fprintf(stderr, "kta: %s failed; %s\n%s", what, compiler ? "the compiler said:" : "the log ends with:",
		start ? start : "");
}

int kbuild_make(char *const argv[], char *const *prefix, const char *const *env, const char *log_path,
		bool progress, const char *what)
{
	struct progress p = { .tty = progress, .what = what, .t0 = monotonic_ms(), .phase = "prepare" };
	cleanup_close int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cleanup_buf struct buf pending = { 0 };
	int out = -1, st, err = 0;
	pid_t pid;

	if (log < 0)
		return pr_err("cannot write `%s`: %s", log_path, strerror(errno)), -errno;
	err = spawn_start(argv, &(struct spawn_opts){ .env = env, .new_pgrp = true, .prefix = prefix },
			  &pid, &out);
	if (err)
		return pr_err("cannot run make: %s", strerror(-err)), err;
	for (;;) {
		struct pollfd pfd = { .fd = out, .events = POLLIN };
		char b[16384];
		ssize_t n;
		int r = poll(&pfd, 1, 250);

		if (interrupt_signal()) {
			spawn_kill(pid, SIGTERM);
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0) {
			progress_show(&p, false);
			continue;
		}
		n = read(out, b, sizeof(b));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (write(log, b, (size_t)n) != n && !err)
			err = -errno ?: -EIO;
		buf_append(&pending, b, (size_t)n);
		for (;;) {
			char *nl = memchr(pending.data, '\n', pending.len);

			if (!nl)
				break;
			progress_line(&p, pending.data, (size_t)(nl - pending.data));
			buf_consume(&pending, (size_t)(nl - pending.data) + 1);
		}
		progress_show(&p, false);
	}
	close(out);
	st = spawn_wait(pid);
	if (p.tty) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	if (interrupt_signal()) {
		/* make's children may outlive it for a moment. */
		spawn_kill(pid, SIGKILL);
		return -EINTR;
	}
	if (err) {
		pr_err("cannot write the build log `%s`: %s", log_path, strerror(-err));
		return err;
	}
	if (st == 0)
		return 0;
	{
		cleanup_buf struct buf b = { 0 };

		if (!read_file(log_path, &b, 0) && b.data && strstr(b.data, "No space left on device")) {
			pr_err("%s failed: no space left on device (the build directory is in the kta cache: "
			       "free some space or point KTA_CACHE elsewhere); log: %s", what, log_path);
			return -ENOSPC;
		}
	}
	print_errors(log_path, what);
	pr_err("%s failed (make exited %d); full log: %s", what, st, log_path);
	return KBUILD_EBUILD;
}
