/* bench_proc.h — what the benchmark reads about processes and time.
 *
 * CPU time comes from /proc/<pid>/stat (utime + stime, in clock ticks, so the
 * resolution is 1/CLK_TCK s: measure windows of seconds, not milliseconds);
 * memory from /proc/<pid>/status (VmHWM = peak resident set, VmRSS = now).
 */
#ifndef S2L_BENCH_PROC_H
#define S2L_BENCH_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct s2l_bench_proc_sample {
    bool ok;                /* false: the process was not readable (gone, or pid 0) */
    double cpu_s;           /* utime + stime, seconds */
    uint64_t vmhwm_kb;
    uint64_t vmrss_kb;
} s2l_bench_proc_sample;

/* pid 0 = "no process": returns a sample with ok = false. */
void s2l_bench_proc_read(pid_t pid, s2l_bench_proc_sample *out);

/* CLOCK_MONOTONIC in microseconds. */
uint64_t s2l_bench_now_us(void);

/* Parses a decimal number in [min, max]; false on anything else (no silent atoi). */
bool s2l_bench_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out);
bool s2l_bench_parse_double(const char *s, double min, double max, double *out);

/* True for 127.0.0.0/8, ::1 and "localhost": the benchmark never leaves loopback. */
bool s2l_bench_is_loopback(const char *host);

#endif
