/* cidr.c — address parsing and prefix matching (see include/s2l/cidr.h). */
#include "s2l/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int s2l_ip_from_bytes(const void *bytes, size_t len, s2l_ip *out)
{
    memset(out, 0, sizeof *out);
    if (len == 4) {
        out->family = 4;
        memcpy(out->addr, bytes, 4);
        return 0;
    }
    if (len == 16) {
        if (memcmp(bytes, v4_mapped, sizeof v4_mapped) == 0) {
            out->family = 4;
            memcpy(out->addr, (const unsigned char *)bytes + 12, 4);
        } else {
            out->family = 6;
            memcpy(out->addr, bytes, 16);
        }
        return 0;
    }
    return -1;
}

int s2l_ip_parse(const char *text, s2l_ip *out)
{
    unsigned char buf[16];
    if (strchr(text, ':') == NULL)
        return inet_pton(AF_INET, text, buf) == 1 ? s2l_ip_from_bytes(buf, 4, out) : -1;
    return inet_pton(AF_INET6, text, buf) == 1 ? s2l_ip_from_bytes(buf, 16, out) : -1;
}

void s2l_ip_format(const s2l_ip *ip, char *buf, size_t len)
{
    if (inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->addr, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
}

int s2l_cidr_parse(const char *text, s2l_cidr *out, const char **why)
{
    char addr[S2L_IP_TEXT_MAX];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    *why = "is not an IP address or CIDR block";
    if (alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, text, alen);
    addr[alen] = 0;
    if (s2l_ip_parse(addr, &out->net) < 0)
        return -1;
    unsigned max = out->net.family == 4 ? 32 : 128;
    /* "::ffff:10.0.0.0/104" is an IPv4 block written in IPv6. */
    bool mapped = out->net.family == 4 && strchr(addr, ':') != NULL;
    if (slash == NULL) {
        out->prefix = max;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long p = strtoul(slash + 1, &end, 10);
    if (slash[1] < '0' || slash[1] > '9' || *end || errno) {
        *why = "has a malformed prefix length";
        return -1;
    }
    if (mapped) {
        if (p < 96 || p > 128) {
            *why = "has a prefix length out of range";
            return -1;
        }
        p -= 96;
    }
    if (p > max) {
        *why = "has a prefix length out of range";
        return -1;
    }
    out->prefix = (unsigned)p;
    for (unsigned bit = out->prefix; bit < max; bit++) {
        if (out->net.addr[bit / 8] & (0x80u >> (bit % 8))) {
            *why = "has address bits set beyond the prefix length";
            return -1;
        }
    }
    return 0;
}

bool s2l_cidr_match(const s2l_cidr *c, const s2l_ip *ip)
{
    if (c->net.family != ip->family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->net.addr, ip->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned mask = (0xffu << (8 - rest)) & 0xffu;
    return (c->net.addr[full] & mask) == (ip->addr[full] & mask);
}
