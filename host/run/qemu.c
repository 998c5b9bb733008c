/* QEMU command line and process. The guest gets no network, no display, no
 * default devices: a serial console and one virtio-serial port, both wired
 * to FIFOs that kta reads. -no-reboot plus panic=-1 turn a guest panic or
 * reboot into a QEMU exit, so a dead kernel never leaves QEMU spinning.
 */
#include "run/qemu.h"
#include "base/log.h"
#include "run/proto.h"
#include "base/sha256.h"
#include "base/spawn.h"
#include "base/util.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

struct strv {
	char **v;
	size_t n, cap;
	int err;
};

static void strv_add(struct strv *s, char *str)
{
	if (s->err || !str) {
		s->err = s->err ?: -ENOMEM;
		free(str);
		return;
	}
	/* Room for str and the NULL after it. */
	if (ARRAY_RESERVE(s->v, s->cap, s->n + 1, 32)) {
		s->err = -ENOMEM;
		free(str);
		return;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

#define ADD(s, ...) strv_add(s, xasprintf(__VA_ARGS__))

/* The file execvp() would run for name, or NULL. */
static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/'))
		return strdup(name);
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		char *cand = xasprintf("%.*s/%s", (int)n, p, name);

		if (cand && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		p += n + (p[n] == ':');
	}
	return NULL;
}

/* The answer is cached by the binary's path, size and mtime ($KTA_CACHE/
 * qemu-caps/): asking costs a QEMU start (40 to 140 ms here), which is a
 * few percent of a boot. */
bool qemu_has_sandbox(const char *binary)
{
	char *argv[] = { (char *)binary, "-help", NULL };
	cleanup_buf struct buf out = { 0 }, cached = { 0 };
	cleanup_free char *path = NULL, *bin = NULL;
	char cache[PATH_MAX], key[PATH_MAX + 64], name[128];
	struct stat st;
	bool yes;

	bin = find_in_path(binary);
	if (!bin || stat(bin, &st) || cache_dir(cache, sizeof(cache)))
		return spawn_run(argv, NULL, &out) == 0 && out.data && strstr(out.data, "\n-sandbox ");
	snprintf(key, sizeof(key), "%s %lld %lld", bin, (long long)st.st_size, (long long)st.st_mtime);
	{
		struct sha256 h;
		char hex[65];

		sha256_init(&h);
		sha256_update(&h, key, strlen(key));
		sha256_hex(&h, hex);
		snprintf(name, sizeof(name), "qemu-caps/%.16s", hex);
	}
	path = path_join(cache, name);
	if (path && !read_file(path, &cached, 4096) && cached.data && !strncmp(cached.data, key, strlen(key)) &&
	    cached.data[strlen(key)] == ' ')
		return !strcmp(cached.data + strlen(key) + 1, "sandbox\n");
	yes = spawn_run(argv, NULL, &out) == 0 && out.data && strstr(out.data, "\n-sandbox ");
	if (path) {
		cleanup_free char *dir = path_join(cache, "qemu-caps");
		cleanup_free char *text = xasprintf("%s %s\n", key, yes ? "sandbox" : "none");

		if (dir && text && !mkdir_p(dir, 0755))
			write_file_atomic(path, text, strlen(text), 0644);
	}
	return yes;
}

int qemu_build_argv(const struct qemu_opts *o, char ***argv)
{
	const struct arch_profile *a = o->arch;
	struct strv s = { 0 };
	unsigned int mem = o->memory_mb ? o->memory_mb : a->memory_mb;
	unsigned int smp = o->smp ? o->smp : 1;

	if (!o->kernel || !o->initrd || !o->console_path || !o->results_path)
		return -EINVAL;
	ADD(&s, "%s", a->qemu_binary);
	ADD(&s, "-nodefaults");
	ADD(&s, "-no-user-config");
	ADD(&s, "-nographic");
	ADD(&s, "-no-reboot");
	ADD(&s, "-nic");
	ADD(&s, "none");
	/* QEMU runs as root here: seccomp denies it obsolete system calls,
	 * privilege changes (setuid, ...), spawning processes and resource
	 * control, none of which a guest of kta needs. */
	if (o->sandbox) {
		ADD(&s, "-sandbox");
		ADD(&s, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	}
	ADD(&s, "-M");
	ADD(&s, "%s", a->machine);
	ADD(&s, "-accel");
	ADD(&s, "%s", o->kvm ? "kvm" : o->tcg_one_thread && smp > 1 ? "tcg,thread=single" : "tcg");
	ADD(&s, "-cpu");
	ADD(&s, "%s", o->cpu ? o->cpu : o->kvm ? a->cpu_kvm : a->cpu_tcg);
	ADD(&s, "-m");
	ADD(&s, "%u", mem);
	ADD(&s, "-smp");
	ADD(&s, "%u", smp);
	ADD(&s, "-kernel");
	ADD(&s, "%s", o->kernel);
	ADD(&s, "-initrd");
	ADD(&s, "%s", o->initrd);
	/* cryptomgr.notests: the crypto API's self-tests run at boot and
	 * the kernel waits for them before init: a quarter to a third of a
	 * Debian kernel's boot under TCG (docs/boot.md), for nothing a test
	 * of kta's looks at. --append cryptomgr.notests=0 runs them. The
	 * certificates (174 ms of Debian's x86_64 boot) only verify signed
	 * modules: skipped where none is loaded (0.93-0.96 of the run). */
	ADD(&s, "-append");
	ADD(&s, "console=%s panic=-1 loglevel=5 printk.devkmsg=on rdinit=/init cryptomgr.notests%s%s%s%s%s%s%s",
	    a->console, a->append ? " " : "", a->append ? a->append : "",
	    smp == 1 && a->append_one_cpu ? " " : "", smp == 1 && a->append_one_cpu ? a->append_one_cpu : "",
	    o->no_certs ? " initcall_blacklist=load_system_certificate_list" : "",
	    o->append_extra && *o->append_extra ? " " : "", o->append_extra ? o->append_extra : "");
	ADD(&s, "-chardev");
	ADD(&s, "pipe,id=con,path=%s", o->console_path);
	ADD(&s, "-serial");
	ADD(&s, "chardev:con");
	ADD(&s, "-device");
	ADD(&s, "virtio-serial-%s,id=vser", a->virtio_suffix);
	ADD(&s, "-chardev");
	ADD(&s, "pipe,id=res,path=%s", o->results_path);
	ADD(&s, "-device");
	ADD(&s, "virtserialport,bus=vser.0,chardev=res,name=%s", PROTO_PORT_NAME);
	/* The run's own overlay: the guest writes it, never the image under
	 * it (QEMU opens a backing file read-only). */
	if (o->root_overlay) {
		ADD(&s, "-drive");
		ADD(&s, "file=%s,if=none,id=root,format=qcow2", o->root_overlay);
		ADD(&s, "-device");
		ADD(&s, "virtio-blk-%s,drive=root", a->virtio_suffix);
	}
	/* readonly: the images are cache entries shared by every run. */
	for (size_t i = 0; o->disks && o->disks[i]; i++) {
		ADD(&s, "-drive");
		ADD(&s, "file=%s,if=none,id=disk%zu,format=raw,readonly=on", o->disks[i], i);
		ADD(&s, "-device");
		ADD(&s, "virtio-blk-%s,drive=disk%zu", a->virtio_suffix, i);
	}
	if (s.err) {
		strv_free(s.v);
		return s.err;
	}
	*argv = s.v;
	return 0;
}

char *strv_shell_join(char *const *v)
{
	struct buf b = { 0 };

	for (size_t i = 0; v[i]; i++) {
		const char *a = v[i];
		bool plain = *a != '\0';

		for (const char *p = a; *p; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_./=:,+@%", *p))
				plain = false;
		if (i)
			buf_append(&b, " ", 1);
		if (plain) {
			buf_append(&b, a, strlen(a));
			continue;
		}
		buf_append(&b, "'", 1);
		for (const char *p = a; *p; p++) {
			if (*p == '\'')
				buf_append(&b, "'\\''", 4);
			else
				buf_append(&b, p, 1);
		}
		buf_append(&b, "'", 1);
	}
	if (!b.data)
		buf_append(&b, "", 0);
	return b.data;
}

int qemu_spawn(char *const *argv, struct qemu_proc *p)
{
	/* Its own group: a terminal's ^C goes to kta, which then kills QEMU
	 * deliberately, after saving what it has. SIGKILL if kta dies: a
	 * guest has nothing to save without kta. */
	struct spawn_opts so = { .output = SPAWN_STDERR, .new_pgrp = true, .pdeath_sig = SIGKILL };
	int fd = -1, err;

	p->pid = 0;
	p->stderr_fd = -1;
	p->status = 0;
	err = spawn_start(argv, &so, &p->pid, &fd);
	if (err) {
		p->pid = 0;
		return err;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	p->stderr_fd = fd;
	return 0;
}

int qemu_try_reap(struct qemu_proc *p)
{
	pid_t r;

	if (!p->pid)
		return 1;
	r = waitpid(p->pid, &p->status, WNOHANG);
	if (r == p->pid) {
		p->pid = 0;
		return 1;
	}
	return 0;
}

void qemu_kill(struct qemu_proc *p)
{
	if (p->pid > 0) {
		spawn_kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->pid = 0;
	}
	if (p->stderr_fd >= 0) {
		close(p->stderr_fd);
		p->stderr_fd = -1;
	}
}
