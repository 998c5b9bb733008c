/* The guest agent: PID 1 of the test appliance. It mounts the pseudo
 * filesystems, loads modules, finds the results port, runs each test of
 * /kta/plan in its own process group with a deadline, sends everything to
 * the host as frames (docs/protocol.md) and powers the machine off. This
 * header holds the state the agent's files share; every function that can
 * fail returns a negative errno, and nothing here may exit the process.
 */
#ifndef KTA_AGENT_H
#define KTA_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "run/proto.h"

#define AGENT_PLAN_PATH "/kta/plan"
#define AGENT_MODULES_PATH "/kta/modules"
#define AGENT_BUSYBOX "/bin/busybox"
#define AGENT_PATH_ENV "PATH=/bin:/sbin:/usr/bin:/usr/sbin:/kta/tests"
#define AGENT_OUT_CHUNK 4096          /* largest `out` payload, "N\n" included */
#define AGENT_OUT_CAP (1u << 20)      /* output forwarded per test */
#define AGENT_PORT_WAIT_MS 5000       /* the port may appear after PID 1 starts */
#define AGENT_SAN_DIR "/tmp/kta-san"  /* sanitizer logs: <dir>/<test number>/ */
#define AGENT_SAN_CAP (1u << 20)      /* sanitizer log bytes forwarded per test */

#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))

enum fault {
	FAULT_NONE,
	FAULT_GARBAGE,  /* garbage bytes after the first result */
	FAULT_BADCRC,   /* second result frame with a flipped payload byte */
	FAULT_TRUNCATE, /* half of the frame after the first result, then off */
	FAULT_NOEND,    /* no end frame */
	FAULT_DROPLINE, /* the plan's first test line lost: later tests shift */
};

/* The results port and the diagnostics kept until it opens. */
struct port {
	int fd;             /* -1 until opened, and again after a write error */
	bool broken;        /* a write failed: stop sending, say so once */
	uint32_t seq;       /* next frame's sequence number */
	enum fault fault;
	unsigned int results;  /* result frames sent, for fault injection */
	bool truncate_next;    /* FAULT_TRUNCATE armed */
	char **log;            /* diag lines written before the port opened */
	size_t nlog;
	char dev[300];         /* /dev/vportNpM */
	char frame[PROTO_MAX_HEADER + PROTO_MAX_PAYLOAD + 1];
};

struct plan_test {
	unsigned int num;        /* 1-based KTAP test number */
	unsigned int timeout_s;  /* 0: no deadline */
	char *name;
	char *path;
	char **argv;             /* path, args..., NULL */
	char **env;              /* KEY=VALUE from `tenv` lines before it */
	size_t nenv;
	/* From `topt` lines before it. */
	char *root;              /* chroot here first (a prepared root), or NULL */
	char *cwd;               /* working directory (in root), or NULL: /tmp */
	bool tprogs;             /* parse=test_progs: its subtests become sub frames */
	unsigned int subtimeout_s; /* 0: only the test's own deadline */
};

/* A root tests can chroot into: a disk mounted read-only, or a directory
 * of the initramfs, with /proc, /sys, /dev, /tmp and /run bound in. */
struct plan_root {
	char *dev;               /* "vda": /dev/vda, ext4, read-only; NULL: dir is in the initramfs */
	char *dir;
	char *fstype;            /* an `image` line's: mounted read-write; NULL: a `disk` or `root` */
	char *out;               /* an `image` line's KTA_OUT, made in the root */
};

/* Load beside every test (`stress` plan line), to make timing races show:
 * CPU-bound processes at a nice level, and memory kept in use. */
struct stress {
	unsigned int hogs;       /* busy loops, one process each */
	int nice;                /* their nice level (-20..19) */
	unsigned int mem_mb;     /* memory held and touched by one more process */
};

struct plan {
	struct stress stress;
	char **env;              /* KEY=VALUE, from `env` lines */
	size_t nenv;
	struct plan_test *tests;
	size_t ntests;
	char **pending_env;      /* `tenv` lines waiting for their test */
	size_t npending;
	struct plan_test pending_opt; /* `topt` settings waiting for their test */
	struct plan_root *roots;
	size_t nroots;
	bool writable_root;      /* an `image` root: sync after each test */
};

struct tally {
	unsigned int pass, fail, skip, total;
};

struct agent {
	struct port port;
	struct plan plan;
	struct tally tally;
	enum fault fault;
	bool probe;       /* kta.probe=1: hello, end, power off */
	int kmsg_fd;      /* /dev/kmsg for console markers, or -1 */
	int sig_fd;       /* signalfd for SIGCHLD, which stays blocked */
};

/* agent_sys.c: the machine around the tests. */
void agent_log(const char *fmt, ...) PRINTF_FMT(1, 2);
uint64_t clock_ms(clockid_t clk);
/* A whole file, NUL-terminated; *out is the caller's to free. */
int read_file(const char *path, char **out, size_t *len);
void sys_setup_fs(struct agent *a);
void sys_loopback_up(struct agent *a);
int sys_setup_signals(struct agent *a);
void sys_kmsg(struct agent *a, const char *fmt, ...) PRINTF_FMT(2, 3);
void sys_read_cmdline(struct agent *a);
void sys_load_modules(struct agent *a, const char *list);
void sys_install_busybox(struct agent *a);
__attribute__((noreturn)) void port_poweroff(struct port *p);

/* agent_port.c: the results channel. */
void port_init(struct port *p, enum fault fault);
int port_open(struct port *p);
int port_send(struct port *p, enum rec_type type, const void *payload, size_t len);
int port_sendf(struct port *p, enum rec_type type, const char *fmt, ...) PRINTF_FMT(3, 4);
void port_flush_log(struct port *p);
/* A diag frame, or a log line while the port is closed. */
void agent_diag(struct agent *a, const char *fmt, ...) PRINTF_FMT(2, 3);
/* The same, also printed on the console: for what a human must see. */
void agent_warn(struct agent *a, const char *fmt, ...) PRINTF_FMT(2, 3);

/* agent_plan.c: /kta/plan. */
int plan_load(struct agent *a, const char *path);
/* A test's environment: PATH, HOME=/tmp and KTA_TEST=<name>, then the
 * plan's env lines and the test's tenv lines, which may override them, then
 * the sanitizer log paths. The array and the NULL-terminated *owned strings
 * are the caller's to free; NULL when out of memory. */
char **plan_env(const struct plan *pl, const struct plan_test *t, char ***owned);

/* agent_root.c: the plan's roots (after modules are loaded: virtio_blk
 * may be one). A root that cannot be prepared is said on the console; its
 * tests then fail to start, which the host reports. */
void roots_prepare(struct agent *a);
/* Kernel stacks of every task in session sid, as text for the host. */
void roots_dump_stacks(struct agent *a, unsigned int test, pid_t sid);

/* agent_san.c: sanitizer logs, one directory per test. */
int san_prepare(const struct plan_test *t);
void san_forward(struct agent *a, const struct plan_test *t);
/* Names of the test's sanitizer logs changed after `since` (wall clock),
 * comma-separated into out: the reports of one test_progs subtest. */
void san_since(const struct plan_test *t, const struct timespec *since, char *out, size_t size);

/* agent_stress.c: start the plan's load (it dies in the cleanup after each
 * test, which kills every process, and starts again for the next). */
void stress_start(struct agent *a);

/* agent_run.c: one test, from fork to result frame and cleanup. */
void run_test(struct agent *a, const struct plan_test *t);
void run_reap_all(struct agent *a, unsigned int max_ms);

#endif
