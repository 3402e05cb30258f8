/* log.h — one line per event to stderr, key=value, with a level.
 * Never pass tokens, passwords or Authorization headers to it. */
#ifndef S2L_LOG_H
#define S2L_LOG_H

#include <stdint.h>

typedef enum { S2L_LOG_ERROR, S2L_LOG_WARN, S2L_LOG_INFO, S2L_LOG_DEBUG } s2l_log_level;

/* "error" | "warn" | "info" | "debug"; unknown names leave the level unchanged. */
void s2l_log_set_level_name(const char *name);
void s2l_log_set_level(s2l_log_level level);
int s2l_log_enabled(s2l_log_level level);
/* Writes "<RFC3339 time> <level> <formatted message>\n" in one write. */
void s2l_log(s2l_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Microseconds on a monotonic clock: for latencies and deadlines, never for
 * timestamps. The one clock of the gateway. */
uint64_t s2l_now_us(void);

#endif
