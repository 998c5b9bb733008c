/* A private apt configuration for fetching Debian packages: its own
 * sources.list, package lists and cache under the kta cache, never the
 * system's apt state. Two flavours: binary packages per architecture
 * (kernels) and source packages (deb-src, e.g. libbpf for the guest
 * toolchain). The archive URI is taken from the system's sources.
 */
#ifndef KTA_APT_H
#define KTA_APT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

struct apt {
	char dir[PATH_MAX];      /* $cache/apt: sources.list, apt.conf */
	char arch_dir[PATH_MAX]; /* $cache/apt/<deb_arch> (or source): lists/, cache/ */
	char sources[PATH_MAX];
	char conf[PATH_MAX];
	char lists[PATH_MAX];
	char cache[PATH_MAX];
	char stamp[PATH_MAX];    /* written after a successful update */
	char deb_arch[32];       /* empty for a source configuration */
	char uri[512];
	bool source;             /* deb-src lines only: apt_init_source() */
	/* APT::Default-Release: prefer this suite's versions (""): e.g.
	 * bookworm's libraries, built against the cross toolchain's libc. */
	char release[32];
};

/* The Debian archive to use: $KTA_APT_URI, else the first Debian archive
 * (not the security archive) in /etc/apt/sources.list.d/ *.sources or
 * /etc/apt/sources.list. */
int apt_archive_uri(char *out, size_t size);

/* Pure parsers behind apt_archive_uri(), for tests: the first archive URI
 * in a deb822 .sources text or a one-line-style sources.list text. */
int apt_uri_from_deb822(const char *text, char *out, size_t size);
int apt_uri_from_list(const char *text, char *out, size_t size);

/* Set up the private configuration under cache_root (writes sources.list
 * and apt.conf when their content changed). */
int apt_init(struct apt *apt, const char *cache_root, const char *deb_arch);

/* The same for Debian source packages: deb-src lines for the same suites
 * in $cache/apt/sources-src.list, lists and cache under $cache/apt/source.
 * Kept apart from the binary lists so that a kernel fetch never downloads
 * the ~35 MB of Sources indexes, and a source fetch never the Packages. */
int apt_init_source(struct apt *apt, const char *cache_root);

/* Age of the package lists in seconds; -ENOENT when there are none (or
 * they were fetched from another archive URI). */
int64_t apt_lists_age(const struct apt *apt);

/* `apt-get update` into the private lists. */
int apt_update(const struct apt *apt);

struct dirlock;
/* Lists no older than max_age_s: update them under lock (taken here and
 * kept: the caller's fetch goes on under it) unless another process did
 * while we waited. *updated says this process refreshed them, and skips
 * further updates. Stale lists beat none: on a failed update with old
 * lists, warn and return 0. apt_err is apt_init()'s result. */
int apt_ensure_lists(const struct apt *apt, int apt_err, int64_t max_age_s, struct dirlock *lock,
		     bool *updated);

/* Package names starting with prefix, one per line. For the kernel
 * packages (linux-image-, linux-base-, linux-binary-, linux-modules-) from
 * a small index rebuilt after every update: apt-cache takes ~1.5 s to load
 * the lists, too slow for every `kta run`. */
int apt_pkgnames(const struct apt *apt, const char *prefix, struct buf *out);

/* `apt-cache show` for a NULL-terminated list of packages, in one run
 * (each apt run spends ~1.5 s loading the lists). Names apt does not know
 * are silently absent from the output. */
int apt_show(const struct apt *apt, const char *const *pkgs, struct buf *out);

/* Download the NULL-terminated "pkg=version" specs into dir, in one run. */
int apt_download(const struct apt *apt, const char *const *specs, const char *dir);

/* apt_download() into debs_dir, then `dpkg-deb -x` each into dest; the
 * .deb files are removed. Every spec must have given one .deb. */
int apt_download_unpack(const struct apt *apt, const char *const *specs, const char *debs_dir,
			const char *dest);

/* Source configuration: `apt-cache showsrc name` (deb822 stanzas, one per
 * suite that has it); -ENOENT when apt knows no such source or binary
 * package. */
int apt_showsrc(const struct apt *apt, const char *name, struct buf *out);

/* Source configuration: download the .dsc and the files it names for the
 * source package "name=version" into dir (hashes checked by apt against
 * the signed Sources index); nothing is unpacked. */
int apt_source_download(const struct apt *apt, const char *spec, const char *dir);

/* One field of one deb822 stanza (`Size`, `Version`, `Depends`, ...);
 * -ENOENT when absent. */
/* Copy a field's value (the rest of its line, trimmed) into out. */
void apt_field_value(const char *p, const char *end, char *out, size_t size);
int deb822_field(const char *stanza, size_t len, const char *field, char *out, size_t size);
/* The stanzas of apt-cache output, one at a time: returns the next one
 * (its length in *len) and advances *cursor, or NULL at the end.
 *   size_t len;
 *   for (const char *cur = text, *s; (s = deb822_next(&cur, &len));) ... */
const char *deb822_next(const char **cursor, size_t *len);
/* " V" for each stanza's Version field, appended to out. */
void deb822_versions(const char *text, struct buf *out);


/* Compare Debian version strings the way dpkg does: <0, 0, >0. */
int deb_version_cmp(const char *a, const char *b);

#endif
