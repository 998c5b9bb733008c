/* Subcommand entry points. Each returns a process exit code (results.h). */
#ifndef KTA_CMD_H
#define KTA_CMD_H

int cmd_run(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_source(int argc, char **argv);
int cmd_patches(int argc, char **argv);
int cmd_arch(int argc, char **argv);
/* `kta kernel build` (argv[0] is "build"), dispatched by cmd_kernel(). */
int cmd_kernel_build(int argc, char **argv);
/* `kta kernel source` (argv[0] is "source"). */
int cmd_kernel_source(int argc, char **argv);

#endif
