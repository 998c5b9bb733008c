/* The test plan, /kta/plan in the initramfs: written by the host through
 * the writers below (plan.c) and read by the agent (rootfs/agent_plan.c),
 * both from this header, like the frames of proto.h.
 *
 *   # kta plan v1
 *   env KEY=VALUE                              any number; for every test
 *   tenv KEY=VALUE                             for the next test line only
 *   test <timeout_s> <name> <path> [args...]   one per test, in run order
 *   topt root=DIR | cwd=DIR | parse=test_progs | subtimeout=S
 *                                              for the next test line only
 *   disk <dev> <dir>                           mount /dev/<dev> (ext4, read-only)
 *                                              at dir, as a root tests chroot into
 *   root <dir>                                 dir (in the initramfs) as such a root
 *   image <dev> <fstype> <dir> <out>           mount /dev/<dev> read-write at dir: a
 *                                              user's image (its overlay), /kta bound
 *                                              into it, <out> made in it (KTA_OUT)
 *   stress hogs=N nice=K mem=MB                load during every test (agent_stress.c)
 *
 * Fields are separated by spaces or tabs, with no quoting; an env line's
 * KEY=VALUE runs to the end of the line, so a value may hold spaces. Blank
 * lines and lines starting with '#' are ignored; a timeout of 0 means no
 * deadline. The writers refuse what the reader would split or misread (a
 * space in a name or path, a newline anywhere, an env line without '='),
 * so a plan kta writes is read as written; the reader reports a bad line
 * as a diag and skips it, and the host checks each result's test name
 * against the plan (a lost line is a channel error, not shifted results).
 */
#ifndef KTA_PLAN_H
#define KTA_PLAN_H

#define PLAN_MAGIC "# kta plan v1"
#define PLAN_ENV "env"
#define PLAN_TENV "tenv"
#define PLAN_TEST "test"
#define PLAN_TOPT "topt"
#define PLAN_DISK "disk"
#define PLAN_ROOT "root"
#define PLAN_IMAGE "image"
#define PLAN_STRESS "stress"
#define PLAN_TOPT_ROOT "root="
#define PLAN_TOPT_CWD "cwd="
#define PLAN_TOPT_PARSE_TPROGS "parse=test_progs"
#define PLAN_TOPT_SUBTIMEOUT "subtimeout="

/* At most this many words on a line (a test's arguments). */
#define PLAN_MAX_ARGS 64
#define PLAN_MAX_TIMEOUT_S 1000000u
#define PLAN_STRESS_MAX_HOGS 64
#define PLAN_STRESS_MAX_MEM_MB 65536

#include <stddef.h>

struct buf;

/* The host's writers (plan.c; the agent only reads). Each appends one line
 * to b: 0, -EINVAL for what the agent would misread, -ENOMEM. */
int planw_begin(struct buf *b);
int planw_env(struct buf *b, const char *kv, int per_test);
int planw_topt(struct buf *b, const char *opt, const char *value);
int planw_test(struct buf *b, unsigned int timeout_s, const char *name, const char *path,
	       const char *const *args, size_t nargs);
int planw_disk(struct buf *b, const char *dev, const char *dir);
int planw_root(struct buf *b, const char *dir);
int planw_image(struct buf *b, const char *dev, const char *fstype, const char *dir, const char *out);
int planw_stress(struct buf *b, unsigned int hogs, int nice, unsigned int mem_mb);

#endif
