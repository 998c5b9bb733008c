/* The results channel, guest side: find the virtio-serial port named
 * kta.results through sysfs (there is no udev to make a by-name link),
 * write frames encoded by proto_encode() in full, and inject the faults the
 * host's own tests ask for (kta.fault=, docs/protocol.md). Diagnostics
 * produced before the port opens are kept in memory and sent right after
 * the hello and plan frames.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#define PORTS_DIR "/sys/class/virtio-ports"
#define MAX_LOG 1024 /* diag lines kept before the port opens */

void port_init(struct port *p, enum fault fault)
{
	p->fd = -1;
	p->broken = false;
	p->seq = 0;
	p->fault = fault;
	p->results = 0;
	p->truncate_next = false;
	p->log = NULL;
	p->nlog = 0;
	p->dev[0] = '\0';
}

static int read_port_name(const char *dir, char *name, size_t n)
{
	char path[320];
	ssize_t len;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), PORTS_DIR "/%s/name", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, name, n - 1);
	close(fd);
	if (len < 0)
		return -errno;
	while (len > 0 && (name[len - 1] == '\n' || name[len - 1] == ' '))
		len--;
	name[len] = '\0';
	return 0;
}

/* Fills p->dev; `seen` lists the ports found, for the failure message. */
static int find_port(struct port *p, char *seen, size_t seen_sz)
{
	DIR *d = opendir(PORTS_DIR);
	struct dirent *e;
	size_t used = 0;
	int err = -ENODEV;

	seen[0] = '\0';
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char name[128];
		int n;

		if (e->d_name[0] == '.' || read_port_name(e->d_name, name, sizeof(name)))
			continue;
		n = snprintf(seen + used, seen_sz - used, "%s%s=%s", used ? ", " : "",
			     e->d_name, name[0] ? name : "(unnamed)");
		if (n > 0 && (size_t)n < seen_sz - used)
			used += (size_t)n;
		if (strcmp(name, PROTO_PORT_NAME))
			continue;
		if ((size_t)snprintf(p->dev, sizeof(p->dev), "/dev/%s", e->d_name) <
		    sizeof(p->dev)) {
			err = 0;
			break;
		}
	}
	closedir(d);
	return err;
}

int port_open(struct port *p)
{
	uint64_t deadline = clock_ms(CLOCK_MONOTONIC) + AGENT_PORT_WAIT_MS;
	struct timespec step = { 0, 10 * 1000 * 1000 };
	char seen[512];
	int err;

	for (;;) {
		err = find_port(p, seen, sizeof(seen));
		if (!err) {
			p->fd = open(p->dev, O_WRONLY | O_CLOEXEC | O_NOCTTY);
			if (p->fd >= 0)
				return 0;
			err = -errno;
			/* devtmpfs may create the node a moment after sysfs. */
			if (err != -ENOENT) {
				agent_log("cannot open the results port `%s`: %s", p->dev,
					  strerror(-err));
				return err;
			}
		}
		if (clock_ms(CLOCK_MONOTONIC) >= deadline)
			break;
		nanosleep(&step, NULL);
	}
	if (err == -ENOENT && p->dev[0])
		agent_log("the results port is %s but that device node never appeared", p->dev);
	else if (err == -ENOENT)
		agent_log("no virtio-serial ports (" PORTS_DIR " is missing): the kernel needs "
			  "CONFIG_VIRTIO_CONSOLE built in or its module in /kta/modules");
	else
		agent_log("no virtio-serial port named `%s` after %u ms (ports: %s)",
			  PROTO_PORT_NAME, AGENT_PORT_WAIT_MS, seen[0] ? seen : "none");
	return err;
}

static int write_full(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int port_write(struct port *p, const char *buf, size_t len)
{
	int err;

	if (p->fd < 0)
		return p->broken ? -EIO : -ENOTCONN;
	err = write_full(p->fd, buf, len);
	if (err) {
		agent_log("cannot write to the results port `%s`: %s; later results are lost",
			  p->dev, strerror(-err));
		close(p->fd);
		p->fd = -1;
		p->broken = true;
	}
	return err;
}

/* Faults that follow the first result frame. */
static void inject_after_first_result(struct port *p)
{
	static const char garbage[] = "this is not a frame \x01\xff\n";

	if (p->fault == FAULT_GARBAGE) {
		agent_log("fault injection: garbage after the first result");
		port_sendf(p, REC_DIAG, "fault injected: garbage after the first result");
		port_write(p, garbage, sizeof(garbage) - 1);
	} else if (p->fault == FAULT_TRUNCATE) {
		agent_log("fault injection: truncating the next frame");
		port_sendf(p, REC_DIAG, "fault injected: the next frame is cut in half, "
			   "then the guest powers off");
		p->truncate_next = true;
	}
}

int port_send(struct port *p, enum rec_type type, const void *payload, size_t len)
{
	bool corrupt = false;
	long n;
	int err;

	if (p->fd < 0)
		return p->broken ? -EIO : -ENOTCONN;
	if (type == REC_RESULT && ++p->results == 2 && p->fault == FAULT_BADCRC) {
		agent_log("fault injection: flipping a byte of the second result frame");
		port_sendf(p, REC_DIAG, "fault injected: the next frame (result 2) has a "
			   "flipped payload byte");
		corrupt = true;
	}
	n = proto_encode(p->frame, sizeof(p->frame), p->seq, type, payload, len);
	if (n < 0)
		return (int)n;
	if ((size_t)n > sizeof(p->frame))
		return -EMSGSIZE;
	p->seq++;
	if (corrupt && len)
		p->frame[(size_t)n - len - 1] ^= 0x01;
	if (p->truncate_next) {
		port_write(p, p->frame, (size_t)n / 2);
		agent_log("fault injection: wrote %ld of %ld bytes of frame %u; powering off",
			  n / 2, n, p->seq - 1);
		port_poweroff(p);
	}
	err = port_write(p, p->frame, (size_t)n);
	if (!err && type == REC_RESULT && p->results == 1)
		inject_after_first_result(p);
	return err;
}

int port_sendf(struct port *p, enum rec_type type, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return port_send(p, type, buf, (size_t)n);
}

void port_flush_log(struct port *p)
{
	for (size_t i = 0; i < p->nlog; i++) {
		port_send(p, REC_DIAG, p->log[i], strlen(p->log[i]));
		free(p->log[i]);
	}
	free(p->log);
	p->log = NULL;
	p->nlog = 0;
}

static void diag_text(struct port *p, const char *msg)
{
	char **log;

	if (p->fd >= 0) {
		port_send(p, REC_DIAG, msg, strlen(msg));
		return;
	}
	if (p->broken || p->nlog >= MAX_LOG)
		return;
	log = realloc(p->log, (p->nlog + 1) * sizeof(*log));
	if (!log)
		return;
	p->log = log;
	p->log[p->nlog] = strdup(msg);
	if (p->log[p->nlog])
		p->nlog++;
}

void agent_diag(struct agent *a, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_text(&a->port, msg);
}

void agent_warn(struct agent *a, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	agent_log("%s", msg);
	diag_text(&a->port, msg);
}

void port_poweroff(struct port *p)
{
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	sync();
	/* kta always runs QEMU with -no-reboot, so a reboot ends it at once on
	 * every machine; power-off needs ACPI or PSCI, and without them the
	 * kernel halts in reboot(RB_POWER_OFF) instead of returning. */
	reboot(RB_AUTOBOOT);
	agent_log("reboot failed: %s; powering off", strerror(errno));
	reboot(RB_POWER_OFF);
	agent_log("power off failed: %s; halting here", strerror(errno));
	/* PID 1 must never exit: the kernel would panic. */
	for (;;)
		pause();
}
