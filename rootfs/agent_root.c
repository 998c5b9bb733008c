/* Roots tests run in (plan `disk` and `root` lines): the kernel's BPF
 * selftests come as a small root filesystem of their own (test_progs, its
 * libraries, busybox) on a virtio disk or in the initramfs. The agent
 * mounts the disk read-only and binds its own /proc, /sys (with the bpffs,
 * cgroup, debugfs and tracefs under it), /dev, /tmp and /run into the
 * root, so a chrooted test sees the machine the agent set up, and its
 * sanitizer logs land in the agent's /tmp. Also: the kernel stacks of a
 * hung test's tasks, for the host's report.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define DISK_WAIT_MS 5000 /* a disk probed by a just-loaded module */

static int wait_for(const char *path, unsigned int ms)
{
	uint64_t end = clock_ms(CLOCK_MONOTONIC) + ms;
	struct stat st;

	while (stat(path, &st)) {
		if (clock_ms(CLOCK_MONOTONIC) >= end)
			return -ENOENT;
		usleep(20000);
	}
	return 0;
}

static int mkdirs(const char *path)
{
	char p[512];

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) && errno != EEXIST ? -errno : 0;
}

/* An image's root also gets the initramfs's /kta (the tests, the plan,
 * the kernel's config) and the directory tests leave files in for the
 * host to pull (KTA_OUT). */
static int image_extras(struct agent *a, const struct plan_root *r)
{
	char path[512];
	int err;

	snprintf(path, sizeof(path), "%s/kta", r->dir);
	err = mkdirs(path);
	if (!err && mount("/kta", path, NULL, MS_BIND | MS_REC, NULL))
		err = -errno;
	if (err) {
		agent_warn(a, "cannot bind /kta into %s: %s", r->dir, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s%s", r->dir, r->out);
	err = mkdirs(path);
	if (err)
		agent_warn(a, "cannot create %s: %s", path, strerror(-err));
	return err;
}

static int prepare(struct agent *a, const struct plan_root *r)
{
	static const char *const binds[] = { "/proc", "/sys", "/dev", "/tmp", "/run" };
	uint64_t t0 = clock_ms(CLOCK_MONOTONIC);
	int err = mkdirs(r->dir);

	if (err)
		return err;
	if (r->dev) {
		char dev[64];

		snprintf(dev, sizeof(dev), "/dev/%s", r->dev);
		if (wait_for(dev, DISK_WAIT_MS)) {
			agent_warn(a, "no disk %s after %u ms (is virtio-blk in the kernel, or its module "
				   "loaded?)", dev, DISK_WAIT_MS);
			return -ENODEV;
		}
		/* noload: a read-only mount that never replays a journal.
		 * An image's root is the run's own overlay: read-write. */
		if (r->fstype ? mount(dev, r->dir, r->fstype, 0, NULL)
			      : mount(dev, r->dir, "ext4", MS_RDONLY | MS_NODEV | MS_NOSUID, "noload")) {
			err = -errno;
			agent_warn(a, "cannot mount %s (%s) on %s: %s%s", dev, r->fstype ? r->fstype : "ext4",
				   r->dir, strerror(-err),
				   err == -ENODEV ? " (this kernel has no such filesystem: build it in)" : "");
			return err;
		}
	}
	if (r->fstype) {
		err = image_extras(a, r);
		if (err)
			return err;
	}
	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		char target[512];

		snprintf(target, sizeof(target), "%s%s", r->dir, binds[i]);
		if (mount(binds[i], target, NULL, MS_BIND | MS_REC, NULL)) {
			err = -errno;
			agent_warn(a, "cannot bind %s into %s: %s", binds[i], r->dir, strerror(-err));
			return err;
		}
	}
	agent_diag(a, "root %s%s%s%s ready in %llu ms", r->dir, r->dev ? " on /dev/" : " (initramfs)",
		   r->dev ? r->dev : "", r->fstype ? " (image, read-write)" : "", (unsigned long long)(clock_ms(CLOCK_MONOTONIC) - t0));
	return 0;
}

void roots_prepare(struct agent *a)
{
	for (size_t i = 0; i < a->plan.nroots; i++)
		prepare(a, &a->plan.roots[i]);
}

/* One task's kernel stack, as "  [pid/tid comm] frames...". */
static void task_stack(struct agent *a, unsigned int test, const char *pid, const char *tid)
{
	char path[128], comm[64] = "?", *stack = NULL, *buf = NULL;
	size_t len;
	int n;

	snprintf(path, sizeof(path), "/proc/%s/task/%s/comm", pid, tid);
	if (!read_file(path, &buf, &len)) {
		snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(buf, "\n"), buf);
		free(buf);
	}
	snprintf(path, sizeof(path), "/proc/%s/task/%s/stack", pid, tid);
	if (read_file(path, &stack, &len))
		stack = NULL;
	n = port_sendf(&a->port, REC_OUT, "%u\nkta-agent: task %s/%s (%s):\n%s", test, pid, tid, comm,
		       stack && *stack ? stack : "  (no kernel stack: CONFIG_STACKTRACE off, or running)\n");
	(void)n;
	free(stack);
}

void roots_dump_stacks(struct agent *a, unsigned int test, pid_t sid)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	while (proc && (de = readdir(proc))) {
		char path[128], *stat = NULL;
		size_t len;
		long s = -1;
		DIR *tasks;
		struct dirent *te;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (read_file(path, &stat, &len))
			continue;
		/* Field 6 is the session, after "(comm)", which may hold spaces. */
		{
			char *p = strrchr(stat, ')');
			int state_ppid_pgrp;

			if (p && sscanf(p + 1, " %*c %d %d %ld", &state_ppid_pgrp, &state_ppid_pgrp, &s) != 3)
				s = -1;
		}
		free(stat);
		if (s != sid)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
		tasks = opendir(path);
		while (tasks && (te = readdir(tasks)))
			if (te->d_name[0] >= '0' && te->d_name[0] <= '9')
				task_stack(a, test, de->d_name, te->d_name);
		if (tasks)
			closedir(tasks);
	}
	if (proc)
		closedir(proc);
}
