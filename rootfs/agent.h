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
#include "agent_plan.h"

#define AGENT_PLAN_PATH "/kta/plan"
#define AGENT_MODULES_PATH "/kta/modules"
#define AGENT_BUSYBOX "/bin/busybox"
#define AGENT_OUT_CHUNK 4096          /* largest `out` payload, "N\n" included */
#define AGENT_OUT_CAP (1u << 20)      /* output forwarded per test */
#define AGENT_PORT_WAIT_MS 5000       /* the port may appear after PID 1 starts */
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
