/* The machine around the tests: the pseudo filesystems and device nodes
 * that PID 1 must set up itself (there is no udev and no other init), the
 * console, the kernel command line, module loading, busybox's applet links,
 * console markers through /dev/kmsg, and powering off. Failures here are
 * reported and survived: a half-set-up guest still tells the host more
 * than a dead one.
 */
#include "agent.h"

#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

struct mount_spec {
	const char *source, *target, *type, *data;
	unsigned long flags;
	bool optional; /* tests can run without it; absence is only a diag */
};

static const struct mount_spec mounts[] = {
	{ "proc", "/proc", "proc", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, false },
	{ "sysfs", "/sys", "sysfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, false },
	{ "devtmpfs", "/dev", "devtmpfs", "mode=0755", MS_NOSUID, false },
	{ "devpts", "/dev/pts", "devpts", "gid=5,mode=620,ptmxmode=666", MS_NOSUID | MS_NOEXEC, true },
	{ "tmpfs", "/dev/shm", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV, true },
	{ "tmpfs", "/tmp", "tmpfs", "mode=1777", MS_NOSUID | MS_NODEV, false },
	{ "tmpfs", "/run", "tmpfs", "mode=0755", MS_NOSUID | MS_NODEV, false },
	/* Where BPF and tracing tests expect them; the kernel creates the
	 * mount points in sysfs when it has the feature. */
	{ "debugfs", "/sys/kernel/debug", "debugfs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
	{ "tracefs", "/sys/kernel/tracing", "tracefs", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
	{ "bpf", "/sys/fs/bpf", "bpf", "mode=0700", MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
};

/* devtmpfs provides these; a kernel without it gets them from us. */
static const struct dev_node {
	const char *path;
	mode_t mode;
	unsigned int major, minor;
} dev_nodes[] = {
	{ "/dev/console", S_IFCHR | 0600, 5, 1 }, { "/dev/null", S_IFCHR | 0666, 1, 3 },
	{ "/dev/zero", S_IFCHR | 0666, 1, 5 },    { "/dev/kmsg", S_IFCHR | 0644, 1, 11 },
	{ "/dev/random", S_IFCHR | 0666, 1, 8 },  { "/dev/urandom", S_IFCHR | 0666, 1, 9 },
	{ "/dev/tty", S_IFCHR | 0666, 5, 0 },
};

static const struct dev_link {
	const char *path, *target;
} dev_links[] = {
	{ "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" },
	{ "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" },
};

static int mkdir_one(const char *path, mode_t mode)
{
	return mkdir(path, mode) && errno != EEXIST ? -errno : 0;
}

static void mount_all(struct agent *a)
{
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mount_spec *m = &mounts[i];
		int err = mkdir_one(m->target, 0755);

		if (!err && mount(m->source, m->target, m->type, m->flags, m->data) &&
		    errno != EBUSY)
			err = -errno;
		if (err && m->optional)
			agent_diag(a, "optional mount %s on %s: %s", m->type, m->target,
				   strerror(-err));
		else if (err)
			agent_warn(a, "cannot mount %s on %s: %s", m->type, m->target,
				   strerror(-err));
	}
}

static void make_dev_nodes(struct agent *a)
{
	struct stat st;

	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		const struct dev_node *d = &dev_nodes[i];

		if (lstat(d->path, &st) == 0)
			continue;
		if (mknod(d->path, d->mode, makedev(d->major, d->minor)))
			agent_diag(a, "cannot create `%s`: %s", d->path, strerror(errno));
	}
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (lstat(dev_links[i].path, &st) && symlink(dev_links[i].target, dev_links[i].path))
			agent_diag(a, "cannot create `%s`: %s", dev_links[i].path, strerror(errno));
}

/* fds 0-2 must be open before anything else is: a pipe or the port must
 * never land on them, and a test inherits only what we give it. */
static void setup_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i <= 2; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* Tests talk over loopback (the sockmap suite does); no init system is
 * here to bring lo up. */
void sys_loopback_up(struct agent *a)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		agent_diag(a, "no AF_INET socket, loopback left down: %s", strerror(errno));
		return;
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			agent_diag(a, "cannot bring lo up: %s", strerror(errno));
	}
	close(fd);
}

void sys_setup_fs(struct agent *a)
{
	if (chdir("/"))
		agent_log("cannot chdir to /: %s", strerror(errno));
	mount_all(a);
	make_dev_nodes(a);
	setup_console();
	a->kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (a->kmsg_fd < 0)
		agent_warn(a, "cannot open /dev/kmsg: %s (no test markers on the console)",
			   strerror(errno));
}

/* SIGCHLD stays blocked in PID 1 and is read from a signalfd, so waiting
 * for a test and reading its output is one poll() with no handler races. */
int sys_setup_signals(struct agent *a)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	a->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return a->sig_fd < 0 ? -errno : 0;
}

void sys_kmsg(struct agent *a, const char *fmt, ...)
{
	char msg[512] = "<4>"; /* KERN_WARNING: passes loglevel=5 to the console */
	va_list ap;
	int n;

	if (a->kmsg_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg + 3, sizeof(msg) - 4, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 3;
	if (n > (int)sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(a->kmsg_fd, msg, (size_t)n) < 0)
		agent_log("cannot write to /dev/kmsg: %s", strerror(errno));
}

static enum fault parse_fault(struct agent *a, const char *mode)
{
	static const char *const names[] = {
		[FAULT_GARBAGE] = "garbage", [FAULT_BADCRC] = "badcrc",
		[FAULT_TRUNCATE] = "truncate", [FAULT_NOEND] = "noend", [FAULT_DROPLINE] = "dropline",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] && !strcmp(mode, names[i]))
			return (enum fault)i;
	agent_warn(a, "unknown kta.fault=%s: injecting no fault", mode);
	return FAULT_NONE;
}

void sys_read_cmdline(struct agent *a)
{
	char *buf, *save = NULL;
	size_t len;
	int err = read_file("/proc/cmdline", &buf, &len);

	if (err) {
		agent_warn(a, "cannot read /proc/cmdline: %s", strerror(-err));
		return;
	}
	for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (!strncmp(w, "kta.fault=", 10))
			a->fault = parse_fault(a, w + 10);
		else if (!strncmp(w, "kta.probe=", 10))
			a->probe = strcmp(w + 10, "0") != 0;
	}
	free(buf);
}

static void load_module(struct agent *a, const char *path)
{
	uint64_t t0 = clock_ms(CLOCK_MONOTONIC);
	char *image;
	size_t len;
	int err = read_file(path, &image, &len);

	if (err) {
		agent_warn(a, "cannot read module `%s`: %s", path, strerror(-err));
		return;
	}
	if (syscall(SYS_init_module, image, len, "") == 0)
		agent_diag(a, "module %s: loaded (%zu KiB, %llu ms)", path, len / 1024,
			   (unsigned long long)(clock_ms(CLOCK_MONOTONIC) - t0));
	else if (errno == EEXIST)
		agent_diag(a, "module %s: already loaded", path);
	else
		agent_warn(a, "cannot load module `%s`: %s%s", path, strerror(errno),
			   errno == ENOEXEC ? " (not a module for this kernel, or compressed)" : "");
	free(image);
}

void sys_load_modules(struct agent *a, const char *list)
{
	char *buf, *save = NULL;
	size_t len;
	int err = read_file(list, &buf, &len);

	if (err == -ENOENT)
		return;
	if (err) {
		agent_warn(a, "cannot read the module list `%s`: %s", list, strerror(-err));
		return;
	}
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end = line + strlen(line);

		while (*line == ' ' || *line == '\t')
			line++;
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (*line && *line != '#')
			load_module(a, line);
	}
	free(buf);
}

/* Scripts expect sh, cat, grep...: one busybox binary provides them all. */
void sys_install_busybox(struct agent *a)
{
	static const char *const dirs[] = { "/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin" };
	uint64_t t0 = clock_ms(CLOCK_MONOTONIC);
	pid_t pid;
	int st;

	if (access(AGENT_BUSYBOX, X_OK))
		return;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int err = mkdir_one(dirs[i], 0755);

		if (err)
			agent_diag(a, "cannot create `%s`: %s", dirs[i], strerror(-err));
	}
	pid = fork();
	if (pid < 0) {
		agent_warn(a, "cannot fork for busybox --install: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(AGENT_BUSYBOX, AGENT_BUSYBOX, "--install", "-s", "/bin", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			agent_warn(a, "cannot wait for busybox --install: %s", strerror(errno));
			return;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		agent_warn(a, "`%s --install -s /bin` failed (wait status 0x%x)", AGENT_BUSYBOX, st);
	else
		agent_diag(a, "busybox applets installed in /bin (%llu ms)",
			   (unsigned long long)(clock_ms(CLOCK_MONOTONIC) - t0));
}

