/* The KVM probe and its cache ($KTA_CACHE/accel/<key>): keyed by the host
 * kernel, the QEMU binary and the guest kernel, since any of them can
 * change the answer.
 */
#include "run/accel.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/util.h"
#include "run/vm.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#define PROBE_TIMEOUT_S 10
#define PROBE_CACHE_MAX_AGE (7 * 24 * 3600)
/* A probe that ran out of time may have met a loaded host rather than a
 * KVM that does not work: asked again sooner. */
#define PROBE_TIMEOUT_MAX_AGE 3600

static int probe_key(const struct accel_request *req, char hex[65])
{
	struct utsname u;
	struct sha256 s;
	char line[512];

	uname(&u);
	sha256_init(&s);
	snprintf(line, sizeof(line), "%s %s %s %s %s\n", u.release, u.version, u.machine,
		 req->arch->qemu_binary, req->kernel_sha256 ? req->kernel_sha256 : req->kernel);
	sha256_update(&s, line, strlen(line));
	sha256_hex(&s, hex);
	return 0;
}

static int run_probe(const struct accel_request *req, char *reason, size_t n)
{
	struct test_result none[1];
	struct run_result res = { 0 };
	struct vm_config cfg = {
		.arch = req->arch, .kernel = req->kernel, .initrd = req->initrd,
		.kvm = true, .append_extra = "kta.probe=1", .boot_timeout_s = PROBE_TIMEOUT_S,
		.run_timeout_s = PROBE_TIMEOUT_S + 5, .probe = true, .quiet = true,
	};
	uint64_t t0 = monotonic_ms();
	int err;

	memset(none, 0, sizeof(none));
	res.tests = none;
	res.ntests = 0;
	pr_info("probing KVM with a %d s boot (the result is cached)", PROBE_TIMEOUT_S);
	err = vm_run(&cfg, &res);
	res.tests = NULL;
	if (err)
		return err;
	/* Interrupted: no answer at all, nothing to cache. */
	if (res.status == RUN_INTERRUPTED) {
		run_result_free(&res);
		return -EINTR;
	}
	if (res.t_hello_ms) {
		snprintf(reason, n, "KVM probe booted in %.1f s",
			 (monotonic_ms() - t0) / 1000.0);
		run_result_free(&res);
		return 1;
	}
	snprintf(reason, n, "KVM probe boot failed (%s%s%s), using TCG",
		 run_status_name(res.status), res.status_msg[0] ? ": " : "", res.status_msg);
	err = res.status == RUN_BOOT_FAILED || res.status == RUN_HUNG ? 2 : 0;
	run_result_free(&res);
	return err;
}

int accel_decide(const struct accel_request *req, bool *kvm, char *reason, size_t n)
{
	cleanup_free char *dir = NULL, *path = NULL;
	cleanup_buf struct buf cached = { 0 };
	struct utsname u;
	struct stat st;
	char key[65];
	int fd, r;

	*kvm = false;
	if (!strcmp(req->mode, "tcg")) {
		snprintf(reason, n, "TCG requested");
		return 0;
	}
	uname(&u);
	if (strcmp(u.machine, req->arch->uname_machine)) {
		snprintf(reason, n, "host is %s, guest is %s: TCG", u.machine, req->arch->name);
		if (!strcmp(req->mode, "kvm")) {
			pr_err("--accel kvm: %s", reason);
			return -EINVAL;
		}
		return 0;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, n, "/dev/kvm not usable (%s): TCG", strerror(errno));
		if (!strcmp(req->mode, "kvm")) {
			pr_err("--accel kvm: %s", reason);
			return -ENODEV;
		}
		return 0;
	}
	close(fd);
	if (!strcmp(req->mode, "kvm")) {
		*kvm = true;
		snprintf(reason, n, "KVM requested");
		return 0;
	}

	probe_key(req, key);
	dir = path_join(req->cache, "accel");
	path = dir ? path_join(dir, key) : NULL;
	if (!path)
		return -ENOMEM;
	/* "kvm REASON", "tcg REASON", or "tcg-timeout REASON" (kept an hour). */
	if (stat(path, &st) == 0 && read_file(path, &cached, 4096) == 0 && cached.len > 4) {
		bool timeout = !strncmp(cached.data, "tcg-timeout ", 12);
		size_t skip = timeout ? 12 : 4;

		if (time(NULL) - st.st_mtime < (timeout ? PROBE_TIMEOUT_MAX_AGE : PROBE_CACHE_MAX_AGE) &&
		    cached.len > skip) {
			*kvm = !strncmp(cached.data, "kvm ", 4);
			snprintf(reason, n, "%.*s (cached probe)", (int)strcspn(cached.data + skip, "\n"),
				 cached.data + skip);
			return 0;
		}
	}
	r = run_probe(req, reason, n);
	if (r < 0)
		return r;
	*kvm = r == 1;
	if (!mkdir_p(dir, 0755)) {
		cleanup_free char *text = xasprintf("%s %s\n", *kvm ? "kvm" : r == 2 ? "tcg-timeout" : "tcg", reason);

		if (text)
			write_file_atomic(path, text, strlen(text), 0644);
	}
	pr_info("%s", reason);
	return 0;
}
