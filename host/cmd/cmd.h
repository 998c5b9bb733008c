/* Subcommand entry points. Each returns a process exit code (results.h). */
#ifndef KTA_CMD_H
#define KTA_CMD_H

#include <stdio.h>

int cmd_run(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_source(int argc, char **argv);
int cmd_patches(int argc, char **argv);
int cmd_arch(int argc, char **argv);
int cmd_toolchain(int argc, char **argv);
int cmd_selftests(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_bisect(int argc, char **argv);
int cmd_cache(int argc, char **argv);
/* `kta kernel build` (argv[0] is "build"), dispatched by cmd_kernel(). */
int cmd_kernel_build(int argc, char **argv);
/* `kta kernel source` (argv[0] is "source"). */
int cmd_kernel_source(int argc, char **argv);

/* `kta CMD VERB ...`: -1 to go on with verb; else the exit code, after the
 * usage (no verb, or help) or a message naming the known verbs. */
int cmd_verb(const char *cmd, const char *verb, const char *const *verbs, void (*usage)(FILE *));
/* After getopt: -1 when argv has nothing past optind, else EXIT_USAGE after
 * naming the first leftover (and the usage, when given). */
int cmd_no_more_args(int argc, char **argv, int first, void (*usage)(FILE *));
/* A number option (0 to 1,000,000): 0, or -EINVAL after naming it. */
int cmd_parse_uint(const char *opt, const char *s, unsigned int *out);
/* A probability strictly between 0 and max (an error rate: 0.5; a rate: 1),
 * or -EINVAL after naming the option. */
int cmd_parse_prob(const char *opt, const char *s, double max, double *out);

#endif
