/* The guest agent's main flow, as PID 1: set up the machine, read the
 * kernel command line and the plan, load modules, open the results port,
 * send hello and plan, run every test, send the end record and power off.
 * main() never returns: PID 1 exiting would panic the kernel, so every
 * path ends in port_poweroff(), which loops forever if the power stays on.
 */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *const fault_names[] = {
	[FAULT_NONE] = "none",         [FAULT_GARBAGE] = "garbage", [FAULT_BADCRC] = "badcrc",
	[FAULT_TRUNCATE] = "truncate", [FAULT_NOEND] = "noend", [FAULT_DROPLINE] = "dropline",
};

static void send_hello(struct agent *a)
{
	struct utsname u;

	if (uname(&u)) {
		strcpy(u.release, "unknown");
		strcpy(u.machine, "unknown");
	}
	port_sendf(&a->port, REC_HELLO, "version=1 kernel=%s arch=%s tests=%zu uptime_ms=%llu",
		   u.release, u.machine, a->plan.ntests,
		   (unsigned long long)clock_ms(CLOCK_BOOTTIME));
}

static void send_end(struct agent *a)
{
	const struct tally *t = &a->tally;

	if (a->fault == FAULT_NOEND) {
		agent_log("fault injection: no end frame");
		agent_diag(a, "fault injected: no end frame");
		return;
	}
	port_sendf(&a->port, REC_END, "pass=%u fail=%u skip=%u total=%u", t->pass, t->fail,
		   t->skip, t->total);
}

static void plan_warn(void *ctx, unsigned int line, const char *what, const char *text)
{
	if (line)
		agent_warn(ctx, "%s:%u: %s: %s", AGENT_PLAN_PATH, line, what, text);
	else
		agent_warn(ctx, "%s: %s%s%s", AGENT_PLAN_PATH, what, *text ? ": " : "", text);
}

/* /kta/plan; on any failure the run goes on with no tests, which the host
 * reports test by test. */
static void plan_load(struct agent *a)
{
	char *buf;
	size_t len;
	int err = read_file(AGENT_PLAN_PATH, &buf, &len);

	if (err) {
		agent_warn(a, "cannot read the test plan `%s`: %s; running no tests", AGENT_PLAN_PATH, strerror(-err));
		return;
	}
	err = plan_parse(&a->plan, buf, len, plan_warn, a);
	if (err == -ENOMEM)
		agent_warn(a, "out of memory reading the test plan");
	free(buf);
}

int main(void)
{
	/* Static: the port holds a 64 KiB frame buffer. */
	static struct agent agent;
	struct agent *a = &agent;
	uint64_t start_ms = clock_ms(CLOCK_BOOTTIME);
	int err;

	if (getpid() != 1) {
		fprintf(stderr, "kta-agent: this is the guest's init: it mounts, kills every "
			"process and powers off, so it runs only as PID 1 (not %d)\n",
			(int)getpid());
		return 1;
	}
	a->kmsg_fd = -1;
	a->sig_fd = -1;
	port_init(&a->port, FAULT_NONE);
	/* Read a test's output as soon as it is written: a subtest's end
	 * marker on the console comes from here, and a kernel splat of the
	 * next subtest must not get ahead of it while the agent waits for a
	 * CPU. Tests and load run at the ordinary priority. */
	if (setpriority(PRIO_PROCESS, 0, -10))
		agent_log("cannot raise the agent's priority: %s", strerror(errno));
	/* Before any fork, so no SIGCHLD is missed. */
	err = sys_setup_signals(a);
	sys_setup_fs(a);
	if (err)
		agent_warn(a, "cannot set up the SIGCHLD signalfd: %s", strerror(-err));
	agent_diag(a, "agent started at uptime %llu ms", (unsigned long long)start_ms);
	sys_read_cmdline(a);
	a->port.fault = a->fault;
	if (a->fault != FAULT_NONE)
		agent_diag(a, "fault injection requested: kta.fault=%s", fault_names[a->fault]);
	if (!a->probe)
		plan_load(a);
	if (a->fault == FAULT_DROPLINE && a->plan.ntests > 1) {
		/* As if the first test line never arrived: the rest renumbered. */
		agent_log("fault injection: dropping the plan's first test");
		agent_diag(a, "fault injected: the plan's first test line is dropped");
		memmove(&a->plan.tests[0], &a->plan.tests[1], (a->plan.ntests - 1) * sizeof(a->plan.tests[0]));
		a->plan.ntests--;
		for (size_t i = 0; i < a->plan.ntests; i++)
			a->plan.tests[i].num = (unsigned int)i + 1;
	}
	sys_load_modules(a, AGENT_MODULES_PATH);

	if (port_open(&a->port)) {
		agent_log("no results channel: powering off");
		port_poweroff(&a->port);
	}
	send_hello(a);
	if (a->probe) {
		port_sendf(&a->port, REC_END, "pass=0 fail=0 skip=0 total=0");
		port_poweroff(&a->port);
	}
	port_sendf(&a->port, REC_PLAN, "KTAP version 1\n1..%zu", a->plan.ntests);
	port_flush_log(&a->port);
	/* After the hello: the host's boot time should not include it. */
	sys_install_busybox(a);
	sys_loopback_up(a);
	roots_prepare(a);
	agent_log("running %zu tests", a->plan.ntests);

	for (size_t i = 0; i < a->plan.ntests; i++)
		run_test(a, &a->plan.tests[i]);

	agent_log("done: %u passed, %u failed, %u skipped", a->tally.pass, a->tally.fail,
		  a->tally.skip);
	send_end(a);
	port_poweroff(&a->port);
}
