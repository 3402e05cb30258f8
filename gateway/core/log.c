/* log.c — single-write log lines, so lines from one process never interleave;
 * escaping and bounding in log_text.c. */
#include "s2l/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Atomic: a reload on one event-loop worker sets it while others log. */
static _Atomic int current = S2L_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void s2l_log_set_level(s2l_log_level level)
{
    current = level;
}

void s2l_log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, names[i]) == 0)
            current = i;
}

uint64_t s2l_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int s2l_log_enabled(s2l_log_level level)
{
    return (int)level <= current;
}

void s2l_log(s2l_log_level level, const char *fmt, ...)
{
    if ((int)level > current)
        return;
    char msg[S2L_LOG_LINE_MAX];
    char *whole = NULL;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *text = msg;
    size_t tlen = m < 0 ? 0 : (size_t)m;
    if (m >= 0 && (size_t)m >= sizeof msg) {
        /* Longer than a line: format it whole so that s2l_log_fit can keep its
         * end (status, latency) and cut its middle. */
        whole = malloc((size_t)m + 1);
        if (whole != NULL && vsnprintf(whole, (size_t)m + 1, fmt, again) == m)
            text = whole;
        else
            tlen = sizeof msg - 1;
    }
    va_end(again);

    char line[S2L_LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    int p = snprintf(line + n, sizeof line - n, ".%03ldZ %s ", (long)(tv.tv_usec / 1000), names[level]);
    n += p > 0 ? (size_t)p : 0;
    /* One byte stays free for the newline. */
    n += s2l_log_fit(line + n, sizeof line - n - 1, text, tlen);
    line[n++] = '\n';
    free(whole);
    /* One write(2) per line; a short write to stderr is not worth retrying. */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
