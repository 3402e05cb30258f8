/* test_cpu_count.c — the default number of workers: cgroup v2 cpu.max texts
 * and the smallest of affinity and quota (gateway/core/cpu_count.c). */
#include "s2l/cpu_count.h"
#include "unit.h"

int main(void)
{
    /* no quota */
    CHECK_INT(s2l_cpu_quota_cpus("max 100000\n"), 0);
    CHECK_INT(s2l_cpu_quota_cpus("max 100000"), 0);
    /* whole, fractional (rounded up) and tiny quotas */
    CHECK_INT(s2l_cpu_quota_cpus("200000 100000\n"), 2);
    CHECK_INT(s2l_cpu_quota_cpus("150000 100000\n"), 2);
    CHECK_INT(s2l_cpu_quota_cpus("50000 100000\n"), 1);
    CHECK_INT(s2l_cpu_quota_cpus("1 100000"), 1);
    CHECK_INT(s2l_cpu_quota_cpus("400000 50000"), 8);
    /* not cpu.max */
    CHECK_INT(s2l_cpu_quota_cpus(""), 0);
    CHECK_INT(s2l_cpu_quota_cpus(NULL), 0);
    CHECK_INT(s2l_cpu_quota_cpus("200000"), 0);
    CHECK_INT(s2l_cpu_quota_cpus("200000 0"), 0);
    CHECK_INT(s2l_cpu_quota_cpus("-1 100000"), 0);
    CHECK_INT(s2l_cpu_quota_cpus("200000 100000 x"), 0);
    CHECK_INT(s2l_cpu_quota_cpus("maximum 100000"), 0);
    /* absurd quotas are capped */
    CHECK_INT(s2l_cpu_quota_cpus("99999999999 1"), 4096);

    /* the smallest of affinity and quota; online when affinity is unknown */
    CHECK_INT(s2l_cpu_usable(64, 0, 0), 64);
    CHECK_INT(s2l_cpu_usable(64, 8, 0), 8);
    CHECK_INT(s2l_cpu_usable(64, 8, 2), 2);
    CHECK_INT(s2l_cpu_usable(64, 2, 8), 2);
    CHECK_INT(s2l_cpu_usable(64, 0, 3), 3);
    CHECK_INT(s2l_cpu_usable(0, 0, 0), 1);
    return UNIT_DONE();
}
