/* log_text.c — escaping and bounding of log text (see include/s2l/log.h).
 *
 * Pure. A log line is read by people in terminals and by programs that split
 * on newlines and on `key=value` pairs, so no byte a client chose may end a
 * line, open a quoted field or reach a terminal as a control sequence; and a
 * line has a fixed maximum size, so a long value must give way to the fields
 * after it, never the reverse.
 */
#include "s2l/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 when there is none; *cp gets the
 * code point. */
static size_t utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        *cp = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        *cp = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned b = s[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
            return 0;
        *cp = (*cp << 6) | (b & 0x3f);
    }
    return n;
}

/* Characters that are valid text but harmful in a log viewed in a terminal or
 * an editor: C1 controls (U+0080..U+009F, e.g. the one-byte CSI), line and
 * paragraph separators, and the bidirectional overrides that make a line read
 * differently from what it holds. */
static bool harmful_cp(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

/* The escaped form of the character at s (at most 6 bytes, into out); *used
 * receives how many source bytes it stands for. quote: the text goes inside a
 * double-quoted field, so '"' and '\' are escaped too. */
static size_t escape_one(const unsigned char *s, size_t avail, bool quote, char out[8], size_t *used)
{
    unsigned c = s[0];
    uint32_t cp;
    *used = 1;
    if (quote && (c == '"' || c == '\\')) {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
        out[0] = '\\';
        out[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    size_t n = c >= 0x80 ? utf8_seq(s, avail, &cp) : 0;
    if (n == 0) {
        /* Control byte, DEL, or a byte that is not part of valid UTF-8. */
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hexdigits[c >> 4];
        out[3] = hexdigits[c & 15];
        return 4;
    }
    *used = n;
    if (harmful_cp(cp)) {
        out[0] = '\\';
        out[1] = 'u';
        for (int i = 0; i < 4; i++)
            out[2 + i] = hexdigits[(cp >> (12 - 4 * i)) & 15];
        return 6;
    }
    memcpy(out, s, n);
    return n;
}

/* Whether src[0..len) is printable ASCII that needs no escape (and, when
 * quote, holds no '"' or '\\'): it is then written as it is. Nearly every
 * line is: the access line of each request goes through here. */
static bool plain(const unsigned char *src, size_t len, bool quote)
{
    for (size_t i = 0; i < len; i++) {
        unsigned c = src[i];
        if (c < 0x20 || c >= 0x7f || (quote && (c == '"' || c == '\\')))
            return false;
    }
    return true;
}

/* Escaped length of src[from..to). */
static size_t escaped_len(const unsigned char *src, size_t from, size_t to, bool quote)
{
    size_t total = 0, used;
    char e[8];
    for (size_t i = from; i < to; i += used)
        total += escape_one(src + i, to - i, quote, e, &used);
    return total;
}

/* Appends escaped characters of src[*i..len) to dst while they fit in `room`
 * bytes; advances *i to the first character left out. */
static size_t put_escaped(char *dst, size_t room, const unsigned char *src, size_t *i, size_t len, bool quote)
{
    size_t o = 0, used;
    char e[8];
    while (*i < len) {
        size_t n = escape_one(src + *i, len - *i, quote, e, &used);
        if (o + n > room)
            break;
        memcpy(dst + o, e, n);
        o += n;
        *i += used;
    }
    return o;
}

size_t s2l_log_quote(char *dst, size_t cap, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0, i = 0;
    if (cap < S2L_LOG_QUOTE_MIN) {
        if (cap > 0)
            dst[0] = '\0';
        return 0;
    }
    if (src == NULL)
        len = 0;
    dst[o++] = '"';
    /* Room for the value: the quotes and the NUL are reserved. */
    size_t room = cap - 3;
    if (len <= room && plain(s, len, true)) {
        if (len > 0) /* src may be NULL with len 0 */
            memcpy(dst + o, s, len);
        o += len;
    } else if (escaped_len(s, 0, len, true) <= room) {
        o += put_escaped(dst + o, room, s, &i, len, true);
    } else {
        /* The marker for the most that can be left out bounds every marker. */
        char marker[40];
        int mmax = snprintf(marker, sizeof marker, "...[+%zu]", len);
        o += put_escaped(dst + o, room - (size_t)mmax, s, &i, len, true);
        int m = snprintf(marker, sizeof marker, "...[+%zu]", len - i);
        memcpy(dst + o, marker, (size_t)m);
        o += (size_t)m;
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return o;
}

size_t s2l_log_fit(char *dst, size_t cap, const char *msg, size_t len)
{
    const unsigned char *s = (const unsigned char *)msg;
    size_t o = 0, i = 0;
    if (cap == 0)
        return 0;
    if (msg == NULL)
        len = 0;
    size_t room = cap - 1;
    if (len <= room && plain(s, len, false)) {
        if (len > 0) /* msg may be NULL with len 0 */
            memcpy(dst, s, len);
        dst[len] = '\0';
        return len;
    }
    size_t total = escaped_len(s, 0, len, false);
    if (total <= room) {
        o = put_escaped(dst, room, s, &i, len, false);
        dst[o] = '\0';
        return o;
    }
    char marker[48];
    int mmax = snprintf(marker, sizeof marker, "...[%zu bytes cut]...", len);
    if ((size_t)mmax + 2 > room) {
        o = put_escaped(dst, room, s, &i, len, false);
        dst[o] = '\0';
        return o;
    }
    /* The end of a line holds its outcome (status, latency): a third of the
     * room goes to the tail, the rest to the head. */
    size_t budget = room - (size_t)mmax;
    size_t tail_room = budget / 3, head_room = budget - tail_room;
    o = put_escaped(dst, head_room, s, &i, len, false);
    /* The tail starts at the first character boundary after the head from
     * which the rest fits into tail_room. */
    size_t j = i, used, from_j = total - escaped_len(s, 0, i, false);
    char e[8];
    while (j < len && from_j > tail_room) {
        from_j -= escape_one(s + j, len - j, false, e, &used);
        j += used;
    }
    int m = snprintf(marker, sizeof marker, "...[%zu bytes cut]...", j - i);
    memcpy(dst + o, marker, (size_t)m);
    o += (size_t)m;
    o += put_escaped(dst + o, room - o, s, &j, len, false);
    dst[o] = '\0';
    return o;
}
