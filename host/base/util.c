/* Host helpers: buffers, files, paths, the cache directory, commands. */
#include "base/util.h"
#include "base/log.h"
#include "base/pathf.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>

int buf_append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	cleanup_free char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return buf_append(b, s, (size_t)n);
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int read_file(const char *path, struct buf *out, size_t max)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char tmp[65536];

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		int err;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		if (max && out->len + (size_t)n > max)
			return -EFBIG;
		err = buf_append(out, tmp, (size_t)n);
		if (err)
			return err;
	}
	if (!out->data)
		return buf_append(out, "", 0);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	cleanup_free char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd, err;

	if (!tmp)
		return -ENOMEM;
	/* O_EXCL: never through a symlink or into a file someone put at the
	 * temporary name (as root, that would clobber its target). A stale
	 * one (a crashed kta of the same pid) is removed, not followed. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = write_all(fd, data, len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int err = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		cleanup_free char *child = NULL;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = path_join(path, de->d_name);
		if (!child) {
			err = -ENOMEM;
			break;
		}
		err = rm_rf(child);
		if (err)
			break;
	}
	closedir(d);
	if (!err && rmdir(path) < 0)
		err = -errno;
	return err;
}

int copy_file(const char *src, const char *dst, mode_t mode)
{
	cleanup_buf struct buf b = { 0 };
	int err = read_file(src, &b, 0);

	if (err)
		return err;
	return write_file_atomic(dst, b.data, b.len, mode);
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (la && a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

int self_dir(char *out, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	char *slash;

	if (n < 0)
		return -errno;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
	return 0;
}

int cache_dir(char *out, size_t size)
{
	const char *v = getenv("KTA_CACHE");
	int n;

	if (v && *v) {
		n = snprintf(out, size, "%s", v);
	} else if ((v = getenv("XDG_CACHE_HOME")) && *v) {
		n = snprintf(out, size, "%s/kta", v);
	} else {
		const char *home = getenv("HOME");
		struct passwd *pw;

		if (!home || !*home) {
			pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : "/tmp";
		}
		n = snprintf(out, size, "%s/.cache/kta", home);
	}
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return mkdir_p(out, 0755);
}

int cache_dir_abs(char *out, size_t size)
{
	char abs[PATH_MAX];
	int err = cache_dir(out, size);

	if (err)
		return pr_err("cannot create the kta cache directory: %s (set KTA_CACHE)", strerror(-err)), err;
	if (!realpath(out, abs))
		return pr_err("cannot resolve the kta cache `%s`: %s", out, strerror(errno)), -errno;
	if (strlen(abs) >= size)
		return -ENAMETOOLONG;
	memcpy(out, abs, strlen(abs) + 1);
	return 0;
}

int check_free_space(const char *dir, uint64_t need_bytes, const char *what)
{
	struct statvfs sv;
	uint64_t avail;

	if (statvfs(dir, &sv) < 0)
		return -errno;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail >= need_bytes)
		return 0;
	pr_err("not enough free disk for %s in `%s`: need %llu MiB, have %llu MiB; "
	       "free some space or point KTA_CACHE at a larger filesystem",
	       what, dir, (unsigned long long)(need_bytes >> 20),
	       (unsigned long long)(avail >> 20));
	return -ENOSPC;
}

uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], need, cp;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0; /* continuation bytes, overlong 2-byte leads, past U+10FFFF */
	need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (n < need)
		return 0;
	cp = c & (0xff >> (need + 1));
	for (unsigned int i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

int kta_data_path(const char *rel, char *out, size_t size)
{
	char dir[PATH_MAX];

	if (!self_dir(dir, sizeof(dir))) {
		if (!pathf(out, size, "%s/../%s", dir, rel) && path_exists(out)) {
			char real[PATH_MAX];

			if (realpath(out, real))
				snprintf(out, size, "%s", real);
			return 0;
		}
		if (!pathf(out, size, "%s/%s", dir, rel) && path_exists(out))
			return 0;
	}
	if (!pathf(out, size, "%s", rel) && path_exists(out))
		return 0;
	return -ENOENT;
}

int kta_out_dir(const char *what, char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	return (size_t)snprintf(out, n, "kta-out/%s-%s-%d", stamp, what, (int)getpid()) >= n ? -ENAMETOOLONG : 0;
}

int kta_self(char *out, size_t size)
{
	const char *env = getenv("KTA_SELF");
	ssize_t n;

	if (env && *env)
		return pathf(out, size, "%s", env);
	n = readlink("/proc/self/exe", out, size - 1);
	if (n <= 0)
		return pr_err("cannot find kta's own executable"), n < 0 ? -errno : -ENOENT;
	out[n] = '\0';
	return 0;
}
