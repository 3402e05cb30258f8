/* mapping_ids.c — SCIM ids kept in directory-specific forms (see
 * include/s2l/mapping.h, "ldap.id_syntax" in mappings/README.md):
 *
 *   uuid        entryUUID (OpenLDAP): text, 8-4-4-4-12 hex
 *   guid        objectGUID (Active Directory): 16 binary bytes. The SCIM id is
 *               the GUID string Windows shows, whose first three groups are the
 *               little-endian fields of the bytes; look-ups send the bytes
 *               escaped one by one ("\b0\09\f6..."), which every AD accepts
 *   nsuniqueid  nsUniqueId (389-DS): text, 8-8-8-8 hex
 *   any         anything else, compared as is
 *
 * A binary value comes from the pool as "<attr>;base64" — or as plain text
 * when its 16 bytes happen to form valid UTF-8, which a GUID can; both are
 * read here.
 */
#include "mapping_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static const char hexd[] = "0123456789abcdef";

/* Byte order of the GUID string: bytes[order[i]] is the i-th byte shown. */
static const unsigned char guid_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

void s2l_guid_format(const unsigned char bytes[16], char out[37])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        unsigned char b = bytes[guid_order[i]];
        out[o++] = hexd[b >> 4];
        out[o++] = hexd[b & 15];
    }
    out[o] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool s2l_guid_parse(const char *s, unsigned char out[16])
{
    if (s == NULL || !s2l_is_uuid(s))
        return false;
    size_t k = 0;
    for (size_t i = 0; i < 36; i += 2) {
        if (s[i] == '-')
            i++;
        out[guid_order[k++]] = (unsigned char)(hexval(s[i]) << 4 | hexval(s[i + 1]));
    }
    return k == 16;
}

static bool is_nsuniqueid(const char *s)
{
    if (s == NULL || strlen(s) != 35)
        return false;
    for (size_t i = 0; i < 35; i++) {
        if (i % 9 == 8) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

unsigned char *s2l_map_entry_bytes(const json_t *entry, const char *attr, size_t *len)
{
    const char *text = s2l_map_entry_first(entry, attr);
    if (text != NULL) {
        const json_t *v = json_array_get(s2l_map_entry_values(entry, attr), 0);
        size_t n = v ? json_string_length(v) : strlen(text);
        unsigned char *out = malloc(n + 1);
        if (out == NULL)
            return NULL;
        memcpy(out, text, n);
        out[n] = 0;
        *len = n;
        return out;
    }
    size_t alen = strlen(attr);
    char *key = malloc(alen + sizeof ";base64");
    if (key == NULL)
        return NULL;
    memcpy(key, attr, alen);
    memcpy(key + alen, ";base64", sizeof ";base64");
    const char *b64 = s2l_map_entry_first(entry, key);
    free(key);
    size_t blen = b64 ? strlen(b64) : 0;
    if (b64 == NULL || blen % 4 != 0 || blen > (size_t)1 << 20)
        return NULL;
    unsigned char *out = malloc(blen / 4 * 3 + 1);
    if (out == NULL)
        return NULL;
    int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)blen);
    if (n < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as data */
    for (size_t k = blen; k > 0 && b64[k - 1] == '='; k--)
        n--;
    *len = (size_t)n;
    return out;
}

char *s2l_rmap_entry_id(const s2l_rmap *rm, const json_t *entry)
{
    if (rm->id_syntax != S2L_IDSYN_GUID) {
        const char *id = s2l_map_entry_first(entry, rm->id_attr);
        return id && *id ? strdup(id) : NULL;
    }
    size_t n = 0;
    unsigned char *b = s2l_map_entry_bytes(entry, rm->id_attr, &n);
    char *out = NULL;
    if (b != NULL && n == 16 && (out = malloc(37)) != NULL)
        s2l_guid_format(b, out);
    free(b);
    return out;
}

char *s2l_rmap_id_assertion(const s2l_rmap *rm, const char *id)
{
    s2l_strbuf b = {0};
    if (id == NULL || *id == 0)
        return NULL;
    switch (rm->id_syntax) {
    case S2L_IDSYN_UUID:
        if (!s2l_is_uuid(id))
            return NULL;
        break;
    case S2L_IDSYN_NSUNIQUEID:
        if (!is_nsuniqueid(id))
            return NULL;
        break;
    case S2L_IDSYN_GUID: {
        unsigned char g[16];
        if (!s2l_guid_parse(id, g))
            return NULL;
        s2l_sb_adds(&b, "(");
        s2l_sb_adds(&b, rm->id_attr);
        s2l_sb_adds(&b, "=");
        for (size_t i = 0; i < 16; i++) {
            char esc[3] = {'\\', hexd[g[i] >> 4], hexd[g[i] & 15]};
            s2l_sb_add(&b, esc, 3);
        }
        s2l_sb_adds(&b, ")");
        return s2l_sb_take(&b);
    }
    case S2L_IDSYN_ANY:
        break;
    }
    char *esc = s2l_ldap_escape_filter_value(id, strlen(id));
    if (esc == NULL)
        return NULL;
    s2l_sb_adds(&b, "(");
    s2l_sb_adds(&b, rm->id_attr);
    s2l_sb_adds(&b, "=");
    s2l_sb_adds(&b, esc);
    s2l_sb_adds(&b, ")");
    free(esc);
    return s2l_sb_take(&b);
}
