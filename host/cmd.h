/* Subcommand entry points. Each returns a process exit code (results.h). */
#ifndef KTA_CMD_H
#define KTA_CMD_H

int cmd_run(int argc, char **argv);
int cmd_kernel(int argc, char **argv);
int cmd_source(int argc, char **argv);

#endif
