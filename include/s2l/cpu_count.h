/* cpu_count.h — how many CPUs the process may really use, for the default
 * number of event-loop workers (gateway/workers.h).
 *
 * A container limited to 2 CPUs on a 64-core host still sees 64 online CPUs;
 * one event loop per online CPU would then open 64 LDAP pools. The usable
 * count is the smallest of: the CPUs in the process's affinity mask (what
 * `--cpuset-cpus` / taskset allow) and the cgroup v2 CPU quota (`cpu.max`,
 * what `--cpus` / CPUQuota= allow), rounded up.
 *
 * Pure: the shell reads the files and the affinity mask and passes them in.
 */
#ifndef S2L_CPU_COUNT_H
#define S2L_CPU_COUNT_H

/* CPUs a cgroup v2 cpu.max text allows ("max 100000" → 0 = no quota;
 * "150000 100000" → 2: the quota over the period, rounded up; at least 1).
 * 0 for text that is not "<quota|max> <period>". */
unsigned s2l_cpu_quota_cpus(const char *cpu_max);

/* The usable CPUs: affinity (0 = unknown, then online), limited by quota
 * (0 = none); at least 1. */
unsigned s2l_cpu_usable(unsigned online, unsigned affinity, unsigned quota);

#endif
