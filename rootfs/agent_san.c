/* Sanitizer logs. Each test's ASAN/LSAN/UBSAN log_path points into its own
 * directory, so every report (one file per process: <tool>.<pid>) belongs
 * to exactly one test; after the test the agent sends them to the host as
 * `san` frames and removes them.
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int san_prepare(const struct plan_test *t)
{
	char dir[64];

	if (mkdir(AGENT_SAN_DIR, 0777) && errno != EEXIST)
		return -errno;
	snprintf(dir, sizeof(dir), "%s/%u", AGENT_SAN_DIR, t->num);
	if (mkdir(dir, 0777) && errno != EEXIST)
		return -errno;
	/* Tests may drop privileges or enter user namespaces. */
	chmod(dir, 0777);
	return 0;
}

static void send_file(struct agent *a, const struct plan_test *t, const char *dir,
		      const char *name, size_t *budget)
{
	char path[512], hdr[320];
	char *data;
	size_t len, off = 0;
	int hlen;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, &data, &len)) {
		agent_diag(a, "cannot read sanitizer log %s", path);
		return;
	}
	hlen = snprintf(hdr, sizeof(hdr), "%u %s\n", t->num, name);
	do {
		char frame[AGENT_OUT_CHUNK];
		size_t n = len - off;

		if (n > sizeof(frame) - (size_t)hlen)
			n = sizeof(frame) - (size_t)hlen;
		if (n > *budget)
			n = *budget;
		memcpy(frame, hdr, (size_t)hlen);
		memcpy(frame + hlen, data + off, n);
		port_send(&a->port, REC_SAN, frame, (size_t)hlen + n);
		off += n;
		*budget -= n;
	} while (off < len && *budget);
	free(data);
	unlink(path);
}

void san_forward(struct agent *a, const struct plan_test *t)
{
	char dir[64];
	size_t budget = AGENT_SAN_CAP;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%u", AGENT_SAN_DIR, t->num);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!budget) {
			agent_diag(a, "test %u: sanitizer logs over %u bytes, rest dropped", t->num,
				   AGENT_SAN_CAP);
			break;
		}
		send_file(a, t, dir, de->d_name, &budget);
	}
	closedir(d);
}

void san_since(const struct plan_test *t, const struct timespec *since, char *out, size_t size)
{
	char dir[64];
	size_t len = 0;
	struct dirent *de;
	DIR *d;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/%u", AGENT_SAN_DIR, t->num);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char path[512];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || st.st_mtim.tv_sec < since->tv_sec ||
		    (st.st_mtim.tv_sec == since->tv_sec && st.st_mtim.tv_nsec < since->tv_nsec))
			continue;
		if (len + strlen(de->d_name) + 2 >= size)
			break;
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "", de->d_name);
	}
	if (d)
		closedir(d);
}
