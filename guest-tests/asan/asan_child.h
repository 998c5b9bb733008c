/* The fork/wait skeleton shared by the ASAN suite's tests (asan_token.c,
 * asan_bpffs.c), which mirror the BPF selftests `token` and `test_bpffs`:
 * a parent forks, the child does the BPF work and ends with exit() or
 * _exit(), and the parent judges the child by its waitpid() status as the
 * selftests do.
 *
 * Why: under ASAN, exit() runs LeakSanitizer's leak check as an atexit
 * handler; when a short-lived child leaks (they all do), the check
 * replaces the child's exit status with 1 and the parent reports a
 * failure although every assertion in the child passed. The variants make
 * that certain instead of rare:
 *
 *   --exit    the child ends with exit(failures), as upstream before the fix
 *   --_exit   the child ends with _exit(failures), as upstream after it
 *
 * The child always leaks one heap block (kta_child_leak()) and sends its
 * assertion-failure count to the parent through a pipe before it ends, so
 * the parent can print, for the host,
 *
 *   kta-child: pid=<pid> status=<exit status, or -signal> assertions_failed=<n>
 *
 * and the host can tell "the child's checks failed" (n > 0) from "the
 * child's status was overridden" (status 1, n = 0). n is -1 when the
 * child died before it could send it.
 */
#ifndef KTA_ASAN_CHILD_H
#define KTA_ASAN_CHILD_H

#include "kta_test.h"

#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum kta_child_end {
	KTA_CHILD_EXIT,  /* exit(): atexit handlers, LeakSanitizer's among them */
	KTA_CHILD__EXIT, /* _exit(): straight to the kernel */
};

static const struct {
	const char *arg;
	enum kta_child_end end;
} kta_child_variants[] = {
	{ "--exit", KTA_CHILD_EXIT },
	{ "--_exit", KTA_CHILD__EXIT },
};

/* The variant named by the one argument; prints usage and exits 1 (a
 * failure: the suite manifest is wrong) otherwise. */
static inline enum kta_child_end kta_child_parse_args(int argc, char **argv)
{
	if (argc == 2)
		for (size_t i = 0; i < sizeof(kta_child_variants) / sizeof(kta_child_variants[0]); i++)
			if (!strcmp(argv[1], kta_child_variants[i].arg))
				return kta_child_variants[i].end;
	fprintf(stderr, "usage: %s --exit|--_exit\n", argv[0]);
	exit(KTA_EXIT_FAIL);
}

/* Line-buffered output, and nothing buffered when we fork: a child that
 * ends with _exit() loses what stdio still holds, and one that ends with
 * exit() would print the parent's buffered lines a second time. */
static inline void kta_child_setup_stdio(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

/* Does /proc/filesystems list this filesystem type? Negative errno if
 * /proc/filesystems cannot be read. */
static inline int kta_have_fs(const char *type)
{
	char line[128], want[64];
	FILE *f = fopen("/proc/filesystems", "re");
	int found = 0;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "\t%s\n", type);
	while (!found && fgets(line, sizeof(line), f)) {
		const char *tab = strchr(line, '\t');

		found = tab && !strcmp(tab, want);
	}
	fclose(f);
	return found;
}

/* Allocate, use and drop one heap block, as short-lived children do: its
 * only pointer lives in this frame, so after the return nothing points to
 * it and LeakSanitizer reports a direct leak. noinline, so the pointer
 * cannot end up in the caller's frame. */
static __attribute__((noinline)) void kta_child_leak(const char *what)
{
	size_t len = strlen(what) + 32;
	char *note = malloc(len);

	if (!note)
		return;
	snprintf(note, len, "kta child %d: %s", (int)getpid(), what);
	/* Make the block's contents matter, so the compiler keeps it. */
	__asm__ volatile("" : : "r"(note) : "memory");
	note = NULL;
}

/* LeakSanitizer scans the stack from the stopped thread's stack pointer
 * up, and the exit path runs below this frame: a stale copy of the leaked
 * pointer left there by kta_child_leak() or the stdio calls it made would
 * make the block "reachable" and hide the leak. Overwrite that area. */
static __attribute__((noinline)) void kta_child_scrub_stack(void)
{
	volatile char pad[32768];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = 0;
}

/* The child's last steps: send the parent its assertion-failure count,
 * leak, and end the way the variant says. */
static inline __attribute__((noreturn)) void kta_child_finish(enum kta_child_end end,
							       int result_fd, const char *what)
{
	int32_t failed = (int32_t)kta__env.failed_asserts;
	int status = failed > 255 ? 255 : failed;

	if (write(result_fd, &failed, sizeof(failed)) != (ssize_t)sizeof(failed))
		fprintf(stderr, "child: cannot send the assertion count: %s\n", strerror(errno));
	close(result_fd);
	printf("child: %d assertion(s) failed; ending with %s(%d)\n", (int)failed,
	       end == KTA_CHILD_EXIT ? "exit" : "_exit", status);
	fflush(NULL);
	kta_child_leak(what);
	kta_child_scrub_stack();
	if (end == KTA_CHILD_EXIT)
		exit(status);
	_exit(status);
}

/* The child's count, or -1 if it sent none (it died first). Call after
 * closing the parent's copy of the write end. */
static inline int kta_parent_read_count(int result_fd)
{
	int32_t failed;
	ssize_t n;

	do {
		n = read(result_fd, &failed, sizeof(failed));
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(failed) ? (int)failed : -1;
}

/* waitpid() retried on EINTR; the status in *status. */
static inline int kta_parent_wait(pid_t pid, int *status)
{
	pid_t ret;

	do {
		ret = waitpid(pid, status, 0);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -1 : 0;
}

/* The machine line for the host. */
static inline void kta_parent_print_child(pid_t pid, int status, int failed)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) :
		   WIFSIGNALED(status) ? -WTERMSIG(status) : -1;

	printf("kta-child: pid=%d status=%d assertions_failed=%d\n", (int)pid, code, failed);
}

#endif
