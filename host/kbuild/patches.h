/* A patch series (quilt-style `series` file: one patch per line, `#`
 * comments, an optional -pN) applied to a kernel tree in order, with one
 * status per patch: applied, already applied (the reverse applies), or a
 * conflict, whose rejected hunks are saved and explained (which file and
 * hunk, and whether the file or the function it changes exists in the tree).
 */
#ifndef KTA_PATCHES_H
#define KTA_PATCHES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

enum patch_status {
	PATCH_PENDING,          /* not looked at (yet) */
	PATCH_APPLIED,          /* applied cleanly by this run */
	PATCH_APPLIES,          /* --dry-run: would apply cleanly */
	PATCH_ALREADY_APPLIED,  /* the reverse applies: the tree has it */
	PATCH_CONFLICT,         /* neither: rejected hunks saved */
	PATCH_SKIPPED,          /* after a conflict, without --allow-conflicts */
};

const char *patch_status_name(enum patch_status s);

struct patch {
	char name[256];         /* as the series names it */
	char path[PATH_MAX];
	int strip;              /* -pN, default 1 */
	enum patch_status status;
	char *detail;           /* conflict: what failed and why (malloc'ed) */
	char rej[PATH_MAX];     /* conflict: the saved rejected hunks */
};

struct patch_series {
	char path[PATH_MAX];    /* the series file, or the single patch */
	struct patch *v;
	size_t n;
	char sha256[65];        /* of every patch's name, -p and content, in order */
};

/* Load a series file (or a directory holding one, or a single patch
 * file): every patch must exist and be a patch. -ENOENT, -EINVAL with the
 * reason logged. */
int patch_series_load(const char *path, struct patch_series *s);
void patch_series_free(struct patch_series *s);

struct patch_opts {
	bool dry_run;           /* check only: statuses applies/already-applied/conflict */
	bool allow_conflicts;   /* go on past a conflict */
	const char *artifacts;  /* where conflicts' .rej and logs go (created on demand) */
};

/* Apply s to tree in order, filling each patch's status. Returns the
 * number of conflicts (>= 0), or a negative errno when a patch cannot be
 * tried at all (git missing, a corrupt patch: -EINVAL, logged). Stops at
 * the first conflict unless o->allow_conflicts (later patches: skipped). */
int patches_apply(const char *tree, struct patch_series *s, const struct patch_opts *o);

/* Pure helpers, for tests. */
/* Does text hold at least one file diff with a hunk (or a git binary patch)? */
bool patch_text_is_patch(const char *text);
/* The tree paths a patch touches (after stripping -pN), one per line;
 * /dev/null sides are left out. */
int patch_text_files(const char *text, int strip, struct buf *out);
/* The C functions a hunk text names: its @@ heading's function and any
 * definition among its context and removed lines, as " a b " (at most
 * size bytes). */
void patch_hunk_functions(const char *hunk, size_t len, char *out, size_t size);

#endif
