/* test_log_text.c — escaping and bounding of log text (gateway/core/log_text.c):
 * no client byte can end a line, open a field or reach a terminal as a control
 * sequence, and a long value or message loses its middle, never the fields
 * after it. */
#include "s2l/log.h"
#include "unit.h"

#include <stdbool.h>

static void quote_case(const char *in, size_t len, const char *want)
{
    char out[256];
    size_t n = s2l_log_quote(out, sizeof out, in, len);
    CHECK_STR(out, want);
    CHECK_INT(n, strlen(want));
}

/* No byte below 0x20, no DEL and no '"' other than the delimiters and
 * escaped ones: the field can be split out of the line unambiguously. */
static bool field_is_safe(const char *q, size_t n)
{
    if (n < 2 || q[0] != '"' || q[n - 1] != '"')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)q[i];
        if (c < 0x20 || c == 0x7f || c == 0x9b)
            return false;
        if (i > 0 && i < n - 1) {
            if (c == '\\') {
                i++; /* the escaped character */
                continue;
            }
            if (c == '"')
                return false;
        }
    }
    return true;
}

static void test_quote_escapes(void)
{
    quote_case("/Users/abc", 10, "\"/Users/abc\"");
    quote_case("", 0, "\"\"");
    quote_case(NULL, 5, "\"\"");
    /* The forging path: a newline and a fake timestamped line. */
    quote_case("/../x\n2026-01-01T00:00:00.000Z error event=forged", 49,
               "\"/../x\\n2026-01-01T00:00:00.000Z error event=forged\"");
    quote_case("a\rb\tc", 5, "\"a\\rb\\tc\"");
    /* ESC [ 3 1 m: a terminal colour sequence. */
    quote_case("\x1b[31mred", 8, "\"\\x1b[31mred\"");
    quote_case("q\"uote", 6, "\"q\\\"uote\"");
    quote_case("back\\slash", 10, "\"back\\\\slash\"");
    quote_case("a\" status=200 x=\"", 17, "\"a\\\" status=200 x=\\\"\"");
    quote_case("nul\0byte", 8, "\"nul\\x00byte\"");
    quote_case("del\x7f", 4, "\"del\\x7f\"");
    /* UTF-8 text passes; broken UTF-8 does not. */
    quote_case("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80", 16, "\"J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80\"");
    quote_case("bad\xff\xfe", 5, "\"bad\\xff\\xfe\"");
    quote_case("trunc\xc3", 6, "\"trunc\\xc3\"");
    quote_case("overlong\xc0\xaf", 10, "\"overlong\\xc0\\xaf\"");
    quote_case("surrogate\xed\xa0\x80", 12, "\"surrogate\\xed\\xa0\\x80\"");
    /* C1 CSI (U+009B), line separator, right-to-left override. */
    quote_case("c1\xc2\x9b", 4, "\"c1\\u009b\"");
    quote_case("ls\xe2\x80\xa8", 5, "\"ls\\u2028\"");
    quote_case("rlo\xe2\x80\xae", 6, "\"rlo\\u202e\"");
}

static void test_quote_bounds(void)
{
    char big[5000];
    memset(big, 'a', sizeof big);
    char out[64];
    size_t n = s2l_log_quote(out, sizeof out, big, sizeof big);
    CHECK(n < sizeof out);
    CHECK_INT(n, strlen(out));
    CHECK(field_is_safe(out, n));
    /* The marker says how much was left out: 5000 - the kept 'a's. */
    const char *mark = strstr(out, "...[+");
    CHECK(mark != NULL);
    size_t kept = mark ? (size_t)(mark - out - 1) : 0;
    char want[32];
    snprintf(want, sizeof want, "...[+%zu]\"", sizeof big - kept);
    CHECK_STR(mark, want);

    /* Cutting never splits an escape or a UTF-8 character. */
    char mixed[3000];
    size_t m = 0;
    while (m + 4 < sizeof mixed) {
        mixed[m++] = '\n';
        mixed[m++] = (char)0xc3;
        mixed[m++] = (char)0xa9;
        mixed[m++] = '"';
    }
    for (size_t cap = S2L_LOG_QUOTE_MIN; cap < 200; cap++) {
        char o[200];
        size_t k = s2l_log_quote(o, cap, mixed, m);
        CHECK(k < cap);
        CHECK(field_is_safe(o, k));
        const char *mk = strstr(o, "...[+");
        CHECK(mk != NULL);
        /* What precedes the marker is whole units: "\n", "é", "\"". */
        for (const char *p = o + 1; mk && p < mk;) {
            if (strncmp(p, "\\n", 2) == 0 || strncmp(p, "\\\"", 2) == 0 || strncmp(p, "\xc3\xa9", 2) == 0) {
                p += 2;
            } else {
                CHECK(!"a unit was split");
                break;
            }
        }
    }
    /* Too small a buffer: an empty string, not an overflow. */
    char tiny[8];
    CHECK_INT(s2l_log_quote(tiny, sizeof tiny, "abc", 3), 0);
    CHECK_STR(tiny, "");
}

/* Every byte value, alone and in pairs: the result is always a safe field. */
static void test_quote_all_bytes(void)
{
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b += 17) {
            char in[3] = {(char)a, (char)b, 'z'};
            char out[64];
            size_t n = s2l_log_quote(out, sizeof out, in, sizeof in);
            if (!field_is_safe(out, n))
                fprintf(stderr, "bytes %02x %02x -> %s\n", a, b, out);
            CHECK(field_is_safe(out, n));
        }
    }
}

static void test_fit_escapes_controls_but_keeps_quotes(void)
{
    char out[128];
    const char *msg = "event=x dn=\"uid=a\nforged\" err=\"y\x1b[2J\"";
    size_t n = s2l_log_fit(out, sizeof out, msg, strlen(msg));
    CHECK_STR(out, "event=x dn=\"uid=a\\nforged\" err=\"y\\x1b[2J\"");
    CHECK_INT(n, strlen(out));
    CHECK(strchr(out, '\n') == NULL);
}

static void test_fit_keeps_the_end(void)
{
    /* An access line whose middle field is huge: the fixed fields survive. */
    char msg[20000];
    int len = snprintf(msg, sizeof msg, "event=request req=7 method=GET path=\"");
    memset(msg + len, 'p', 15000);
    len += 15000;
    len += snprintf(msg + len, sizeof msg - (size_t)len, "\" status=404 ldap_ops=0 latency_us=123");
    char out[S2L_LOG_LINE_MAX];
    size_t n = s2l_log_fit(out, sizeof out, msg, (size_t)len);
    CHECK(n < sizeof out);
    CHECK_INT(n, strlen(out));
    CHECK(strncmp(out, "event=request req=7 method=GET path=\"", 37) == 0);
    const char *tail = "\" status=404 ldap_ops=0 latency_us=123";
    CHECK(n > strlen(tail) && strcmp(out + n - strlen(tail), tail) == 0);
    CHECK(strstr(out, " bytes cut]...") != NULL);
    /* The count is exact: kept + cut = the message. */
    const char *mk = strstr(out, "...[");
    unsigned long cut = mk ? strtoul(mk + 4, NULL, 10) : 0;
    size_t kept = n - (size_t)(strstr(out, "]...") + 4 - mk);
    CHECK_INT(kept + cut, (size_t)len);

    /* Short messages are unchanged. */
    n = s2l_log_fit(out, sizeof out, "event=stopped", 13);
    CHECK_STR(out, "event=stopped");
    CHECK_INT(n, 13);

    /* Tiny buffers stay bounded. */
    for (size_t cap = 0; cap < 80; cap++) {
        char o[80];
        memset(o, 'X', sizeof o);
        size_t k = s2l_log_fit(o, cap, msg, (size_t)len);
        CHECK(cap == 0 ? k == 0 : k < cap && o[k] == '\0');
    }
}

int main(void)
{
    test_quote_escapes();
    test_quote_bounds();
    test_quote_all_bytes();
    test_fit_escapes_controls_but_keeps_quotes();
    test_fit_keeps_the_end();
    return UNIT_DONE();
}
