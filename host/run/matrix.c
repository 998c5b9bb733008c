/* The architecture matrix (matrix.h). Each architecture runs in a `kta
 * run` child whose stdout and stderr go to <dir>/<arch>/output.log and whose
 * results come back in <dir>/<arch>/results.json: a file, not a pipe, so a
 * child never blocks on a parent busy waiting for another. The parent only
 * schedules, has the interrupt module forward SIGINT/SIGTERM, and prints
 * the table.
 */
#include "run/matrix.h"

#include "base/interrupt.h"
#include "base/log.h"
#include "base/spawn.h"
#include "run/results.h"
#include "base/util.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SUITES 16

int matrix_parse_arches(const char *list, struct matrix_opts *m)
{
	m->narches = 0;
	if (!strcmp(list, "all")) {
		for (size_t i = 0; i < arch_count() && i < ARRAY_SIZE(m->arches); i++)
			m->arches[m->narches++] = arch_at(i);
		return 0;
	}
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		char name[32];
		const struct arch_profile *a;

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		a = arch_from_arg(name);
		if (!a)
			return -EINVAL;
		for (unsigned int i = 0; i < m->narches; i++)
			if (m->arches[i] == a)
				a = NULL;
		if (a && m->narches < ARRAY_SIZE(m->arches))
			m->arches[m->narches++] = a;
		p += n;
		p += *p == ',';
	}
	if (!m->narches) {
		pr_err("--arch: no architecture in `%s`", list);
		return -EINVAL;
	}
	return 0;
}

int matrix_own_arg(char *const *argv, int i, int argc)
{
	static const char *const own[] = { "--arch", "--jobs", "--artifacts", "--json", "--junit" };

	for (size_t k = 0; k < ARRAY_SIZE(own); k++) {
		size_t n = strlen(own[k]);

		if (!strncmp(argv[i], own[k], n) && argv[i][n] == '=')
			return 1;
		if (!strcmp(argv[i], own[k]))
			return i + 1 < argc ? 2 : 1;
	}
	return 0;
}

static unsigned long long mem_available_mb(void)
{
	cleanup_buf struct buf b = { 0 };
	const char *p;

	if (read_file("/proc/meminfo", &b, 1 << 16) || !b.data || !(p = strstr(b.data, "MemAvailable:")))
		return 0;
	return strtoull(p + 13, NULL, 10) / 1024;
}

/* TCG runs one host thread per vCPU: a guest with smp vCPUs wants smp
 * cores; and its memory plus QEMU's own (~300 MB under TCG). */
static unsigned int auto_jobs(const struct matrix_opts *m)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int smp = m->smp ? m->smp : 1, mem = 0, by_cpu, by_mem;
	unsigned long long avail = mem_available_mb();

	for (unsigned int i = 0; i < m->narches; i++) {
		unsigned int a = m->memory_mb ? m->memory_mb : m->arches[i]->memory_mb;

		mem = a > mem ? a : mem;
	}
	by_cpu = cpus > 0 ? (unsigned int)cpus / smp : 1;
	by_mem = avail ? (unsigned int)(avail / (mem + 300)) : 1;
	by_cpu = by_cpu ? by_cpu : 1;
	by_mem = by_mem ? by_mem : 1;
	return by_cpu < by_mem ? by_cpu : by_mem;
}

struct cell {
	char name[32];
	unsigned int pass, xfail, fail, skip;
	unsigned long long ms;
};

struct row {
	const struct arch_profile *arch;
	pid_t pid;
	int exit_code;
	bool done, have_run;
	char kernel[96];
	unsigned long long first_ms, total_ms;
	uint64_t started_ms, wall_ms;
	struct cell cells[MAX_SUITES];
	unsigned int ncells;
	char dir[PATH_MAX];
};

static struct cell *cell_for(struct row *r, const char *suite)
{
	for (unsigned int i = 0; i < r->ncells; i++)
		if (!strcmp(r->cells[i].name, suite))
			return &r->cells[i];
	if (r->ncells == MAX_SUITES)
		return NULL;
	snprintf(r->cells[r->ncells].name, sizeof(r->cells[0].name), "%s", suite);
	return &r->cells[r->ncells++];
}

/* The child's results.json: per suite, counts and time; the kernel and
 * the first result. A child that left none is a row of dashes. */
static void read_results(struct row *r)
{
	cleanup_free char *path = path_join(r->dir, "results.json");
	json_error_t jerr;
	json_t *root = path ? json_load_file(path, 0, &jerr) : NULL, *tests, *t;
	const char *kernel = NULL;
	json_int_t first = 0, exit_ms = 0;
	size_t i;

	if (!root)
		return;
	if (!json_unpack(root, "{s:{s:s}, s:{s:I, s:I}}", "kernel", "version", &kernel, "times_ms", "first_result",
			 &first, "qemu_exit", &exit_ms)) {
		snprintf(r->kernel, sizeof(r->kernel), "%s", kernel);
		r->first_ms = (unsigned long long)first;
		r->total_ms = (unsigned long long)exit_ms;
		r->have_run = true;
	}
	tests = json_object_get(root, "tests");
	json_array_foreach(tests, i, t) {
		const char *suite = json_string_value(json_object_get(t, "suite"));
		const char *outcome = json_string_value(json_object_get(t, "outcome"));
		struct cell *cl = cell_for(r, suite && *suite ? suite : "tests");

		if (!cl || !outcome)
			continue;
		cl->ms += (unsigned long long)json_integer_value(json_object_get(t, "duration_ms"));
		if (!strcmp(outcome, "pass"))
			cl->pass++;
		else if (!strcmp(outcome, "xfail"))
			cl->xfail++;
		else if (!strcmp(outcome, "skip"))
			cl->skip++;
		else
			cl->fail++;
	}
	json_decref(root);
}

static int start(struct row *r, const struct matrix_opts *m)
{
	cleanup_free char *out = path_join(r->dir, "output.log");
	cleanup_free char *json = path_join(r->dir, "results.json");
	cleanup_free char **argv = calloc(m->nargs + 9, sizeof(*argv));
	unsigned int n = 0;
	int fd, err = mkdir_p(r->dir, 0755);

	if (err || !out || !json || !argv)
		return err ?: -ENOMEM;
	argv[n++] = (char *)m->self;
	argv[n++] = "run";
	for (unsigned int i = 0; i < m->nargs; i++)
		argv[n++] = m->args[i];
	argv[n++] = "--arch";
	argv[n++] = (char *)r->arch->name;
	argv[n++] = "--artifacts";
	argv[n++] = r->dir;
	argv[n++] = "--json";
	argv[n++] = json;
	unlink(json);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r->started_ms = monotonic_ms();
	/* Its own group, so that a stop reaches the arch's run and its QEMU
	 * once, through the interrupt module; SIGTERM if the matrix dies,
	 * even SIGKILLed: it stops its guest and reports. */
	err = spawn_start(argv, &(struct spawn_opts){ .output = SPAWN_TO_FD, .out_fd = fd, .new_pgrp = true }, &r->pid,
			  NULL);
	close(fd);
	if (err)
		return err;
	interrupt_watch(r->pid);
	pr_info("%s: started (output: %s/output.log)", r->arch->name, r->dir);
	return 0;
}

static void cell_text(const struct cell *c, char *out, size_t n)
{
	char pass[24];

	if (c->xfail)
		snprintf(pass, sizeof(pass), "%u+%ux", c->pass, c->xfail);
	else
		snprintf(pass, sizeof(pass), "%u", c->pass);
	snprintf(out, n, "%s/%u/%u %.1fs", pass, c->fail, c->skip, (double)c->ms / 1000);
}

static void print_table(FILE *f, struct row *rows, unsigned int n)
{
	char suites[MAX_SUITES][32];
	unsigned int ns = 0;

	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int j = 0; j < rows[i].ncells; j++) {
			bool seen = false;

			for (unsigned int k = 0; k < ns; k++)
				seen |= !strcmp(suites[k], rows[i].cells[j].name);
			if (!seen && ns < MAX_SUITES)
				snprintf(suites[ns++], sizeof(suites[0]), "%s", rows[i].cells[j].name);
		}
	}
	fprintf(f, "# kta matrix: pass/fail/skip per suite (+Nx: known failures, XFAIL) and test time\n");
	fprintf(f, "%-8s %-30s", "ARCH", "KERNEL");
	for (unsigned int k = 0; k < ns; k++)
		fprintf(f, " %-18s", suites[k]);
	fprintf(f, " %8s %8s  %s\n", "1ST-RES", "WALL", "EXIT");
	for (unsigned int i = 0; i < n; i++) {
		struct row *r = &rows[i];

		fprintf(f, "%-8s %-30s", r->arch->name, r->kernel[0] ? r->kernel : "-");
		for (unsigned int k = 0; k < ns; k++) {
			struct cell *c = NULL;
			char text[64] = "-";

			for (unsigned int j = 0; j < r->ncells; j++)
				if (!strcmp(r->cells[j].name, suites[k]))
					c = &r->cells[j];
			if (c)
				cell_text(c, text, sizeof(text));
			fprintf(f, " %-18s", text);
		}
		if (r->have_run)
			fprintf(f, " %7.2fs", (double)r->first_ms / 1000);
		else
			fprintf(f, " %8s", "-");
		fprintf(f, " %7.1fs  %d\n", (double)r->wall_ms / 1000, r->exit_code);
	}
}

int matrix_run(const struct matrix_opts *m)
{
	struct row rows[ARRAY_SIZE(m->arches)] = { 0 };
	unsigned int jobs = m->jobs ? m->jobs : auto_jobs(m), running = 0, next = 0, done = 0;
	char dir[PATH_MAX];
	int err, rc = EXIT_OK;
	cleanup_free char *table = NULL;

	if (m->dir)
		err = (size_t)snprintf(dir, sizeof(dir), "%s", m->dir) >= sizeof(dir) ? -ENAMETOOLONG : 0;
	else
		err = kta_out_dir("matrix", dir, sizeof(dir));
	err = err ?: mkdir_p(dir, 0755);
	if (err)
		return pr_err("cannot create `%s`: %s", dir, strerror(-err)), EXIT_INFRA;
	jobs = jobs > m->narches ? m->narches : jobs;
	pr_info("matrix of %u architectures, %u at a time, in %s", m->narches, jobs, dir);
	for (unsigned int i = 0; i < m->narches; i++) {
		rows[i].arch = m->arches[i];
		snprintf(rows[i].dir, sizeof(rows[i].dir), "%s/%s", dir, m->arches[i]->name);
	}
	interrupt_begin();
	while (done < m->narches) {
		int status;
		pid_t pid;

		while (!interrupt_signal() && running < jobs && next < m->narches) {
			err = start(&rows[next], m);
			if (err) {
				pr_err("%s: cannot start: %s", rows[next].arch->name, strerror(-err));
				rows[next].exit_code = EXIT_INFRA;
				rows[next].done = true;
				done++;
			} else {
				running++;
			}
			next++;
		}
		if (interrupt_signal() && next < m->narches) {
			/* Never started: counted as not run. */
			for (; next < m->narches; next++, done++)
				rows[next].exit_code = interrupt_exit_code(interrupt_signal());
		}
		if (!running)
			continue;
		pid = spawn_wait_any(&status, 100);
		if (pid <= 0)
			continue;
		for (unsigned int i = 0; i < m->narches; i++) {
			struct row *r = &rows[i];

			if (r->pid != pid || r->done)
				continue;
			r->done = true;
			r->wall_ms = monotonic_ms() - r->started_ms;
			r->exit_code = spawn_status(status);
			interrupt_unwatch(r->pid);
			read_results(r);
			running--;
			done++;
			pr_info("%s: exit %d after %.1f s", r->arch->name, r->exit_code, (double)r->wall_ms / 1000);
		}
	}
	interrupt_end();

	print_table(stdout, rows, m->narches);
	fflush(stdout);
	table = path_join(dir, "matrix.txt");
	if (table) {
		FILE *f = fopen(table, "we");

		if (f) {
			print_table(f, rows, m->narches);
			fclose(f);
		}
	}
	/* Test failures only: 1; anything worse: the first arch's code. */
	for (unsigned int i = 0; i < m->narches; i++) {
		int c = rows[i].exit_code;

		if (c && (rc == EXIT_OK || (rc == EXIT_TEST_FAILED && c != EXIT_TEST_FAILED)))
			rc = c;
	}
	if (interrupt_signal())
		rc = interrupt_exit_code(interrupt_signal());
	return rc;
}
