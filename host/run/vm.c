/* The session loop. Everything the guest sends arrives on three file
 * descriptors (console FIFO, results FIFO, QEMU's stderr) and every event
 * kta must react to (SIGINT, SIGTERM, QEMU's exit, a deadline) is folded
 * into one poll() loop, so there is exactly one place that decides when to
 * stop and one path that kills QEMU.
 */
#include "run/vm.h"
#include "run/caplog.h"
#include "run/classify.h"
#include "base/kv.h"
#include "base/ktap.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "run/proto.h"
#include "run/qemu.h"
#include "base/util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_OUTPUT (8u << 20)
#define EXIT_GRACE_MS 15000

/* console.log and results.raw keep their first and last 32 MiB; the
 * splat list its first 1000 reports. */
#define LOG_CAP (64u << 20)
#define MAX_SPLATS 1000

struct session {
	const struct vm_config *cfg;
	struct run_result *res;
	uint64_t t0;
	struct proto_decoder dec;
	bool hello, end;
	unsigned int cur_test;     /* 1-based, from begin records; 0 none */
	unsigned int cur_console;  /* from console markers */
	unsigned int cur_console_sub; /* subtest markers seen for it */
	uint64_t test_deadline;    /* 0: none */
	uint64_t end_deadline;
	bool hung;
	char hung_msg[256];
	bool panic;
	unsigned int panic_test;
	char panic_line[256];
	bool boot_splat;
	char first_console_line[256];
	struct buf con_line;
	size_t console_bytes;
	struct caplog console_log, results_log;
	int diag_log;
	struct buf qemu_err;
};

static uint64_t now_ms(struct session *s)
{
	return monotonic_ms() - s->t0;
}

static struct test_result *test_by_num(struct session *s, unsigned long n)
{
	if (n < 1 || n > s->res->ntests)
		return NULL;
	return &s->res->tests[n - 1];
}

static void write_fd(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (fd >= 0 && len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void on_hello(struct session *s, const struct rec *r)
{
	char v[64];

	s->hello = true;
	s->res->t_hello_ms = now_ms(s);
	kv_get_word(r->payload, r->len, "kernel", s->res->guest_kernel,
		    sizeof(s->res->guest_kernel));
	kv_get_word(r->payload, r->len, "arch", s->res->guest_arch, sizeof(s->res->guest_arch));
	if (kv_get_word(r->payload, r->len, "uptime_ms", v, sizeof(v)) > 0)
		s->res->guest_uptime_ms = strtoull(v, NULL, 10);
	pr_debug("guest up: kernel %s, arch %s, guest uptime %llu ms, host %llu ms",
		 s->res->guest_kernel, s->res->guest_arch,
		 (unsigned long long)s->res->guest_uptime_ms,
		 (unsigned long long)s->res->t_hello_ms);
}

/* The agent's records must fit the plan the host wrote: the same number
 * of tests, each result under its own number and name. Anything else
 * (a dropped or repeated plan line shifts every later result) would put
 * results on the wrong tests, so it breaks the channel. */
static void channel_mismatch(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void channel_mismatch(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->dec.error)
		return;
	s->dec.error = PROTO_ERR_CONTENT;
	va_start(ap, fmt);
	vsnprintf(s->dec.errmsg, sizeof(s->dec.errmsg), fmt, ap);
	va_end(ap);
	pr_warn("results channel: %s", s->dec.errmsg);
}

/* got: a name from a record; planned: the plan's. In a KTAP result line a
 * '#' starts the directive, so there the name is what precedes it
 * ("name#2" of --runs reads as "name"); the test's number tells the runs
 * apart. */
static bool same_name(const char *got, const char *planned, bool ktap)
{
	char a[256], b[256];
	size_t n = ktap ? strcspn(planned, "#") : strlen(planned);

	while (ktap && n && planned[n - 1] == ' ')
		n--;
	snprintf(b, sizeof(b), "%.*s", (int)n, planned);
	ktap_sanitize_name(b, b, sizeof(b));
	ktap_sanitize_name(got, a, sizeof(a));
	return !strcmp(a, b);
}

static void on_plan(struct session *s, const struct rec *r)
{
	const char *p = memmem(r->payload, r->len, "\n1..", 4);
	unsigned long n = p ? strtoul(p + 4, NULL, 10) : 0;

	if (!p || n != s->res->ntests)
		channel_mismatch(s, "the agent planned %lu tests, kta sent %u", n, s->res->ntests);
}

static void on_begin(struct session *s, const struct rec *r)
{
	unsigned long n = strtoul(r->payload, NULL, 10);
	struct test_result *t = test_by_num(s, n);

	const char *sp = memchr(r->payload, ' ', r->len);

	if (!t) {
		channel_mismatch(s, "the agent began test %lu of %u", n, s->res->ntests);
		return;
	}
	if (!sp || !same_name(sp + 1, t->name, false)) {
		channel_mismatch(s, "the agent began test %lu as `%.60s`, kta planned `%s`", n,
				 sp ? sp + 1 : "", t->name);
		return;
	}
	t->begun = true;
	s->cur_test = (unsigned int)n;
	s->test_deadline = now_ms(s) + 1000ull * (t->timeout_s + s->cfg->test_grace_s);
}

static void on_out(struct session *s, const struct rec *r)
{
	const char *nl = memchr(r->payload, '\n', r->len);
	struct test_result *t = test_by_num(s, strtoul(r->payload, NULL, 10));
	size_t off;

	if (!t || !nl)
		return;
	off = (size_t)(nl + 1 - r->payload);
	if (t->output.len + (r->len - off) > MAX_OUTPUT)
		return;
	buf_append(&t->output, nl + 1, r->len - off);
}

static void on_san(struct session *s, const struct rec *r)
{
	const char *nl = memchr(r->payload, '\n', r->len), *sp = memchr(r->payload, ' ', r->len);
	struct test_result *t = test_by_num(s, strtoul(r->payload, NULL, 10));
	char file[128];

	if (!t || !nl || !sp || sp > nl || t->san.len > MAX_OUTPUT)
		return;
	snprintf(file, sizeof(file), "%.*s", (int)(nl - sp - 1), sp + 1);
	/* test_progs writes its -J summary among the test's logs. */
	if (!strcmp(file, "test_progs.json")) {
		if (t->tp_json.len < (1u << 20))
			buf_append(&t->tp_json, nl + 1, r->len - (size_t)(nl + 1 - r->payload));
		return;
	}
	san_append(t, file, nl + 1, r->len - (size_t)(nl + 1 - r->payload));
}

/* The agent's result, as it said it: the facts classify_test() judges. */
static void record_result(struct test_result *t, const struct rec *r, const struct ktap_line *k)
{
	char status[32] = "", v[64];

	kv_get(r->payload, r->len, "status", status, sizeof(status));
	t->exit_code = kv_get(r->payload, r->len, "exit", v, sizeof(v)) > 0 ? atoi(v) : -1;
	t->signal = kv_get(r->payload, r->len, "signal", v, sizeof(v)) > 0 ? atoi(v) : 0;
	if (kv_get(r->payload, r->len, "duration_ms", v, sizeof(v)) > 0)
		t->duration_ms = (unsigned int)strtoul(v, NULL, 10);

	if (!strcmp(status, "skip") || !strcmp(k->directive, "SKIP")) {
		t->raw = OUT_SKIP;
		if (kv_get(r->payload, r->len, "reason", t->raw_reason, sizeof(t->raw_reason)) < 0)
			snprintf(t->raw_reason, sizeof(t->raw_reason), "%s", k->text);
	} else if (!strcmp(status, "timeout")) {
		t->raw = OUT_TIMEOUT;
		if (kv_get(r->payload, r->len, "subtimeout", v, sizeof(v)) > 0)
			snprintf(t->raw_reason, sizeof(t->raw_reason), "killed: a subtest had no result within its %s s "
				 "subtest timeout", v);
		else
			snprintf(t->raw_reason, sizeof(t->raw_reason), "killed after its %u s timeout", t->timeout_s);
	} else if (!strcmp(status, "signal")) {
		t->raw = OUT_CRASH;
		snprintf(t->raw_reason, sizeof(t->raw_reason), "killed by signal %d (%s)", t->signal,
			 strsignal(t->signal));
	} else if (k->ok && (!status[0] || !strcmp(status, "pass"))) {
		t->raw = OUT_PASS;
	} else {
		t->raw = OUT_FAIL;
		snprintf(t->raw_reason, sizeof(t->raw_reason), "exited with status %d", t->exit_code);
	}
}

static void on_result(struct session *s, const struct rec *r)
{
	struct ktap_line k;
	struct test_result *t;

	if (ktap_parse_result(r->payload, r->len, &k)) {
		pr_warn("result record is not a KTAP result line: %.80s", r->payload);
		return;
	}
	t = test_by_num(s, k.num);
	if (!t) {
		channel_mismatch(s, "a result for test %u of %u", k.num, s->res->ntests);
		return;
	}
	if (!same_name(k.name, t->name, true)) {
		channel_mismatch(s, "the result of test %u is named `%s`, kta planned `%s`", k.num, k.name, t->name);
		return;
	}
	record_result(t, r, &k);
	classify_test(t); /* for the progress line; judged again at the end */
	if (!s->res->t_first_result_ms)
		s->res->t_first_result_ms = now_ms(s);
	s->cur_test = 0;
	s->test_deadline = 0;
	if (!s->cfg->quiet)
		pr_info("[%u/%u] %s: %s%s%s (%.1f s)", t->num, s->res->ntests, t->name,
			outcome_name(t->outcome), t->reason[0] ? ": " : "", t->reason,
			t->duration_ms / 1000.0);
}

static struct sub_result *sub_add(struct test_result *t)
{
	if (ARRAY_RESERVE(t->subs, t->subcap, t->nsubs, 16))
		return NULL;
	memset(&t->subs[t->nsubs], 0, sizeof(t->subs[0]));
	return &t->subs[t->nsubs++];
}

/* A subtest of a test_progs run ended ("N\n" + a KTAP line + key=value). */
static void on_sub(struct session *s, const struct rec *r)
{
	const char *nl = memchr(r->payload, '\n', r->len), *body;
	struct test_result *t = test_by_num(s, strtoul(r->payload, NULL, 10));
	struct ktap_line k;
	struct sub_result *u;
	char status[32] = "", v[64];
	size_t blen;

	if (!t || !nl)
		return;
	body = nl + 1;
	blen = r->len - (size_t)(body - r->payload);
	if (ktap_parse_result(body, blen, &k) || !(u = sub_add(t)))
		return;
	u->num = k.num;
	snprintf(u->name, sizeof(u->name), "%s", k.name);
	kv_get(body, blen, "status", status, sizeof(status));
	if (kv_get(body, blen, "duration_ms", v, sizeof(v)) > 0)
		u->duration_ms = (unsigned int)strtoul(v, NULL, 10);
	kv_get(body, blen, "tp", u->tp, sizeof(u->tp));
	kv_get(body, blen, "san", u->san, sizeof(u->san));
	if (kv_get(body, blen, "pid", v, sizeof(v)) > 0)
		u->main_pid = atoi(v);
	kv_get(body, blen, "reason", u->raw_reason, sizeof(u->raw_reason));
	u->raw = !strcmp(status, "pass") ? OUT_PASS : !strcmp(status, "skip") ? OUT_SKIP
		 : !strcmp(status, "timeout") ? OUT_TIMEOUT : OUT_FAIL;
	if (u->raw == OUT_FAIL && !u->raw_reason[0])
		snprintf(u->raw_reason, sizeof(u->raw_reason), "test_progs reported FAIL");
	u->outcome = u->raw;
	snprintf(u->reason, sizeof(u->reason), "%s", u->raw_reason);
	u->out_start = t->nsubs > 1 ? t->subs[t->nsubs - 2].out_end : 0;
	u->out_end = t->output.len;
	if (!s->res->t_first_result_ms)
		s->res->t_first_result_ms = now_ms(s);
	if (!s->cfg->quiet)
		pr_info("[%u/%u] %s: %s%s%s (%.1f s)", t->num, s->res->ntests, u->name, outcome_name(u->outcome),
			u->reason[0] && u->outcome != OUT_PASS ? ": " : "", u->outcome != OUT_PASS ? u->reason : "",
			u->duration_ms / 1000.0);
}

static int on_record(const struct rec *r, void *ctx)
{
	struct session *s = ctx;

	switch (r->type) {
	case REC_HELLO:
		on_hello(s, r);
		break;
	case REC_PLAN:
		on_plan(s, r);
		break;
	case REC_BEGIN:
		on_begin(s, r);
		break;
	case REC_OUT:
		on_out(s, r);
		break;
	case REC_RESULT:
		on_result(s, r);
		break;
	case REC_DIAG:
		pr_debug("agent: %s", r->payload);
		write_fd(s->diag_log, r->payload, r->len);
		write_fd(s->diag_log, "\n", 1);
		break;
	case REC_SAN:
		on_san(s, r);
		break;
	case REC_SUB:
		on_sub(s, r);
		break;
	case REC_END:
		s->end = true;
		s->res->t_end_ms = now_ms(s);
		s->end_deadline = now_ms(s) + EXIT_GRACE_MS;
		break;
	case REC__COUNT:
	default:
		break;
	}
	return 0;
}

static void add_splat(struct session *s, enum splat_kind kind, const char *line, size_t len)
{
	struct run_result *res = s->res;
	struct splat_event *e;
	void *p;

	/* The serial console ends lines with CR LF. */
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	/* A WARN storm: the first MAX_SPLATS are kept, the rest counted (a
	 * panic is always noted, it decides the run). */
	if (res->nsplats >= MAX_SPLATS) {
		res->nsplats_dropped++;
		if (kind == SPLAT_PANIC && !s->panic) {
			s->panic = true;
			s->panic_test = s->cur_console;
			snprintf(s->panic_line, sizeof(s->panic_line), "%.*s", (int)len, line);
		}
		return;
	}
	p = realloc(res->splats, (res->nsplats + 1) * sizeof(*res->splats));
	if (!p)
		return;
	res->splats = p;
	e = &res->splats[res->nsplats++];
	e->kind = kind;
	e->test = s->cur_console;
	/* Markers come at a subtest's end: a splat before the Mth marker
	 * belongs to subtest M. */
	e->sub = s->cur_console ? s->cur_console_sub + 1 : 0;
	snprintf(e->line, sizeof(e->line), "%.*s", (int)len, line);
	if (kind == SPLAT_PANIC && !s->panic) {
		s->panic = true;
		s->panic_test = s->cur_console;
		snprintf(s->panic_line, sizeof(s->panic_line), "%s", e->line);
	}
	if (!s->cur_console && !s->hello)
		s->boot_splat = true;
	pr_debug("console: %s%s%u: %s", splat_name(kind), e->test ? " in test " : "",
		 e->test, e->line);
}

static void console_line(struct session *s, const char *line, size_t len)
{
	unsigned int n, sub;
	enum marker_kind m = marker_parse_sub(line, len, &n, &sub);
	enum splat_kind k;
	size_t plen = len;
	const char *p;

	if (!s->first_console_line[0] && len)
		snprintf(s->first_console_line, sizeof(s->first_console_line), "%.*s",
			 (int)len, line);
	if (m == MARKER_BEGIN) {
		s->cur_console = n;
		s->cur_console_sub = 0;
		return;
	}
	if (m == MARKER_SUB) {
		if (s->cur_console == n)
			s->cur_console_sub = sub;
		return;
	}
	if (m == MARKER_END) {
		if (s->cur_console == n)
			s->cur_console = 0;
		return;
	}
	k = splat_classify(line, len);
	if (k == SPLAT_NONE)
		return;
	p = console_strip_prefix(line, &plen);
	add_splat(s, k, p, plen);
}

static void on_console(struct session *s, const char *data, size_t len)
{
	caplog_write(&s->console_log, data, len);
	s->console_bytes += len;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			console_line(s, s->con_line.data ? s->con_line.data : "", s->con_line.len);
			buf_consume(&s->con_line, s->con_line.len);
		} else if (s->con_line.len < 4096) {
			buf_append(&s->con_line, &data[i], 1);
		}
	}
}

/* Read what is there; returns 0 at EOF (fd closed), 1 otherwise. */
static int drain(struct session *s, int *fd, int which)
{
	char b[65536];

	for (;;) {
		ssize_t n = read(*fd, b, sizeof(b));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 1 : 0;
		}
		if (n == 0)
			return 0;
		if (which == 0) {
			on_console(s, b, (size_t)n);
		} else if (which == 1) {
			caplog_write(&s->results_log, b, (size_t)n);
			if (!s->dec.error && proto_feed(&s->dec, b, (size_t)n, on_record, s) < 0 &&
			    s->dec.error)
				pr_debug("results channel: %s", s->dec.errmsg);
		} else {
			if (s->qemu_err.len < 65536)
				buf_append(&s->qemu_err, b, (size_t)n);
		}
	}
}

static int make_fifo_pair(const char *base, int *rfd)
{
	cleanup_free char *in = xasprintf("%s.in", base);
	cleanup_free char *out = xasprintf("%s.out", base);

	if (!in || !out)
		return -ENOMEM;
	if (mkfifo(in, 0600) < 0 || mkfifo(out, 0600) < 0)
		return -errno;
	/* Non-blocking read end: opening it does not wait for QEMU. */
	*rfd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	return *rfd < 0 ? -errno : 0;
}

static int open_log(const char *dir, const char *name)
{
	cleanup_free char *p = NULL;

	if (!dir)
		return -1;
	p = path_join(dir, name);
	return p ? open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
}

/* What the session saw of the run: the facts classify_run() judges. */
static void record_facts(const struct session *s, const struct qemu_proc *q, struct run_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->interrupted = s->res->status == RUN_INTERRUPTED;
	f->hello = s->hello;
	f->end = s->end;
	f->channel_error = s->dec.error;
	snprintf(f->channel_msg, sizeof(f->channel_msg), "%s", s->dec.errmsg);
	f->qemu_status = q->status;
	f->console_bytes = s->console_bytes;
	snprintf(f->qemu_err, sizeof(f->qemu_err), "%.*s", (int)(s->qemu_err.len < sizeof(f->qemu_err) ? s->qemu_err.len
											     : sizeof(f->qemu_err) - 1),
		 s->qemu_err.data ? s->qemu_err.data : "");
	f->panic = s->panic;
	f->panic_test = s->panic_test;
	snprintf(f->panic_line, sizeof(f->panic_line), "%s", s->panic_line);
	f->hung = s->hung;
	snprintf(f->hung_msg, sizeof(f->hung_msg), "%s", s->hung_msg);
	f->cur_test = s->cur_test;
	f->test_grace_s = s->cfg->test_grace_s;
}

/* Kernel splats inside a test fail it, even if the test itself passed. */
static int block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	return sigprocmask(SIG_BLOCK, &set, old) < 0 ? -errno : 0;
}

static void write_artifact(const char *dir, const char *name, const char *text)
{
	cleanup_free char *p = NULL;

	if (!dir)
		return;
	p = path_join(dir, name);
	if (p)
		write_file_atomic(p, text, strlen(text), 0644);
}

static bool handle_signals(struct session *s, int sfd, struct qemu_proc *q)
{
	struct signalfd_siginfo si;
	bool exited = false;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		s->res->status = RUN_INTERRUPTED;
		s->res->interrupt_signal = (int)si.ssi_signo;
		interrupt_note((int)si.ssi_signo);
		pr_warn("%s: stopping the guest", strsignal((int)si.ssi_signo));
		qemu_kill(q);
		exited = true;
	}
	return exited || qemu_try_reap(q);
}

static int session_loop(struct session *s, struct qemu_proc *q, int sfd, int con, int resfd)
{
	const struct vm_config *cfg = s->cfg;
	uint64_t boot_deadline = 1000ull * cfg->boot_timeout_s;
	uint64_t run_deadline = 1000ull * cfg->run_timeout_s;
	int fds_open[3] = { con, resfd, q->stderr_fd };
	bool exited = false;

	while (!exited) {
		struct pollfd pfd[4];
		int nfd = 0, idx[4];
		uint64_t now = now_ms(s), next = run_deadline;
		int r;

		if (!s->hello && boot_deadline < next)
			next = boot_deadline;
		if (s->test_deadline && s->test_deadline < next)
			next = s->test_deadline;
		if (s->end_deadline && s->end_deadline < next)
			next = s->end_deadline;
		if (now >= next) {
			if (s->end) {
				pr_debug("guest sent its end record but did not power off; killing QEMU");
			} else if (!s->hello) {
				s->hung = true;
				snprintf(s->hung_msg, sizeof(s->hung_msg),
					 "no hello from the guest agent within %u s",
					 cfg->boot_timeout_s);
			} else {
				s->hung = true;
				snprintf(s->hung_msg, sizeof(s->hung_msg),
					 now >= run_deadline ? "the run exceeded its %u s timeout"
							     : "test %u gave no result in time",
					 now >= run_deadline ? cfg->run_timeout_s : s->cur_test);
			}
			qemu_kill(q);
			break;
		}
		for (int i = 0; i < 3; i++) {
			if (fds_open[i] < 0)
				continue;
			pfd[nfd].fd = fds_open[i];
			pfd[nfd].events = POLLIN;
			idx[nfd++] = i;
		}
		pfd[nfd].fd = sfd;
		pfd[nfd].events = POLLIN;
		idx[nfd++] = 3;
		r = poll(pfd, (nfds_t)nfd, (int)(next - now));
		if (r < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; r > 0 && i < nfd; i++) {
			if (!pfd[i].revents)
				continue;
			if (idx[i] == 3) {
				exited = handle_signals(s, sfd, q);
				continue;
			}
			if (!drain(s, &fds_open[idx[i]], idx[i]))
				fds_open[idx[i]] = -1; /* EOF: QEMU closed it */
		}
		if (s->hello && cfg->probe) {
			qemu_kill(q);
			break;
		}
		if (!exited)
			exited = qemu_try_reap(q);
	}
	/* QEMU is gone: whatever it wrote is still in the FIFOs. */
	drain(s, &con, 0);
	drain(s, &resfd, 1);
	if (q->stderr_fd >= 0)
		drain(s, &q->stderr_fd, 2);
	if (s->con_line.len)
		console_line(s, s->con_line.data, s->con_line.len);
	if (!s->dec.error)
		proto_finish(&s->dec);
	return 0;
}

int vm_run(const struct vm_config *cfg, struct run_result *res)
{
	const char *tmp = getenv("TMPDIR");
	char rundir[PATH_MAX];
	cleanup_qemu struct qemu_proc q = { .pid = 0, .stderr_fd = -1 };
	cleanup_close int con = -1, resfd = -1, sfd = -1;
	cleanup_free char *con_base = NULL, *res_base = NULL, *cmdline = NULL;
	char **argv = NULL;
	struct session s = { 0 };
	sigset_t old, mask;
	struct qemu_opts qo;
	int err;

	s.cfg = cfg;
	s.res = res;
	caplog_init(&s.console_log, -1, LOG_CAP);
	caplog_init(&s.results_log, -1, LOG_CAP);
	s.diag_log = -1;
	proto_decoder_init(&s.dec);
	for (unsigned int i = 0; i < res->ntests; i++)
		res->tests[i].exit_code = -1;

	/* The FIFOs live in a private directory under $TMPDIR (default /tmp). */
	snprintf(rundir, sizeof(rundir), "%s/kta-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	err = block_signals(&old);
	if (err)
		return err;
	if (!mkdtemp(rundir)) {
		err = -errno;
		pr_err("cannot create a run directory `%s`: %s (set TMPDIR)", rundir, strerror(-err));
		goto out_mask;
	}
	con_base = path_join(rundir, "console");
	res_base = path_join(rundir, "results");
	err = !con_base || !res_base ? -ENOMEM : 0;
	err = err ?: make_fifo_pair(con_base, &con);
	err = err ?: make_fifo_pair(res_base, &resfd);
	if (err) {
		pr_err("cannot create FIFOs in `%s`: %s", rundir, strerror(-err));
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		err = -errno;
		goto out;
	}

	qo = (struct qemu_opts){
		.arch = cfg->arch, .kvm = cfg->kvm, .kernel = cfg->kernel,
		.initrd = cfg->initrd, .append_extra = cfg->append_extra, .no_certs = cfg->no_certs,
		.tcg_one_thread = cfg->tcg_one_thread, .memory_mb = cfg->memory_mb, .smp = cfg->smp,
		.console_path = con_base, .results_path = res_base, .disks = cfg->disks, .root_overlay = cfg->root_overlay, .cpu = cfg->cpu,
		.sandbox = qemu_has_sandbox(cfg->arch->qemu_binary),
	};
	err = qemu_build_argv(&qo, &argv);
	if (err)
		goto out;
	cmdline = strv_shell_join(argv);
	if (cmdline) {
		write_artifact(cfg->artifacts, "qemu-cmdline.txt", cmdline);
		pr_debug("qemu: %s", cmdline);
	}
	caplog_init(&s.console_log, open_log(cfg->artifacts, "console.log"), LOG_CAP);
	caplog_init(&s.results_log, open_log(cfg->artifacts, "results.raw"), LOG_CAP);
	s.diag_log = open_log(cfg->artifacts, "agent-diag.log");

	s.t0 = monotonic_ms();
	err = qemu_spawn(argv, &q);
	if (err) {
		res->status = RUN_QEMU_FAILED;
		snprintf(res->status_msg, sizeof(res->status_msg), "cannot start `%s`: %s",
			 argv[0], strerror(-err));
		err = 0;
		goto out;
	}
	err = session_loop(&s, &q, sfd, con, resfd);
	qemu_kill(&q);
	res->t_exit_ms = now_ms(&s);
	if (err)
		goto out;
	{
		struct run_facts f;

		record_facts(&s, &q, &f);
		classify_run(&f, res);
	}
	if (s.qemu_err.len)
		write_artifact(cfg->artifacts, "qemu-stderr.log", s.qemu_err.data);
out:
	qemu_kill(&q);
	caplog_close(&s.console_log);
	caplog_close(&s.results_log);
	if (s.diag_log >= 0)
		close(s.diag_log);
	strv_free(argv);
	buf_free(&s.con_line);
	buf_free(&s.qemu_err);
	proto_decoder_free(&s.dec);
	rm_rf(rundir);
out_mask:
	/* Drop the SIGCHLDs our children left pending before unblocking. */
	{
		struct timespec zero = { 0, 0 };
		sigset_t chld;

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		while (sigtimedwait(&chld, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}
