/* `kta run`: resolve a kernel, assemble the guest root (agent, busybox,
 * modules, tests, plan), pick the accelerator, run one session and report.
 */
#include "run/accel.h"
#include "cmd/cmd.h"
#include "guest/exe.h"
#include "guest/image.h"
#include "guest/initramfs.h"
#include "kernel/kernel.h"
#include "kernel/kpvh.h"
#include "base/ktap.h"
#include "guest/libs.h"
#include "base/exit.h"
#include "base/interrupt.h"
#include "base/log.h"
#include "run/matrix.h"
#include "kernel/modules.h"
#include "run/plan.h"
#include "run/report.h"
#include "run/symbolize.h"
#include "selftests/run_selftests.h"
#include "guest/suite.h"
#include "toolchain/sysroot.h"
#include "base/util.h"
#include "run/vm.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#define MAX_TESTS 1024

struct run_opts {
	const struct arch_profile *arch;
	const char *kernel_path;
	const char *kernel_version;
	const char *flavour;
	struct test_spec *specs;
	unsigned int ntests;
	unsigned int iterations;
	const char *envs[64];
	unsigned int nenvs;
	unsigned int timeout_s;
	unsigned int boot_timeout_s;
	unsigned int run_timeout_s;
	const char *json;
	const char *junit;
	const char *artifacts;
	const char *accel;
	unsigned int smp;
	unsigned int memory_mb;
	const char *boot;       /* --boot auto|pvh|image */
	const char *tcg_thread; /* --tcg-thread single|multi, NULL: the arch row's */
	const char *fault;
	const char *append;
	const char *agent;
	const char *busybox;
	bool verbose;
	/* --test and --suite in order, loaded for the arch being run (a
	 * matrix loads them once per arch). */
	struct { char kind; const char *arg; } inputs[MAX_TESTS];
	unsigned int ninputs;
	const char *arch_list;  /* "all" or "a,b": a matrix */
	unsigned int jobs;
	bool timeout_given;
	const char *stress;     /* --stress hogs=N,nice=K,mem=MB,preempt=MODE */
	const char *cpu;        /* --cpu MODEL */
	bool stress_load;       /* a stress plan line */
	unsigned int stress_hogs, stress_mem;
	int stress_nice;
	char stress_append[64]; /* its kernel arguments */
	/* --image: a user's disk image as the tests' root (image.h). */
	const char *image;
	bool keep_overlay;
	const char *pulls[16];  /* --pull PATH, besides IMAGE_OUT_DIR */
	unsigned int npulls;
	/* --selftests: the kernel's own BPF selftests (run_selftests.h). */
	struct st_run_opts st;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kta run [options] --test PATH [--test PATH ...]\n"
		"  --arch ARCH           guest architecture (%s; default x86_64);\n"
		"                        all, or a list (arm64,s390x): one run per arch, in parallel\n"
		"                        as cores and memory allow, and a table of the results\n"
		"  --jobs N              matrix runs at once (default: cores / --smp, bounded by memory)\n"
		"  --kernel PATH         boot this kernel image instead of a Debian one\n"
		"  --kernel-version V    Debian kernel to fetch: 7.3 (default), 6.1, 7.3.4, latest\n"
		"  --flavour F           Debian kernel flavour (default: the arch's cloud flavour)\n"
		"  --test PATH           an executable or #! script to run in the guest\n"
		"  --suite FILE|NAME     the tests of a suite manifest (build/<arch>/suites/*/suite.txt);\n"
		"                        a NAME (asan) is the suite built beside kta for the arch;\n"
		"                        NAME:GLOB only its tests whose names match (sockmap:*tcp*)\n"
		"  --iterations N        KTA_ITERATIONS=N for the tests (repeat counts of measurements)\n"
		"  --runs N              each test N times in one boot, round by round, as name#1..N\n"
		"  --env KEY=VALUE       set in every test's environment\n"
		"  --timeout S           per-test timeout in seconds (default 120)\n"
		"  --boot-timeout S      time for the kernel to reach the agent (default 120)\n"
		"  --run-timeout S       whole-run limit (default: boot + tests' timeouts + 60)\n"
		"  --accel auto|kvm|tcg  accelerator (default auto: probe KVM, else TCG)\n"
		"  --smp N, --memory MB  guest CPUs (default 2) and memory\n"
		"  --cpu MODEL           QEMU's -cpu instead of the arch's (`kta arch show`)\n"
		"  --boot auto|pvh|image x86_64: pvh boots the vmlinux inside the bzImage directly\n"
		"                        (no firmware setup or decompression; needs CONFIG_PVH),\n"
		"                        image the bzImage as given (to test its own boot code);\n"
		"                        auto (default): pvh where the kernel can, else image\n"
		"  --tcg-thread single|multi   under TCG with 2+ vCPUs: all on one host thread, or one\n"
		"                        each (default: the arch's; x86_64 single: `kta arch show`)\n"
		"  --json FILE, --junit FILE   machine-readable results\n"
		"  --artifacts DIR       where logs go (default kta-out/<time>-<arch>)\n"
		"  --append ARGS         extra kernel command-line arguments\n"
		"  --fault MODE          agent fault injection (garbage, badcrc, truncate, noend, dropline)\n"
		"  --image DISK          run the tests in this disk image's userspace (qcow2, raw, ...;\n"
		"                        docs/image.md): libguestfs finds its root, the guest writes a\n"
		"                        copy-on-write overlay (the image is never written), and what\n"
		"                        tests leave in $KTA_OUT (" IMAGE_OUT_DIR ") is pulled into\n"
		"                        <artifacts>/image-files/ after the run, even after a panic\n"
		"  --pull PATH           also pull PATH (a file or directory of the image) after the run\n"
		"  --keep-overlay        keep <artifacts>/overlay.qcow2 (the guest's writes)\n"
		"  --stress SPEC         load that makes timing races show, recorded in the report:\n"
		"                        hogs=N (busy loops in the guest during every test), nice=K\n"
		"                        (theirs, -20..19, default 0), mem=MB (memory kept in use),\n"
		"                        preempt=none|voluntary|full (the kernel's preempt= argument);\n"
		"                        comma-separated; with --smp 1 for one vCPU\n"
		"\n"
		"The kernel's BPF selftests (built from a tree, run in the guest, each subtest a result):\n"
		"  --selftests SEL       tests or test/subtest globs, comma-separated (token,test_bpffs,\n"
		"                        sockmap_basic/sockmap*multi*); test_progs -v -a for each, after\n"
		"                        the tree's DENYLIST, DENYLIST.asan (--asan), DENYLIST.<arch>\n"
		"  --selftests-args ARGS more test_progs arguments (\"-d foo -t bar\"), last\n"
		"  --tree DIR, --source debian:V   the kernel tree (default debian:7.3)\n"
		"  --patches SERIES, --no-patches  the series applied to it (default none)\n"
		"  --asan                ASAN=1 (test_progs and its helpers)\n"
		"  --compare-patches     build without and with --patches, run both on the same\n"
		"                        kernel, interleaved, and compare each subtest's failures\n"
		"  --runs N              run the selection N times in one boot (failure counts, 95%% CI)\n"
		"  --payload auto|ext4|initramfs   how test_progs reaches the guest (auto: an ext4\n"
		"                        image on virtio-blk when the kernel builds both in)\n"
		"  --selftests-toolchain root|host   build with `kta toolchain`'s compilers (default)\n"
		"                        or the host's (a tree whose selftests they can build)\n"
		"  --selftests-ci        test_progs without -v, as BPF CI runs it: its output is\n"
		"                        buffered per test, so subtests are reported when their test\n"
		"                        ends, and --subtimeout bounds a whole test\n"
		"  --subtimeout S        no subtest may take longer (default 300 s); then its tasks'\n"
		"                        kernel stacks are reported and test_progs is killed\n"
		"  Without --kernel/--kernel-version the kernel is kta's build of the same tree and\n"
		"  series with the selftests' config (`kta kernel build --fragments selftests`).\n"
		"  --agent PATH, --busybox PATH   override the guest agent and busybox\n"
		"  -v, --verbose         debug logging, and passing tests' output in the report\n",
		arch_names());
}

static int add_test_path(struct run_opts *o, const char *path)
{
	struct test_spec *ns = realloc(o->specs, (o->ntests + 1) * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	o->specs = ns;
	if (spec_from_path(path, &ns[o->ntests])) {
		pr_err("test path `%s` is too long", path);
		return -EINVAL;
	}
	o->ntests++;
	return 0;
}

/* "hogs=2,nice=0,mem=256,preempt=full" -> a plan line and kernel arguments. */
static int parse_stress(struct run_opts *o, const char *spec)
{
	cleanup_free char *copy = strdup(spec);
	unsigned int hogs = 0, mem = 0;
	int nice = 0;

	o->stress_load = false;
	o->stress_append[0] = '\0';
	if (!copy)
		return -ENOMEM;
	for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *end;
		long v;

		if (!strncmp(kv, "hogs=", 5) && (v = strtol(kv + 5, &end, 10)) >= 0 && v <= 64 && !*end && end > kv + 5) {
			hogs = (unsigned int)v;
		} else if (!strncmp(kv, "nice=", 5) && (v = strtol(kv + 5, &end, 10)) >= -20 && v <= 19 && !*end &&
			   end > kv + 5) {
			nice = (int)v;
		} else if (!strncmp(kv, "mem=", 4) && (v = strtol(kv + 4, &end, 10)) >= 0 && v <= 65536 && !*end &&
			   end > kv + 4) {
			mem = (unsigned int)v;
		} else if (!strcmp(kv, "preempt=none") || !strcmp(kv, "preempt=voluntary") ||
			   !strcmp(kv, "preempt=full")) {
			snprintf(o->stress_append, sizeof(o->stress_append), "%s", kv);
		} else {
			pr_err("--stress: `%s` is not hogs=N (0-64), nice=K (-20..19), mem=MB or "
			       "preempt=none|voluntary|full", kv);
			return -EINVAL;
		}
	}
	if (hogs || mem)
		o->stress_load = true, o->stress_hogs = hogs, o->stress_nice = nice, o->stress_mem = mem;
	return 0;
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "kernel-version", required_argument, NULL, 'K' },
		{ "flavour", required_argument, NULL, 'F' },
		{ "test", required_argument, NULL, 't' },
		{ "suite", required_argument, NULL, 'S' },
		{ "iterations", required_argument, NULL, 'I' },
		{ "env", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "boot-timeout", required_argument, NULL, 'B' },
		{ "run-timeout", required_argument, NULL, 'R' },
		{ "json", required_argument, NULL, 'j' },
		{ "junit", required_argument, NULL, 'J' },
		{ "artifacts", required_argument, NULL, 'o' },
		{ "accel", required_argument, NULL, 'A' },
		{ "smp", required_argument, NULL, 's' },
		{ "memory", required_argument, NULL, 'm' },
		{ "fault", required_argument, NULL, 'f' },
		{ "append", required_argument, NULL, 'p' },
		{ "agent", required_argument, NULL, 'g' },
		{ "busybox", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "selftests", required_argument, NULL, 1000 },
		{ "selftests-args", required_argument, NULL, 1001 },
		{ "tree", required_argument, NULL, 1002 },
		{ "source", required_argument, NULL, 1003 },
		{ "patches", required_argument, NULL, 1004 },
		{ "no-patches", no_argument, NULL, 1005 },
		{ "asan", no_argument, NULL, 1006 },
		{ "compare-patches", no_argument, NULL, 1007 },
		{ "runs", required_argument, NULL, 1008 },
		{ "payload", required_argument, NULL, 1009 },
		{ "subtimeout", required_argument, NULL, 1010 },
		{ "stress", required_argument, NULL, 1011 },
		{ "selftests-toolchain", required_argument, NULL, 1012 },
		{ "selftests-ci", no_argument, NULL, 1013 },
		{ "cpu", required_argument, NULL, 1014 },
		{ "image", required_argument, NULL, 1015 },
		{ "keep-overlay", no_argument, NULL, 1016 },
		{ "pull", required_argument, NULL, 1017 },
		{ "boot", required_argument, NULL, 1018 },
		{ "tcg-thread", required_argument, NULL, 1019 },
		{ NULL, 0, NULL, 0 },
	};
	int c, err = 0;

	optind = 1;
	while (!err && (c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (!strcmp(optarg, "all") || strchr(optarg, ',')) {
				o->arch_list = optarg;
				break;
			}
			o->arch_list = NULL;
			o->arch = arch_from_arg(optarg);
			err = o->arch ? 0 : -EINVAL;
			break;
		case 'k': o->kernel_path = optarg; break;
		case 'K': o->kernel_version = optarg; break;
		case 'F': o->flavour = optarg; break;
		case 't':
		case 'S':
			if (o->ninputs == MAX_TESTS) {
				pr_err("more than %d tests", MAX_TESTS);
				err = -E2BIG;
				break;
			}
			o->inputs[o->ninputs].kind = (char)c;
			o->inputs[o->ninputs++].arg = optarg;
			break;
		case 'N': err = cmd_parse_uint("--jobs", optarg, &o->jobs); break;
		case 'I': err = cmd_parse_uint("--iterations", optarg, &o->iterations); break;
		case 'e':
			if (!strchr(optarg, '=') || strchr(optarg, '\n') || o->nenvs == 64) {
				pr_err("--env `%s`: want KEY=VALUE", optarg);
				err = -EINVAL;
			} else {
				o->envs[o->nenvs++] = optarg;
			}
			break;
		case 'T':
			err = cmd_parse_uint("--timeout", optarg, &o->timeout_s);
			o->timeout_given = true;
			break;
		case 1000: o->st.select = optarg; break;
		case 1001: o->st.tp_args = optarg; break;
		case 1002: o->st.build.tree = optarg; break;
		case 1003: o->st.build.source = optarg; break;
		case 1004: o->st.build.patches = optarg; break;
		case 1005: o->st.build.patches = NULL; break;
		case 1006: o->st.build.asan = true; break;
		case 1007: o->st.compare = true; break;
		case 1008:
			err = cmd_parse_uint("--runs", optarg, &o->st.runs);
			if (!err && !o->st.runs) {
				pr_err("--runs: at least 1");
				err = -EINVAL;
			}
			break;
		case 1009: o->st.payload = optarg; break;
		case 1010: err = cmd_parse_uint("--subtimeout", optarg, &o->st.subtimeout_s); break;
		case 1013: o->st.ci_output = true; break;
		case 1014: o->cpu = optarg; break;
		case 1015: o->image = optarg; break;
		case 1016: o->keep_overlay = true; break;
		case 1017:
			if (optarg[0] != '/' || strstr(optarg, "..") || o->npulls == ARRAY_SIZE(o->pulls)) {
				pr_err("--pull `%s`: want an absolute path in the image, without `..` (at most %zu)",
				       optarg, ARRAY_SIZE(o->pulls));
				err = -EINVAL;
			} else {
				o->pulls[o->npulls++] = optarg;
			}
			break;
		case 1012:
			if (strcmp(optarg, "root") && strcmp(optarg, "host")) {
				pr_err("--selftests-toolchain: root or host, not `%s`", optarg);
				err = -EINVAL;
			}
			o->st.build.host_toolchain = !strcmp(optarg, "host");
			break;
		case 1011:
			o->stress = optarg;
			err = parse_stress(o, optarg);
			break;
		case 'B': err = cmd_parse_uint("--boot-timeout", optarg, &o->boot_timeout_s); break;
		case 'R': err = cmd_parse_uint("--run-timeout", optarg, &o->run_timeout_s); break;
		case 'j': o->json = optarg; break;
		case 'J': o->junit = optarg; break;
		case 'o': o->artifacts = optarg; break;
		case 'A':
			if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") && strcmp(optarg, "tcg")) {
				pr_err("--accel: want auto, kvm or tcg, not `%s`", optarg);
				err = -EINVAL;
			}
			o->accel = optarg;
			break;
		case 's': err = cmd_parse_uint("--smp", optarg, &o->smp); break;
		case 1018:
			if (strcmp(optarg, "auto") && strcmp(optarg, "pvh") && strcmp(optarg, "image")) {
				pr_err("--boot: want auto, pvh or image, not `%s`", optarg);
				err = -EINVAL;
			}
			o->boot = optarg;
			break;
		case 1019:
			if (strcmp(optarg, "single") && strcmp(optarg, "multi")) {
				pr_err("--tcg-thread: want single or multi, not `%s`", optarg);
				err = -EINVAL;
			}
			o->tcg_thread = optarg;
			break;
		case 'm': err = cmd_parse_uint("--memory", optarg, &o->memory_mb); break;
		case 'f': o->fault = optarg; break;
		case 'p': o->append = optarg; break;
		case 'g': o->agent = optarg; break;
		case 'b': o->busybox = optarg; break;
		case 'v':
			o->verbose = true;
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	for (; !err && optind < argc && o->ninputs < MAX_TESTS; optind++) {
		o->inputs[o->ninputs].kind = 't';
		o->inputs[o->ninputs++].arg = argv[optind];
	}
	if (!err && optind < argc) {
		pr_err("more than %d tests", MAX_TESTS);
		err = -E2BIG;
	}
	if (!err && !o->ninputs && !o->st.select) {
		pr_err("no tests given: pass --test PATH (a static executable or #! script), --suite NAME or "
		       "--selftests SEL");
		err = -EINVAL;
	}
	if (!err && !o->st.select && (o->st.compare || o->st.tp_args || o->st.build.tree ||
				       o->st.build.patches || o->st.build.asan)) {
		pr_err("--compare-patches, --selftests-args, --tree, --patches and --asan go with --selftests");
		err = -EINVAL;
	}
	if (!err && !o->image && (o->keep_overlay || o->npulls)) {
		pr_err("--keep-overlay and --pull go with --image");
		err = -EINVAL;
	}
	/* An image is one architecture's; test_progs brings its own root. */
	if (!err && o->image && (o->arch_list || o->st.select)) {
		pr_err("--image runs one architecture's tests: not with an --arch list or --selftests");
		err = -EINVAL;
	}
	if (!err && o->boot && !strcmp(o->boot, "pvh") && !o->arch_list && o->arch && !o->arch->pvh) {
		pr_err("--boot pvh: QEMU boots no PVH vmlinux on %s", o->arch->name);
		err = -EINVAL;
	}
	if (!err && o->fault && strcmp(o->fault, "garbage") && strcmp(o->fault, "badcrc") &&
	    strcmp(o->fault, "truncate") && strcmp(o->fault, "noend") && strcmp(o->fault, "dropline")) {
		pr_err("--fault: unknown mode `%s` (garbage, badcrc, truncate, noend, dropline)", o->fault);
		err = -EINVAL;
	}
	return err;
}

/* What -kernel gets: the PVH vmlinux (kernel/kpvh.h) where --boot, the
 * machine and the kernel allow, else the image itself; *how says which. */
static int boot_image(const struct run_opts *o, const struct kernel *k, char *out, size_t n, const char **how)
{
	bool want = o->boot && !strcmp(o->boot, "pvh");
	int err = 0;

	*how = "image";
	if (!(o->boot && !strcmp(o->boot, "image")) && o->arch->pvh) {
		err = kpvh_image(k->image, k->sha256, out, n);
		if (!err) {
			*how = "pvh";
			return 0;
		}
		if (err != -ENOENT)
			pr_warn("cannot extract %s's vmlinux for a PVH boot (%s): booting the image", k->image,
				strerror(-err));
	}
	/* An arch without PVH was refused with the options. */
	if (want) {
		pr_err("--boot pvh: %s has no PVH entry (a kernel built without CONFIG_PVH)", k->image);
		return -EINVAL;
	}
	snprintf(out, n, "%s", k->image);
	return 0;
}

static int default_artifacts(const struct run_opts *o, char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	int err;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, n, "kta-out/%s-%s-%d", stamp, o->arch->name, (int)getpid());
	err = mkdir_p(out, 0755);
	if (!err) {
		unlink("kta-out/latest");
		if (symlink(out + strlen("kta-out/"), "kta-out/latest") < 0)
			pr_debug("cannot update kta-out/latest: %s", strerror(errno));
	}
	return err;
}

/* Guest files live next to the kta binary: <dir>/<arch>/kta-agent. */
static int guest_file(const struct run_opts *o, const char *name, char *out, size_t n)
{
	char dir[PATH_MAX];
	int err = self_dir(dir, sizeof(dir));

	if (err)
		return err;
	snprintf(out, n, "%s/%s/%s", dir, o->arch->name, name);
	return 0;
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

/* Where a test program is in the guest: /kta/tests/ and its file name,
 * made safe for the plan and KTAP. */
#define GUEST_TESTS_DIR "/kta/tests/"
static void test_guest_path(const char *host, char *out, size_t n)
{
	char name[128];

	ktap_sanitize_name(base_name(host), name, sizeof(name));
	snprintf(out, n, GUEST_TESTS_DIR "%s", name);
}

/* The host file behind a test program's path in the guest, for
 * symbolizing its sanitizer reports. */
static const char *test_host_path(const char *guest, void *ctx)
{
	const struct run_opts *o = ctx;
	char path[PATH_MAX];

	if (strncmp(guest, GUEST_TESTS_DIR, sizeof(GUEST_TESTS_DIR) - 1))
		return NULL;
	for (unsigned int i = 0; i < o->ntests; i++) {
		test_guest_path(o->specs[i].path, path, sizeof(path));
		if (!strcmp(path, guest))
			return o->specs[i].path;
	}
	return NULL;
}

/* Why this arch cannot run the test (its profile says so), or NULL. */
static const char *unsupported(const struct run_opts *o, const struct test_spec *sp)
{
	if (!strcmp(sp->requires, "asan"))
		return o->arch->asan_unsupported;
	return NULL;
}

static int build_plan(const struct run_opts *o, const struct kernel *k, struct run_result *res,
		      struct buf *plan, struct st_run *st, const struct image *img)
{
	int err = planw_begin(plan);

	if (img) {
		err = err ?: planw_image(plan, img->guest_dev, img->fstype, IMAGE_GUEST_ROOT, IMAGE_OUT_DIR);
		err = err ?: planw_env(plan, "KTA_OUT=" IMAGE_OUT_DIR, false);
	}
	if (o->stress_load)
		err = err ?: planw_stress(plan, o->stress_hogs, o->stress_nice, o->stress_mem);
	for (unsigned int i = 0; i < o->nenvs; i++) {
		err = err ?: planw_env(plan, o->envs[i], false);
		if (err == -EINVAL)
			return pr_err("--env `%s`: not KEY=VALUE with a KEY of no spaces on one line", o->envs[i]), err;
	}
	if (o->iterations) {
		char kv[64];

		snprintf(kv, sizeof(kv), "KTA_ITERATIONS=%u", o->iterations);
		err = err ?: planw_env(plan, kv, false);
	}
	if (k->config[0])
		err = err ?: planw_env(plan, "KTA_KERNEL_CONFIG=/kta/kernel.config", false);
	if (err)
		return err;
	res->tests = calloc(o->ntests + 1, sizeof(*res->tests));
	if (!res->tests)
		return -ENOMEM;
	res->ntests = o->ntests;
	for (unsigned int i = 0; i < o->ntests; i++) {
		const struct test_spec *sp = &o->specs[i];
		struct test_result *t = &res->tests[i];
		char bin[128];

		t->num = i + 1;
		t->timeout_s = sp->timeout_s ? sp->timeout_s : o->timeout_s;
		t->exit_code = -1;
		snprintf(t->name, sizeof(t->name), "%s", sp->name);
		snprintf(t->path, sizeof(t->path), "%s", sp->path);
		snprintf(t->expect, sizeof(t->expect), "%s", sp->expect);
		snprintf(t->suite, sizeof(t->suite), "%s", sp->suite);
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(res->tests[j].name, t->name)) {
				pr_err("two tests are named `%s` (%s and %s): rename one",
				       t->name, res->tests[j].path, t->path);
				return -EINVAL;
			}
		}
		for (unsigned int j = 0; j < sp->nenv; j++)
			if ((err = planw_env(plan, sp->env[j], true)))
				return pr_err("test `%s`: environment `%s` cannot be passed", t->name, sp->env[j]), err;
		/* An unsupported test runs a script that skips with the reason
		 * (kselftest's exit 4), so the report shows it like any skip. */
		if (unsupported(o, sp)) {
			cleanup_free char *path = NULL;

			ktap_sanitize_name(t->name, bin, sizeof(bin));
			path = xasprintf("/kta/skip/%s", bin);
			if ((err = path ? planw_test(plan, t->timeout_s, t->name, path, NULL, 0) : -ENOMEM))
				return err;
			continue;
		}
		/* In the image's root, /kta is the initramfs's, bound in. */
		if (img && (err = planw_topt(plan, PLAN_TOPT_ROOT, IMAGE_GUEST_ROOT)))
			return err;
		{
			char path[PATH_MAX];
			const char *args[SPEC_MAX_ARGS];

			test_guest_path(sp->path, path, sizeof(path));
			for (unsigned int j = 0; j < sp->nargs && j < SPEC_MAX_ARGS; j++)
				args[j] = sp->args[j];
			err = planw_test(plan, t->timeout_s, t->name, path, args, sp->nargs);
			if (err)
				return pr_err("test `%s`: its name, path or arguments cannot go in the plan "
					      "(a space, a newline, more than %d arguments)", t->name, PLAN_MAX_ARGS - 4), err;
		}
	}
	/* A selection of test_progs runs for an hour by default under TCG;
	 * each subtest has its own limit (--subtimeout). */
	if (o->st.select)
		return st_run_plan(st, &o->st, plan, res, o->timeout_given ? o->timeout_s : 3600);
	return 0;
}

/* A module only a run with a disk needs (arch.h's disk_modules). */
static bool disk_module(const struct arch_profile *arch, const char *path)
{
	char name[64];

	module_name_normalise(base_name(path), name, sizeof(name));
	for (size_t i = 0; arch->disk_modules && arch->disk_modules[i]; i++)
		if (!strcmp(name, arch->disk_modules[i]))
			return true;
	return false;
}

/* Does the guest load any of the kernel's own (signed) modules? */
static bool loads_modules(const struct arch_profile *arch, const struct kernel *k, bool disks)
{
	for (size_t i = 0; i < k->nr_modules; i++)
		if (disks || !disk_module(arch, k->modules[i]))
			return true;
	return false;
}

static int build_initramfs(const struct run_opts *o, const struct kernel *k, const struct buf *plan,
			   const char *cache, char *out, size_t n, const struct st_run *st, bool disks)
{
	struct initramfs fs = { 0 };
	struct libset libs = { 0 };
	cleanup_buf struct buf modlist = { 0 };
	char agent[PATH_MAX], busybox[PATH_MAX], hash[65];
	int err = 0;

	if (o->agent)
		snprintf(agent, sizeof(agent), "%s", o->agent);
	else
		err = guest_file(o, "kta-agent", agent, sizeof(agent));
	if (!err && !path_exists(agent)) {
		pr_err("guest agent `%s` not found: run `make` first (or pass --agent)", agent);
		err = -ENOENT;
	}
	err = err ?: exe_check(agent, o->arch, false);
	err = err ?: initramfs_add_file(&fs, "/init", agent, 0755);
	if (!err && o->busybox)
		snprintf(busybox, sizeof(busybox), "%s", o->busybox);
	else if (!err)
		err = sysroot_busybox(o->arch, busybox, sizeof(busybox));
	err = err ?: exe_check(busybox, o->arch, false);
	err = err ?: initramfs_add_file(&fs, "/bin/busybox", busybox, 0755);
	for (size_t i = 0; !err && i < k->nr_modules; i++) {
		const char *base = strrchr(k->modules[i], '/');
		cleanup_free char *dest = NULL;

		if (!disks && disk_module(o->arch, k->modules[i]))
			continue;
		dest = xasprintf("/lib/modules/kta/%s", base ? base + 1 : k->modules[i]);
		err = dest ? initramfs_add_file(&fs, dest, k->modules[i], 0644) : -ENOMEM;
		if (!err)
			buf_printf(&modlist, "%s\n", dest);
	}
	if (!err && modlist.len)
		err = initramfs_add_data(&fs, "/kta/modules", modlist.data, modlist.len, 0644);
	for (unsigned int i = 0; !err && i < o->ntests; i++) {
		const char *path = o->specs[i].path;
		char name[128];
		cleanup_free char *dest = NULL;
		const char *why = unsupported(o, &o->specs[i]);
		bool seen = false;

		if (why) {
			cleanup_free char *script = xasprintf("#!/bin/sh\ncat <<'KTA_EOF'\nSKIP: %s: %s\nKTA_EOF\nexit 4\n",
							      o->arch->name, why);

			ktap_sanitize_name(o->specs[i].name, name, sizeof(name));
			dest = xasprintf("/kta/skip/%s", name);
			err = dest && script ? initramfs_add_data(&fs, dest, script, strlen(script), 0755)
					     : -ENOMEM;
			continue;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (unsupported(o, &o->specs[j]))
				continue;
			if (strcmp(base_name(o->specs[j].path), base_name(path)))
				continue;
			if (strcmp(o->specs[j].path, path)) {
				pr_err("tests `%s` and `%s` have the same file name: rename one",
				       o->specs[j].path, path);
				err = -EINVAL;
			}
			seen = true;
		}
		if (seen || err)
			continue;
		{
			char gpath[PATH_MAX];

			test_guest_path(path, gpath, sizeof(gpath));
			err = initramfs_add_file(&fs, gpath, path, 0755);
		}
		/* In an image, a dynamic test uses the image's libraries. */
		if (!o->image)
			err = err ?: libs_add(&fs, &libs, o->arch, path);
	}
	if (!err && k->config[0])
		err = initramfs_add_file(&fs, "/kta/kernel.config", k->config, 0644);
	if (!err && o->st.select)
		err = st_run_initramfs(st, &fs);
	err = err ?: initramfs_add_data(&fs, "/kta/plan", plan->data, plan->len, 0644);
	err = err ?: initramfs_build(&fs, cache, out, n, hash);
	initramfs_free(&fs);
	libset_free(&libs);
	return err;
}

static int write_kernel_info(const char *dir, const struct kernel *k, const char *initrd,
			     const struct run_result *r)
{
	cleanup_free char *path = path_join(dir, "kernel.txt");
	cleanup_buf struct buf b = { 0 };

	buf_printf(&b, "image=%s\nversion=%s\nsha256=%s\nsource=%s\nguest_uname=%s\ninitramfs=%s\n",
		   k->image, k->version, k->sha256, k->source, r->guest_kernel, initrd);
	return path ? write_file_atomic(path, b.data, b.len, 0644) : -ENOMEM;
}

/* What the report says about the image, for whoever reads the artifacts. */
static void write_image_info(const char *dir, const struct image *img, double pull_s)
{
	cleanup_free char *path = path_join(dir, "image.txt");
	cleanup_buf struct buf b = { 0 };
	char os[320];

	image_os_name(img, os, sizeof(os));
	buf_printf(&b, "path=%s\nformat=%s\nsha256=%s\nos=%s\nroot=%s (guest %s, %s)\n"
		       "inspect_s=%.2f%s\npull_s=%.2f\n",
		   img->path, img->format, img->sha256, os, img->root, img->guest_dev, img->fstype,
		   img->t_inspect_s, img->cached ? " (cached)" : "", pull_s);
	if (path && b.data)
		write_file_atomic(path, b.data, b.len, 0644);
}

/* Files out of the overlay, read by libguestfs: whatever the guest left,
 * after a pass, a panic or a kill alike. Not after Ctrl-C: the user asked
 * to stop, and a pull is one more appliance launch. */
static double pull_files(const struct run_opts *o, const struct image *img, const char *artifacts,
			 const struct run_result *res)
{
	const char *paths[ARRAY_SIZE(o->pulls) + 1] = { IMAGE_OUT_DIR };
	double secs = 0;

	if (res->status == RUN_INTERRUPTED) {
		pr_info("interrupted: nothing pulled from the image%s", o->keep_overlay ? "" :
			" (--keep-overlay keeps the guest's writes)");
		return 0;
	}
	for (unsigned int i = 0; i < o->npulls; i++)
		paths[i + 1] = o->pulls[i];
	pr_info("pulling %s%s from the overlay with libguestfs", IMAGE_OUT_DIR, o->npulls ? " and --pull paths" : "");
	if (!image_pull(img, artifacts, paths, o->npulls + 1, &secs))
		pr_info("pulled in %.1f s", secs);
	return secs;
}

/* A path under build/<arch>/ names the file of one arch: in a matrix, the
 * same file of each. */
static int path_for_arch(const char *path, const struct arch_profile *arch, char *out, size_t n)
{
	for (size_t i = 0; i < arch_count(); i++) {
		const char *name = arch_at(i)->name;
		size_t len = strlen(name);

		for (const char *p = strstr(path, name); p; p = strstr(p + 1, name)) {
			if ((p != path && p[-1] != '/') || p[len] != '/')
				continue;
			if ((size_t)snprintf(out, n, "%.*s%s%s", (int)(p - path), path, arch->name, p + len) >= n)
				return -ENAMETOOLONG;
			return 1;
		}
	}
	snprintf(out, n, "%s", path);
	return 0;
}

/* --suite NAME: the suite built beside kta, <dir>/<arch>/suites/NAME/. */
static int suite_path(const struct run_opts *o, const char *arg, char *out, size_t n)
{
	if (strchr(arg, '/') || path_exists(arg))
		return path_for_arch(arg, o->arch, out, n) < 0 ? -ENAMETOOLONG : 0;
	if (guest_file(o, "suites", out, n))
		return -ENAMETOOLONG;
	if (strlen(out) + strlen(arg) + 12 >= n)
		return -ENAMETOOLONG;
	strcat(out, "/");
	strcat(out, arg);
	strcat(out, "/suite.txt");
	return 0;
}

/* --suite NAME or FILE, or NAME:GLOB (sockmap:sockmap_tcp_*): only the
 * suite's tests whose names match. */
static int load_suite(struct run_opts *o, const char *arg)
{
	cleanup_free char *name = strdup(arg);
	char *colon = name ? strrchr(name, ':') : NULL, path[PATH_MAX];
	unsigned int first = o->ntests, k = first;
	int err;

	if (!name)
		return -ENOMEM;
	if (colon && !path_exists(arg))
		*colon++ = '\0';
	else
		colon = NULL;
	err = suite_path(o, name, path, sizeof(path));
	err = err ?: suite_load(path, &o->specs, &o->ntests);
	if (err || !colon)
		return err;
	for (unsigned int i = first; i < o->ntests; i++)
		if (!fnmatch(colon, o->specs[i].name, 0))
			o->specs[k++] = o->specs[i];
	if (k == first) {
		pr_err("--suite %s: no test of %s matches `%s`; it has:", arg, path, colon);
		for (unsigned int i = first; i < o->ntests; i++)
			fprintf(stderr, "  %s\n", o->specs[i].name);
		return -EINVAL;
	}
	o->ntests = k;
	return 0;
}

/* --runs N: every test N times in one boot, round by round (each round
 * the whole list, so that a slow drift in the guest spreads over all
 * tests), run k of a test named "name#k". */
static int repeat_tests(struct run_opts *o)
{
	unsigned int runs = o->st.runs, n = o->ntests;
	struct test_spec *v;

	if (runs <= 1)
		return 0;
	if ((unsigned long)n * runs > MAX_TESTS) {
		pr_err("--runs %u: %u tests %u times is more than %d", runs, n, runs, MAX_TESTS);
		return -E2BIG;
	}
	v = calloc((size_t)n * runs, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned int r = 0; r < runs; r++) {
		for (unsigned int i = 0; i < n; i++) {
			struct test_spec *t = &v[r * n + i];

			*t = o->specs[i];
			if ((size_t)snprintf(t->name, sizeof(t->name), "%s#%u", o->specs[i].name, r + 1) >=
			    sizeof(t->name)) {
				free(v);
				pr_err("test name `%s` is too long for --runs", o->specs[i].name);
				return -EINVAL;
			}
		}
	}
	free(o->specs);
	o->specs = v;
	o->ntests = n * runs;
	return 0;
}

static bool is_script(const char *path)
{
	char head[2] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = fd >= 0 && read(fd, head, 2) == 2 && head[0] == '#' && head[1] == '!';

	if (fd >= 0)
		close(fd);
	return yes;
}

static int load_inputs(struct run_opts *o)
{
	free(o->specs);
	o->specs = NULL;
	o->ntests = 0;
	for (unsigned int i = 0; i < o->ninputs; i++) {
		char path[PATH_MAX];
		int err;

		if (o->inputs[i].kind == 'S') {
			err = load_suite(o, o->inputs[i].arg);
		} else {
			err = path_for_arch(o->inputs[i].arg, o->arch, path, sizeof(path));
			/* A #! script runs on any arch as it is; a program must
			 * be built for each, under build/<arch>/. */
			if (err == 0 && o->arch_list && !is_script(path)) {
				pr_err("--test `%s`: in a matrix, a program must lie under build/<arch>/ "
				       "(the same path for each arch); only a #! script can serve every arch",
				       o->inputs[i].arg);
				err = -EINVAL;
			}
			err = err < 0 ? err : add_test_path(o, path);
		}
		if (err)
			return err;
	}
	if (o->ntests > MAX_TESTS) {
		pr_err("more than %d tests", MAX_TESTS);
		return -E2BIG;
	}
	return o->st.select ? 0 : repeat_tests(o);
}

static int run_main(struct run_opts *o)
{
	struct kernel k = { 0 };
	struct run_result res = { 0 };
	cleanup_buf struct buf plan = { 0 };
	char cache[PATH_MAX], initrd[PATH_MAX], artifacts[PATH_MAX], boot[PATH_MAX];
	const char *boot_how = "image";
	struct report_meta meta;
	struct vm_config cfg;
	struct st_run st = { 0 };
	struct image img = { 0 };
	double pull_s = 0;
	int err, rc = EXIT_INFRA;
	cleanup_free char *append = NULL;
	unsigned long long total_timeout = 0;
	unsigned int memory_mb = o->memory_mb;
	sigset_t stop_set, old_mask;
	bool blocked = false;

	for (unsigned int i = 0; i < o->ntests; i++)
		if (exe_check(o->specs[i].path, o->arch, true))
			return EXIT_USAGE;
	err = cache_dir(cache, sizeof(cache));
	if (err) {
		pr_err("cannot create the cache directory: %s (set KTA_CACHE)", strerror(-err));
		return EXIT_INFRA;
	}
	if (o->st.select) {
		o->st.build.arch = o->arch;
		o->st.build.kernel_path = o->kernel_path;
		o->st.build.kernel_version = o->kernel_version;
		o->st.build.flavour = o->flavour;
		o->st.build.progress = isatty(2);
		o->st.build.quiet = false;
		err = st_run_prepare(&o->st, &st);
		if (err) {
			st_run_free(&st);
			return err == -EINVAL ? EXIT_USAGE : kbuild_exit_code(err);
		}
		/* test_progs under ASAN, and an initramfs payload unpacked in
		 * memory, need room. */
		if (!memory_mb) {
			uint64_t payload = 0;

			for (unsigned int i = 0; st.initramfs && i < st.nv; i++)
				payload += st.v[i].b.payload_bytes;
			/* Rounded to 256 MB: ppc64's machine refuses others. */
			memory_mb = (2048 + (unsigned int)(2 * (payload >> 20)) + 255) / 256 * 256;
		}
	}
	/* What the guest gets, for the report too (it said "0 MB"). */
	if (!memory_mb)
		memory_mb = o->arch->memory_mb;
	/* Before the kernel: a bad image is said before anything is fetched. */
	if (o->image) {
		err = image_open(o->image, cache, &img);
		if (err)
			return err == -ENOMEM || err == -EIO ? EXIT_INFRA : EXIT_USAGE;
		image_os_name(&img, cache, sizeof(cache));
		pr_info("image: %s; root %s (%s), the guest's /dev/%s", cache, img.root, img.fstype, img.guest_dev);
		if (img.os_arch[0] && strcmp(img.os_arch, o->arch->uname_machine)) {
			pr_err("image `%s` is an %s system: run it with --arch %s", img.path, img.os_arch,
			       img.os_arch);
			return EXIT_USAGE;
		}
		err = cache_dir(cache, sizeof(cache));
		if (err)
			return EXIT_INFRA;
	}
	if (o->kernel_path)
		err = kernel_from_path(o->arch, o->kernel_path, &k);
	else if (o->st.select && !o->kernel_version)
		err = kernel_from_path(o->arch, st.kernel, &k);
	else if (o->image)
		err = kernel_fetch_disk(o->arch, o->kernel_version, o->flavour, &k);
	else
		err = kernel_fetch(o->arch, o->kernel_version, o->flavour, &k);
	if (err)
		return exit_code_for(err, true);
	if (boot_image(o, &k, boot, sizeof(boot), &boot_how)) {
		rc = EXIT_USAGE;
		goto out;
	}

	if (o->artifacts) {
		snprintf(artifacts, sizeof(artifacts), "%s", o->artifacts);
		err = mkdir_p(artifacts, 0755);
	} else {
		err = default_artifacts(o, artifacts, sizeof(artifacts));
	}
	if (err) {
		pr_err("cannot create artifacts directory `%s`: %s", artifacts, strerror(-err));
		goto out;
	}
	err = build_plan(o, &k, &res, &plan, &st, o->image ? &img : NULL);
	err = err ?: build_initramfs(o, &k, &plan, cache, initrd, sizeof(initrd), &st,
				     o->image || st.disks[0]);
	if (!err && o->image) {
		err = image_overlay_create(&img, artifacts);
		if (err) {
			rc = err == -EBUSY ? EXIT_USAGE : exit_code_for(err, false);
			goto out;
		}
	}
	/* What the agent was asked to do, for whoever reads the artifacts. */
	if (!err) {
		cleanup_free char *pp = path_join(artifacts, "plan.txt");

		if (pp)
			write_file_atomic(pp, plan.data, plan.len, 0644);
	}
	if (err) {
		rc = exit_code_for(err, true);
		goto out;
	}
	err = accel_decide(&(struct accel_request){ .mode = o->accel, .arch = o->arch,
						    .kernel = boot, .kernel_sha256 = k.sha256,
						    .initrd = initrd, .cache = cache },
			   &res.accel_kvm, res.accel_reason, sizeof(res.accel_reason));
	if (err) {
		rc = err == -EINTR ? exit_code_for(err, false) : EXIT_USAGE;
		if (err == -EINTR)
			pr_err("interrupted during the KVM probe: nothing cached");
		goto out;
	}
	pr_info("booting %s (%s%s) on %s with %u test%s, %s", k.version, k.source,
		strcmp(boot_how, "pvh") ? "" : ", PVH", o->arch->name, res.ntests, res.ntests == 1 ? "" : "s",
		res.accel_reason);

	append = xasprintf("%s%s%s%s%s%s", o->fault ? "kta.fault=" : "", o->fault ? o->fault : "",
			   o->fault && o->stress_append[0] ? " " : "", o->stress_append,
			   (o->fault || o->stress_append[0]) && o->append ? " " : "", o->append ? o->append : "");
	for (unsigned int i = 0; i < res.ntests; i++)
		total_timeout += res.tests[i].timeout_s + 5;
	cfg = (struct vm_config){
		.arch = o->arch, .kernel = boot, .initrd = initrd, .kvm = res.accel_kvm,
		.append_extra = append, .memory_mb = memory_mb, .smp = o->smp, .disks = st.disks, .cpu = o->cpu,
		/* Signed modules are Debian's (the kernel entry's, an
		 * image's) and the selftests' keyring tests. */
		.no_certs = !o->image && !o->st.select && !loads_modules(o->arch, &k, st.disks[0]),
		.tcg_one_thread = o->tcg_thread ? !strcmp(o->tcg_thread, "single") : o->arch->tcg_one_thread != NULL,
		.root_overlay = img.overlay[0] ? img.overlay : NULL,
		.boot_timeout_s = o->boot_timeout_s, .test_grace_s = 30,
		.run_timeout_s = o->run_timeout_s
					 ? o->run_timeout_s
					 : (unsigned int)(o->boot_timeout_s + total_timeout + 60),
		.artifacts = artifacts, .quiet = false,
	};
	/* SIGINT and SIGTERM stay blocked from the guest's start until the
	 * reports are written: vm_run() turns the first into a stop, and a
	 * second (Ctrl-C pressed twice) must not kill kta before results.json
	 * exists. Pending ones are dropped at the end (the run says it was
	 * interrupted). */
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_set, &old_mask);
	blocked = true;
	err = vm_run(&cfg, &res);
	if (err) {
		pr_err("cannot run the guest: %s", strerror(-err));
		goto out;
	}
	for (unsigned int i = 0; i < res.ntests; i++)
		san_symbolize(&res.tests[i].san, test_host_path, (void *)o);
	if (res.status == RUN_BOOT_FAILED) {
		kernel_note_boot(&k, false, res.status_msg);
		if (k.image_only)
			pr_err("%s is image only (Debian kept no config or modules for it): it boots here only if "
			       "the guest's drivers are built in", k.version);
	} else if (res.t_hello_ms) {
		kernel_note_boot(&k, true, NULL);
	}
	if (o->st.select)
		st_run_finish(&st, &res);
	if (o->image) {
		pull_s = pull_files(o, &img, artifacts, &res);
		write_image_info(artifacts, &img, pull_s);
	}
	meta = (struct report_meta){
		.image = o->image ? &img : NULL, .image_pull_s = pull_s,
		.arch = o->arch->name, .kernel_image = k.image, .kernel_version = k.version,
		.kernel_sha256 = k.sha256, .kernel_source = k.source, .boot = boot_how, .artifacts = artifacts,
		.verbose = o->verbose, .stress = o->stress, .smp = o->smp, .memory_mb = memory_mb,
		.tcg_thread = res.accel_kvm || o->smp < 2 ? NULL : cfg.tcg_one_thread ? "single" : "multi",
	};
	report_ktap(stdout, &res, &meta);
	report_summary(stdout, &res, &meta);
	if (o->st.select) {
		cleanup_free char *sj = path_join(artifacts, "selftests.json");

		st_run_summary(stdout, &st, &o->st, &res);
		if (sj && st_run_json(sj, &st, &o->st, &res))
			pr_warn("cannot write %s", sj);
	}

	fflush(stdout);
	report_test_logs(artifacts, &res);
	write_kernel_info(artifacts, &k, initrd, &res);
	{
		cleanup_free char *j = path_join(artifacts, "results.json");

		if (j)
			report_json(j, &res, &meta);
	}
	if (o->json && report_json(o->json, &res, &meta))
		pr_err("cannot write `%s`", o->json);
	if (o->junit && report_junit(o->junit, &res, &meta))
		pr_err("cannot write `%s`", o->junit);
	rc = run_result_exit_code(&res);
	if (res.status != RUN_COMPLETE)
		pr_err("%s: %s", run_status_name(res.status), res.status_msg);
out:
	if (blocked) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&stop_set, NULL, &zero) > 0)
			;
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
	}
	image_overlay_drop(&img, o->keep_overlay);
	run_result_free(&res);
	kernel_free(&k);
	st_run_free(&st);
	return rc;
}

/* Each arch a `kta run` child with the user's own arguments, less those
 * the matrix sets for each. */
static int run_matrix(struct matrix_opts *m, int argc, char **argv)
{
	cleanup_free char **args = calloc((size_t)argc + 1, sizeof(*args));
	char self[PATH_MAX];

	if (!args || kta_self(self, sizeof(self)))
		return EXIT_INFRA;
	m->self = self;
	for (int i = 1; i < argc;) {
		int own = matrix_own_arg(argv, i, argc);

		if (own) {
			i += own;
			continue;
		}
		args[m->nargs++] = argv[i++];
	}
	m->args = args;
	return matrix_run(m);
}

int cmd_run(int argc, char **argv)
{
	static struct run_opts o;
	int err, rc;

	o = (struct run_opts){
		.arch = arch_default(), .timeout_s = 120,
		.boot_timeout_s = 120, .accel = "auto", .smp = 2,
	};
	err = parse_opts(argc, argv, &o);
	if (err)
		return err > 0 ? EXIT_OK : EXIT_USAGE;
	if (o.arch_list) {
		struct matrix_opts m = { .jobs = o.jobs, .smp = o.smp, .memory_mb = o.memory_mb,
					 .dir = o.artifacts };

		if (matrix_parse_arches(o.arch_list, &m))
			return EXIT_USAGE;
		/* Every arch's inputs, checked here: a usage error is said
		 * once, before anything starts. */
		for (unsigned int i = 0; i < m.narches; i++) {
			o.arch = m.arches[i];
			if (load_inputs(&o)) {
				free(o.specs);
				return EXIT_USAGE;
			}
		}
		free(o.specs);
		o.specs = NULL;
		o.ntests = 0;
		if (o.json || o.junit)
			pr_warn("--json and --junit are per architecture in a matrix: each arch's "
				"results.json is in its directory");
		return run_matrix(&m, argc, argv);
	}
	if (load_inputs(&o)) {
		free(o.specs);
		return EXIT_USAGE;
	}
	rc = run_main(&o);
	free(o.specs);
	return rc;
}
