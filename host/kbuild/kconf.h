/* Kernel configuration fragments (the kernel-config/NAME.config files) and the check
 * that every option they ask for survived `olddefconfig`, with the reason
 * when one did not: the Kconfig dependency that is not met, read from the
 * tree's own Kconfig files (kconf_index.c).
 */
#ifndef KTA_KCONF_H
#define KTA_KCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

/* One line of a fragment: CONFIG_X=value or "# CONFIG_X is not set". */
struct kopt {
	char sym[128];      /* without the CONFIG_ prefix: "VIRTIO_PCI" */
	char value[256];    /* "y", "m", "\"text\"", "100"; "" when unset */
	bool unset;         /* "# CONFIG_X is not set" */
	char frag[64];      /* the fragment's name, for messages */
	unsigned int line;
	/* From a fragment kta does not own (the tree's selftests config):
	 * checked and reported, but not surviving is not an error. */
	bool advisory;
};

struct kopts {
	struct kopt *v;
	size_t n;
};

/* Parse a fragment's text and add its options to out; a later line (or
 * fragment) for the same symbol replaces the earlier one, as
 * merge_config.sh does. Blank lines and comments are skipped; any other
 * line is an error (-EINVAL, described in err). */
int kfrag_parse(const char *text, const char *frag, struct kopts *out, char *err, size_t errsize);
void kopts_free(struct kopts *o);

/* sym (without CONFIG_) in a .config text: 1 and its value in out when
 * set, 0 when "# CONFIG_sym is not set", -ENOENT when absent. */
int kconfig_value(const char *config, const char *sym, char *out, size_t size);

/* The number of .config lines setting an option (CONFIG_X=...). */
size_t kconfig_count(const char *config);

/* The Kconfig symbols of a tree, from the files its top-level Kconfig
 * sources for one architecture (kconf_index.c). */
struct ksym {
	char *name;         /* without CONFIG_ */
	char *file;         /* relative to the tree */
	unsigned int line;
	char *deps;         /* "A && (B || C)": depends on, enclosing if/menu/choice; NULL: none */
	char *prompt_if;    /* condition of a conditional prompt, NULL if none */
	bool prompt;        /* user-visible (has a prompt) */
};

struct kselect {
	char *target;       /* the selected symbol */
	char *by;           /* the selecting symbol */
	char *cond;         /* "if" condition, NULL if none */
	char *file;
	unsigned int line;
};

struct kindex {
	struct ksym *syms;  /* sorted by name; a name defined twice appears twice */
	size_t nsyms;
	struct kselect *sels;
	size_t nsels;
	size_t nfiles;      /* Kconfig files read */
	char sha256[65];    /* of every file read (path and content), in reading order */
};

/* Read the Kconfig files of tree for srcarch ("x86", "arm64"): the
 * top-level Kconfig and everything it sources. -ENOENT when the tree has
 * no Kconfig. */
int kindex_load(const char *tree, const char *srcarch, struct kindex *ix);
void kindex_free(struct kindex *ix);
/* The first definition of name, NULL if the tree has none. */
const struct ksym *kindex_find(const struct kindex *ix, const char *name);

/* Evaluate a Kconfig expression against a .config text: 2 (y), 1 (m) or 0
 * (n). Unknown or unset symbols are n; comparisons (=, !=, <, >=, ...)
 * compare numbers numerically, else as strings. Nested deeper than 64
 * levels of ( and !: n. */
int kexpr_eval(const char *expr, const char *config);

/* Options the tree does not define at all: one line each in report;
 * returns how many. */
size_t kcheck_unknown(const struct kopts *want, const struct kindex *ix, struct buf *report,
		      struct buf *advisory);

/* Both checks: an advisory option's paragraph goes to advisory (or
 * nowhere when it is NULL) and is not counted. */
/* Options whose value in config is not what want asks for: a paragraph
 * each in report (what was asked, by which fragment and line, what the
 * config has, and the unmet dependency or the selecting option that
 * Kconfig names); returns how many. ix may be NULL (no reasons). */
size_t kcheck_survival(const struct kopts *want, const char *config, const struct kindex *ix,
		       struct buf *report, struct buf *advisory);

#endif
