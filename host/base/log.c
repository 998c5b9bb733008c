/* The logging sink: everything the driver says to a person goes here. */
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level cur_level = LOG_INFO;
static log_sink_fn cur_sink;
static void *cur_ctx;

void log_init_from_env(void)
{
	const char *v = getenv("KTA_LOG");

	if (!v)
		return;
	if (!strcmp(v, "error"))
		cur_level = LOG_ERROR;
	else if (!strcmp(v, "warn"))
		cur_level = LOG_WARN;
	else if (!strcmp(v, "info"))
		cur_level = LOG_INFO;
	else if (!strcmp(v, "debug"))
		cur_level = LOG_DEBUG;
}

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

void log_set_sink(log_sink_fn fn, void *ctx)
{
	cur_sink = fn;
	cur_ctx = ctx;
}

/* errno is restored on the way out, as libbpf's __pr does: callers write
 * `return pr_err("...: %s", strerror(errno)), -errno;`, and stdio may set
 * errno while the message is written. */
void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error: ", "warning: ", "", "debug: " };
	int saved_errno = errno;
	char msg[4096];
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cur_sink)
		cur_sink(level, msg, cur_ctx);
	else
		fprintf(stderr, "kta: %s%s\n", names[level], msg);
	errno = saved_errno;
}
