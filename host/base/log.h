/* One logging sink for the host driver. Levels are set by KTA_LOG
 * (error, warn, info, debug) or --verbose; tests swap the sink to capture.
 */
#ifndef KTA_LOG_H
#define KTA_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

typedef void (*log_sink_fn)(enum log_level level, const char *msg, void *ctx);

void log_init_from_env(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* NULL restores the default sink (stderr, prefixed "kta: "). */
void log_set_sink(log_sink_fn fn, void *ctx);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
