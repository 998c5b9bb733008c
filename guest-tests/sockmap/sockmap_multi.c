/* sockmap_multi: measures the race behind the flaky BPF selftest
 * sockmap_basic/"sockmap {tcp,udp} multi channels", and checks our fix.
 *
 * Each iteration builds two loopback socket pairs, puts p0 and p1 in a
 * sockmap whose verdict program redirects p0's ingress into p1's, sends 2
 * bytes to p1 natively and 8 through p0, and reads p1 (scenario.c):
 *   single    one recv() of all 10 bytes (the test before Linux 7.3.4);
 *   twostage  Debian's 7.3.4 test as it is, assertion by assertion;
 *   loop      the fix: accumulate across recv()s, each after a 5 s poll().
 * The rate (kta-rate:) counts, per variant (sm_failed()): single and loop,
 * iterations whose reads did not return the 10 bytes intact; twostage,
 * iterations in which the upstream subtest would have failed, FIONREAD
 * assertions included.
 *
 * On the first and every 10th iteration (--check-every) a check phase
 * follows (check.c): the kernel's promises (data neither lost nor stalled,
 * FIONREAD right once everything is queued). Its failures are reported on
 * lines of their own and never counted in the rate.
 *
 *   sockmap_multi [--proto tcp|udp] [--variant single|twostage|loop]
 *                 [--iterations N] [--load[=N]] [--check-every N] [-v]
 *
 * Output: a line per failure class (the first few), a summary, then
 *   kta-rate: failures=F iterations=N
 *   kta-metric: iterations_per_sec=X
 * Exit: 4 (skip) when the kernel lacks what the suite needs; 1 on setup
 * errors, on a failed check phase, on data lost in the data phase or a recv
 * error; loop: also 1 on any failure. single and twostage are measurements:
 * 0 whatever their rate.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "kconfig.h"
#include "kta_test.h"
#include "load.h"
#include "check.h"
#include "scenario.h"
#include "sockio.h"
#include "sockmap_redir.skel.h"
#include "sockmap_slots.h"
#include "tally.h"

#define DEFAULT_ITERATIONS 1000
#define MAX_LOST 10        /* each costs 5 s: give up after this many */
/* The check phase costs a fifth of a TCP iteration under TCG and tests
 * a promise: 1,000 checks in a 10,000-iteration run. */
#define DEFAULT_CHECK_EVERY 10

/* The kernel options of kernel-config/sockmap.config, generated at build
 * time (sockmap.mk) so that the two cannot drift apart. */
static const char *const required_config[] = {
#include "sockmap_kconfig.inc"
};

struct opts {
	enum sm_proto proto;
	enum sm_variant variant;
	unsigned long iterations;
	unsigned long check_every; /* the FIONREAD check phase: iterations 0, N, 2N... */
	int load; /* INT_MIN: none; -1: other vCPUs; N >= 0: N unpinned */
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sockmap_multi [--proto tcp|udp] [--variant single|twostage|loop]\n"
		"                     [--iterations N] [--load[=N]] [--check-every N] [-v]\n"
		"  --proto P        socket type of both pairs (default udp)\n"
		"  --variant V      how p1 is read (default loop)\n"
		"  --iterations N   scenarios to run (default $KTA_ITERATIONS, else %d)\n"
		"  --load           a busy-loop hog on every vCPU but the test's\n"
		"  --load=N         N unpinned busy-loop hogs\n"
		"  --check-every N  the check phase on every Nth iteration\n"
		"                   (default %d; 1: all)\n"
		"  -v               libbpf's debug output, progress lines\n",
		DEFAULT_ITERATIONS, DEFAULT_CHECK_EVERY);
}

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "proto", required_argument, NULL, 'p' },
		{ "variant", required_argument, NULL, 'V' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "load", optional_argument, NULL, 'l' },
		{ "check-every", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("KTA_ITERATIONS");
	unsigned long n;
	int c;

	*o = (struct opts){ .proto = SM_UDP, .variant = SM_LOOP, .load = INT_MIN,
			    .iterations = DEFAULT_ITERATIONS, .check_every = DEFAULT_CHECK_EVERY };
	if (env && *env && parse_ulong(env, &o->iterations)) {
		fprintf(stderr, "sockmap_multi: bad KTA_ITERATIONS `%s`\n", env);
		return -EINVAL;
	}
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!strcmp(optarg, "tcp"))
				o->proto = SM_TCP;
			else if (!strcmp(optarg, "udp"))
				o->proto = SM_UDP;
			else
				goto bad;
			break;
		case 'V':
			if (!strcmp(optarg, "single"))
				o->variant = SM_SINGLE;
			else if (!strcmp(optarg, "twostage"))
				o->variant = SM_TWOSTAGE;
			else if (!strcmp(optarg, "loop"))
				o->variant = SM_LOOP;
			else
				goto bad;
			break;
		case 'n':
			if (parse_ulong(optarg, &o->iterations))
				goto bad;
			break;
		case 'l':
			if (!optarg) {
				o->load = -1;
			} else {
				if (parse_ulong(optarg, &n) || n > LOAD_MAX_HOGS)
					goto bad;
				o->load = (int)n;
			}
			break;
		case 'c':
			if (parse_ulong(optarg, &o->check_every) || !o->check_every)
				goto bad;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(KTA_EXIT_PASS);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sockmap_multi: unexpected argument `%s`\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->iterations) {
		fprintf(stderr, "sockmap_multi: --iterations must be at least 1\n");
		return -EINVAL;
	}
	return 0;
bad:
	fprintf(stderr, "sockmap_multi: bad value `%s` for --%s\n", optarg ? optarg : "",
		c == 'p' ? "proto" : c == 'V' ? "variant" : c == 'n' ? "iterations" :
		c == 'c' ? "check-every" : "load");
	usage(stderr);
	return -EINVAL;
}

/* Skips (exit 4) when the kernel cannot run the suite: an option of
 * kernel-config/sockmap.config is off, or, with no configuration to read,
 * the probes say so. Either way bpf() itself is probed: a config file is
 * only the host's word for it. */
static void require_kernel(void)
{
	const char *missing, *source;
	char reason[256];
	int err, fd;

	err = kconfig_check(required_config,
			    sizeof(required_config) / sizeof(required_config[0]), &missing,
			    &source);
	if (err == 1) {
		snprintf(reason, sizeof(reason), "kernel lacks %s (per %s)", missing, source);
		skip(reason);
	}
	if (err < 0 && err != -ENOENT)
		fprintf(stderr, "sockmap_multi: cannot read the kernel config %s: %s; probing\n",
			source ? source : "", strerror(-err));
	printf("sockmap_multi: kernel config: %s\n",
	       err ? "not available, probing instead" : source);

	fd = bpf_map_create(BPF_MAP_TYPE_SOCKMAP, "kta_probe", 4, 4, 1, NULL);
	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno == ENOSYS)
		skip("kernel lacks CONFIG_BPF_SYSCALL (bpf() returns ENOSYS)");
	if (errno == EINVAL)
		skip("kernel has no BPF_MAP_TYPE_SOCKMAP (needs CONFIG_INET; kernels before "
		     "2021 also CONFIG_BPF_STREAM_PARSER)");
	/* EPERM and the like: a setup problem, reported by the skeleton load. */
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static bool verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int run(const struct opts *o, int map_fd, struct tally *t, double *secs)
{
	const __u32 slot0 = SOCKMAP_SLOT_P0, slot1 = SOCKMAP_SLOT_P1;
	struct sm_listener l;
	struct timespec t0;
	int err;

	err = sm_listener_open(o->proto, &l);
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < o->iterations && !err; i++) {
		struct sm_pairs sp;
		struct sm_result r;
		struct sm_check chk;
		bool check;

		err = sm_pairs_open(o->proto, &l, &sp);
		if (err)
			break;
		/* BPF_ANY: the previous iteration's sockets left the map when
		 * they were closed, but a slot may be taken all the same. */
		if (bpf_map_update_elem(map_fd, &slot0, &sp.p0, BPF_ANY) ||
		    bpf_map_update_elem(map_fd, &slot1, &sp.p1, BPF_ANY)) {
			err = -errno;
			fprintf(stderr, "sockmap_multi: cannot add the sockets to the sockmap: %s\n",
				strerror(errno));
		}
		err = err ?: sm_iteration(o->proto, o->variant, &sp, &r);
		check = !err && i % o->check_every == 0 && !t->checks_stopped && sm_checkable(&r);
		if (check)
			err = sm_check_run(o->proto, &sp, &chk);
		sm_pairs_close(&sp);
		if (err)
			break;
		tally_iteration(t, &r);
		if (check)
			tally_check(t, &chk);
		if (t->by_fail[SM_F_LOST] >= MAX_LOST) {
			printf("sockmap_multi: stopping after %lu iterations: %d lost data, each "
			       "after a %d ms wait\n", t->done, MAX_LOST, SM_WAIT_MS);
			break;
		}
		if (o->verbose && t->done % 1000 == 0)
			printf("sockmap_multi: %lu iterations, %lu failed, %.1f s\n", t->done,
			       t->failed, elapsed_s(&t0));
	}
	*secs = elapsed_s(&t0);
	sm_listener_close(&l);
	return err;
}

int main(int argc, char **argv)
{
	struct sockmap_redir *skel = NULL;
	struct load load = { .nr = 0 };
	struct tally t;
	struct opts o;
	double secs = 0;
	int map_fd, prog_fd, err;
	bool attached = false, lo_was_down;

	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (parse_opts(argc, argv, &o))
		return KTA_EXIT_FAIL;
	verbose = o.verbose;
	tally_init(&t, o.proto, o.variant);
	libbpf_set_print(libbpf_print);
	require_kernel();

	err = sm_loopback_up(&lo_was_down);
	if (err) {
		fprintf(stderr, "sockmap_multi: cannot bring the loopback interface up: %s\n",
			strerror(-err));
		return KTA_EXIT_FAIL;
	}
	if (lo_was_down)
		printf("sockmap_multi: the loopback interface was down: brought it up\n");

	skel = sockmap_redir__open_and_load();
	if (!ASSERT_TRUE(skel, "sockmap_redir__open_and_load"))
		return KTA_EXIT_FAIL;
	map_fd = bpf_map__fd(skel->maps.sock_map);
	prog_fd = bpf_program__fd(skel->progs.redir_to_p1);
	err = bpf_prog_attach(prog_fd, map_fd, BPF_SK_SKB_STREAM_VERDICT, 0);
	if (!ASSERT_OK(err, "bpf_prog_attach(BPF_SK_SKB_STREAM_VERDICT)"))
		goto out;
	attached = true;

	if (o.load != INT_MIN) {
		err = load_start(&load, o.load);
		if (err)
			goto out;
		printf("sockmap_multi: load: %s\n", load.what);
	}
	printf("sockmap_multi: %s/%s: %lu iterations\n", sm_proto_name(o.proto),
	       sm_variant_name(o.variant), o.iterations);
	err = run(&o, map_fd, &t, &secs);
	load_stop(&load);
	if (err)
		goto out;
	tally_report(&t, secs);
out:
	load_stop(&load);
	if (attached)
		bpf_prog_detach2(prog_fd, map_fd, BPF_SK_SKB_STREAM_VERDICT);
	sockmap_redir__destroy(skel);
	if (err)
		return KTA_EXIT_FAIL;
	/* Broken promises fail every variant; the rates of single and twostage
	 * are measurements. */
	if (tally_broken(&t))
		return KTA_EXIT_FAIL;
	if (o.variant == SM_LOOP && t.failed)
		return KTA_EXIT_FAIL;
	return KTA_EXIT_PASS;
}
