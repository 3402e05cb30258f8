/* bench_proc.c — see bench_proc.h. */
#include "bench_proc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

/* utime and stime are fields 14 and 15; the command name (field 2) may hold
 * spaces and parentheses, so fields are counted from its last ')'. */
static bool read_cpu(pid_t pid, double *cpu_s)
{
    char path[64], buf[1024];
    bool ok = false;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        goto out;
    p++;
    /* Field 3 (state) follows; utime is 11 fields after it. */
    for (int field = 3; field < 14; field++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            goto out;
    }
    char *end;
    errno = 0;
    unsigned long long ut = strtoull(p + 1, &end, 10);
    if (errno || end == p + 1)
        goto out;
    unsigned long long st = strtoull(end + 1, &p, 10);
    if (errno || p == end + 1)
        goto out;
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0)
        goto out;
    *cpu_s = (double)(ut + st) / (double)tck;
    ok = true;
out:
    fclose(f);
    return ok;
}

static bool read_mem(pid_t pid, uint64_t *hwm_kb, uint64_t *rss_kb)
{
    char path[64], line[256];
    int found = 0;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    while (fgets(line, sizeof line, f) != NULL && found < 2) {
        unsigned long long v;
        if (sscanf(line, "VmHWM: %llu kB", &v) == 1) {
            *hwm_kb = v;
            found++;
        } else if (sscanf(line, "VmRSS: %llu kB", &v) == 1) {
            *rss_kb = v;
            found++;
        }
    }
    fclose(f);
    return found == 2;
}

void s2l_bench_proc_read(pid_t pid, s2l_bench_proc_sample *out)
{
    memset(out, 0, sizeof *out);
    if (pid <= 0)
        return;
    out->ok = read_cpu(pid, &out->cpu_s) && read_mem(pid, &out->vmhwm_kb, &out->vmrss_kb);
}

uint64_t s2l_bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool s2l_bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool s2l_bench_parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

bool s2l_bench_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (host == NULL)
        return false;
    if (strcmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}
