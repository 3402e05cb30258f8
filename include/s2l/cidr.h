/* cidr.h — IP addresses and CIDR blocks (IPv4 and IPv6) for allow lists.
 *
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.1, what a dual-stack listener
 * reports for IPv4 clients) is stored as the IPv4 address, so "192.0.2.0/24"
 * matches it. Plain values, no allocation.
 */
#ifndef S2L_CIDR_H
#define S2L_CIDR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct s2l_ip {
    unsigned char family;    /* 4 or 6 */
    unsigned char addr[16];  /* network order; IPv4 in the first 4 bytes */
} s2l_ip;

typedef struct s2l_cidr {
    s2l_ip net;
    unsigned prefix;         /* 0..32 or 0..128 */
} s2l_cidr;

#define S2L_IP_TEXT_MAX 48

/* "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1". 0 or -1. */
int s2l_ip_parse(const char *text, s2l_ip *out);
/* From raw bytes (4 or 16 of them), as a socket address gives them. 0 or -1. */
int s2l_ip_from_bytes(const void *bytes, size_t len, s2l_ip *out);
/* Text form into buf (at least S2L_IP_TEXT_MAX bytes). */
void s2l_ip_format(const s2l_ip *ip, char *buf, size_t len);

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits
 * beyond the prefix must be zero ("10.1.0.0/8" is a typo, not a network).
 * 0, or -1 with a reason in why (static text). */
int s2l_cidr_parse(const char *text, s2l_cidr *out, const char **why);
bool s2l_cidr_match(const s2l_cidr *c, const s2l_ip *ip);

#endif
