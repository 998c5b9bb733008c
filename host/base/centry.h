/* Cache entries: one way to make, publish, use and remove them.
 *
 * A cache (say $KTA_CACHE/sysroot) holds entries, each a directory
 * <top>/<name>. A writer takes the cache's lock (dirlock.h), builds the
 * entry in <top>/.tmp-<name>-XXXXXX and publishes it with one rename, so a
 * reader sees a whole entry or none. Whoever uses an entry holds a shared
 * flock on its directory until kta exits (centry_hold); a refresh moves an
 * old entry aside and removes it only when nobody holds it, and pruning
 * skips entries in use. Each entry's last use is its directory's mtime,
 * which a hit refreshes: pruning removes the least recently used first.
 */
#ifndef KTA_CENTRY_H
#define KTA_CENTRY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dirlock.h"

struct centry {
	char top[PATH_MAX];
	char dir[PATH_MAX];      /* the published entry */
	char tmp[PATH_MAX];      /* being built ("" none) */
	struct dirlock lock;     /* writers' lock on top */
};

/* Name the entry (creating top); no lock, nothing built. */
int centry_init(struct centry *e, const char *top, const char *name);

/* Writers: take the cache's lock (waiting for another kta, and giving up
 * on a signal: interrupt.h), remove what killed writers left, and make
 * e->tmp (mode 0755). */
int centry_begin(struct centry *e);

/* Publish e->tmp as e->dir. An entry already there is replaced (moved
 * aside, removed unless in use; pruning removes it later). */
int centry_publish(struct centry *e);

/* The same for a directory built elsewhere under top (built), published
 * as dest, for writers that hold top's lock themselves. */
int centry_replace(const char *top, const char *built, const char *dest);

/* Drop e->tmp if not published; release the lock. Idempotent. */
void centry_end(struct centry *e);
#define cleanup_centry __attribute__((cleanup(centry_end)))

/* Users: hold a shared lock on dir until kta exits (children started
 * since inherit nothing: the fd is close-on-exec) and mark it used now.
 * -ENOENT when there is no such entry. */
int centry_hold(const char *dir);

/* Whether anyone holds dir (centry_hold, or a builder's flock on
 * <dir>/.lock: kbuild workspaces). */
bool centry_in_use(const char *dir);

/* Remove the entry dir (a directory under its cache's top) unless it is in
 * use: -EBUSY then. */
int centry_remove(const char *dir);

/* Pruning. */
struct centry_info {
	char name[256];
	uint64_t bytes;
	int64_t mtime;       /* last use */
};

/* Entries used this recently are never pruned (between a lookup and its
 * centry_hold, or a run between writing an archive and QEMU reading it). */
#define CENTRY_GRACE_S 600

/* Pure: which entries to remove to bring the total within cap_bytes,
 * least recently used first, sparing those used within CENTRY_GRACE_S of
 * now; sets victim[i]; returns how many. */
size_t centry_pick_lru(const struct centry_info *e, size_t n, uint64_t cap_bytes, int64_t now, bool *victim);

struct centry_prune_stats {
	unsigned int entries, removed, busy;
	uint64_t bytes, freed;
};

/* Remove least recently used entries of top (directories and files not
 * starting with '.') until it holds at most cap_bytes, and replaced
 * entries (.old-*) nobody holds; entries in use are skipped and counted
 * busy. dry_run: count only. */
int centry_prune(const char *top, uint64_t cap_bytes, bool dry_run, struct centry_prune_stats *st);

/* Bytes under path (files' allocated blocks; links counted once per
 * walk). */
uint64_t centry_du(const char *path);

#endif
