/* log.h — one line per event to stderr, key=value, with a level.
 * Never pass tokens, passwords or Authorization headers to it.
 *
 * Client data in a line (paths, names, DNs, server diagnostics that echo
 * them): give it as a quoted field built with s2l_log_quote, so that it can
 * neither end the line nor fake another field. s2l_log itself escapes any
 * control character left in a message and never lets a line exceed
 * S2L_LOG_LINE_MAX: an over-long message loses its middle, not its end, so
 * fields written last (status, latency) always appear.
 */
#ifndef S2L_LOG_H
#define S2L_LOG_H

#include <stddef.h>
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

/* ---- formatting (pure: gateway/core/log_text.c) ---- */

/* Longest line s2l_log writes, newline included: PIPE_BUF on Linux, so one
 * write(2) of a line to a pipe is atomic and lines never interleave. */
#define S2L_LOG_LINE_MAX 4096

/* Smallest cap s2l_log_quote works with. */
#define S2L_LOG_QUOTE_MIN 32

/* Writes src[0..len) (may hold NUL) into dst as one double-quoted value that
 * no byte of it can escape from: '"' and '\' get a backslash; \n \r \t are
 * written so; other control bytes, DEL and bytes that are not valid UTF-8 as
 * \xHH; C1 controls, line/paragraph separators and bidirectional controls as
 * \uHHHH; other UTF-8 text as is. When that does not fit in cap bytes (NUL
 * included), the value is cut at a character boundary and ends with
 * "...[+N]" inside the quotes, N being the number of source bytes left out.
 * Returns the length written (< cap); writes "" and returns 0 when cap <
 * S2L_LOG_QUOTE_MIN. */
size_t s2l_log_quote(char *dst, size_t cap, const char *src, size_t len);

/* Writes a formatted message (msg[0..len)) for a log line into dst: the same
 * escaping as s2l_log_quote except that '"' and '\' are kept (they are the
 * message's own quoting). When the result does not fit in cap bytes (NUL
 * included), its middle is replaced by "...[N bytes cut]..." (N source bytes),
 * keeping two thirds of the room for the start and one third for the end.
 * Returns the length written (< cap, or 0 when cap is 0). */
size_t s2l_log_fit(char *dst, size_t cap, const char *msg, size_t len);

#endif
