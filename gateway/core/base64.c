/* base64.c — RFC 4648 base64 and base64url (see include/s2l/base64.h). */
#include "s2l/base64.h"

#include <stdlib.h>

static const char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t s2l_b64_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t s2l_b64_decoded_max(size_t n)
{
    return n / 4 * 3 + 3;
}

static void encode(const char *alphabet, const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = 0;
}

void s2l_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    encode(url_alphabet, in, n, out);
}

void s2l_b64_encode(const unsigned char *in, size_t n, char *out)
{
    encode(std_alphabet, in, n, out);
}

char *s2l_b64url_encode_alloc(const unsigned char *in, size_t n)
{
    char *out = malloc(s2l_b64_encoded_len(n) + 1);
    if (out)
        encode(url_alphabet, in, n, out);
    return out;
}

static int value_of(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Decodes n characters (no padding) of one alphabet. */
static int decode(const char *in, size_t n, bool url, unsigned char *out, size_t *out_len)
{
    if (n % 4 == 1)
        return -1; /* one leftover character cannot carry a whole byte */
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value_of(in[i], url);
        if (v < 0)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    *out_len = o;
    return 0;
}

int s2l_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
    return decode(in, n, true, out, out_len);
}

int s2l_b64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
    size_t pad = 0;
    while (pad < 2 && n > 0 && in[n - 1] == '=') {
        n--;
        pad++;
    }
    /* Padding, when given, completes the last group to four characters. */
    if (pad && (n + pad) % 4 != 0)
        return -1;
    return decode(in, n, false, out, out_len);
}
