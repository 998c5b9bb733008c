/* The parts of kta's cache ($KTA_CACHE, ~/.cache/kta), what each holds and
 * how big it may grow before kta trims it, least recently used first
 * (base/centry.h). `kta cache` lists and prunes them.
 */
#ifndef KTA_CACHE_H
#define KTA_CACHE_H

#include <stdint.h>

struct cache_kind {
	const char *name;      /* the directory under the cache */
	const char *holds;
	const char *env;       /* the cap's variable (GiB), NULL: no cap */
	unsigned int cap_gb;   /* default cap; 0: trimmed by `kta cache prune` only */
};

const struct cache_kind *cache_kinds(unsigned int *n);
const struct cache_kind *cache_kind(const char *name);

/* The cap of kind in bytes ($env or the default); 0: none. */
uint64_t cache_cap_bytes(const struct cache_kind *k);

/* Trim kind to its cap, quietly; entries in use and used in the last
 * CENTRY_GRACE_S stay. Best effort: a failure costs disk, not the run. */
void cache_trim(const char *name);

#endif
