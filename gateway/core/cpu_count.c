/* cpu_count.c — the CPUs a process may use (see include/s2l/cpu_count.h). */
#include "s2l/cpu_count.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

unsigned s2l_cpu_quota_cpus(const char *text)
{
    if (text == NULL)
        return 0;
    while (*text == ' ' || *text == '\t')
        text++;
    if (strncmp(text, "max", 3) == 0 && (text[3] == ' ' || text[3] == '\t'))
        return 0;
    if (!isdigit((unsigned char)*text))
        return 0;
    char *end;
    unsigned long long quota = strtoull(text, &end, 10);
    if (*end != ' ' && *end != '\t')
        return 0;
    while (*end == ' ' || *end == '\t')
        end++;
    if (!isdigit((unsigned char)*end))
        return 0;
    unsigned long long period = strtoull(end, &end, 10);
    if ((*end != '\0' && *end != '\n') || period == 0)
        return 0;
    unsigned long long cpus = (quota + period - 1) / period;
    if (cpus == 0)
        cpus = 1;
    return cpus > 4096 ? 4096 : (unsigned)cpus;
}

unsigned s2l_cpu_usable(unsigned online, unsigned affinity, unsigned quota)
{
    unsigned n = affinity ? affinity : online;
    if (quota && (n == 0 || quota < n))
        n = quota;
    return n ? n : 1;
}
