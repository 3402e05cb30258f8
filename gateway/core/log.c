/* log.c — single-write log lines, so lines from one process never interleave. */
#include "s2l/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static s2l_log_level current = S2L_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void s2l_log_set_level(s2l_log_level level)
{
    current = level;
}

void s2l_log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, names[i]) == 0)
            current = (s2l_log_level)i;
}

uint64_t s2l_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int s2l_log_enabled(s2l_log_level level)
{
    return level <= current;
}

void s2l_log(s2l_log_level level, const char *fmt, ...)
{
    if (level > current)
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", (long)(tv.tv_usec / 1000), names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* One write(2) per line; a short write to stderr is not worth retrying. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
