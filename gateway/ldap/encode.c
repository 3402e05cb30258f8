/* encode.c — JSON <-> libldap structures for the pool (see pool-internal.h).
 *
 * Values sent to LDAP: JSON strings as their UTF-8 bytes; integers in decimal;
 * true/false as "TRUE"/"FALSE" (the LDAP Boolean syntax). Anything else is a
 * caller bug (LDAP_PARAM_ERROR). Binary values (AD's unicodePwd) are sent the
 * way they are read: under "<name>;base64" with base64 strings, which are
 * decoded and sent as the bytes of <name> (malformed base64: LDAP_PARAM_ERROR).
 *
 * Values read from LDAP: valid UTF-8 without NUL bytes become JSON strings under
 * the attribute's name as the server spelled it. Other values (binary, e.g.
 * jpegPhoto or certificates) are base64-encoded under "<name>;base64", so a
 * binary value is never mistaken for text and never dropped silently.
 */
#include "pool-internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* ---- JSON → LDAPMod ---- */

/* A berval and its bytes in one allocation (freed with one free()). */
static struct berval *berval_make(const char *data, size_t len)
{
    struct berval *bv = malloc(sizeof *bv + len + 1);
    if (bv == NULL)
        return NULL;
    char *bytes = (char *)(bv + 1);
    memcpy(bytes, data, len);
    bytes[len] = '\0';
    bv->bv_val = bytes;
    bv->bv_len = (ber_len_t)len;
    return bv;
}

/* The bytes a base64 string stands for; NULL + *rc on bad input. */
static struct berval *base64_to_berval(const json_t *v, int *rc)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (s == NULL || n % 4 != 0 || n > (size_t)INT32_MAX / 2) {
        *rc = LDAP_PARAM_ERROR;
        return NULL;
    }
    struct berval *bv = malloc(sizeof *bv + n / 4 * 3 + 1);
    if (bv == NULL)
        return NULL;
    unsigned char *bytes = (unsigned char *)(bv + 1);
    int len = EVP_DecodeBlock(bytes, (const unsigned char *)s, (int)n);
    if (len < 0) {
        free(bv);
        *rc = LDAP_PARAM_ERROR;
        return NULL;
    }
    for (size_t k = n; k > 0 && s[k - 1] == '='; k--)
        len--; /* EVP_DecodeBlock counts the padding as data */
    bytes[len] = 0;
    bv->bv_val = (char *)bytes;
    bv->bv_len = (ber_len_t)len;
    return bv;
}

static struct berval *value_to_berval(const json_t *v, int *rc)
{
    char num[32];
    if (json_is_string(v))
        return berval_make(json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) {
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return berval_make(num, (size_t)n);
    }
    if (json_is_true(v))
        return berval_make("TRUE", 4);
    if (json_is_false(v))
        return berval_make("FALSE", 5);
    *rc = LDAP_PARAM_ERROR;
    return NULL;
}

static void mod_free(LDAPMod *m)
{
    if (m == NULL)
        return;
    free(m->mod_type);
    if (m->mod_bvalues) {
        /* values may be secrets (passwords): cleared before they are freed */
        for (size_t i = 0; m->mod_bvalues[i]; i++) {
            OPENSSL_cleanse(m->mod_bvalues[i]->bv_val, m->mod_bvalues[i]->bv_len);
            free(m->mod_bvalues[i]);
        }
        free(m->mod_bvalues);
    }
    free(m);
}

/* "<name>;base64" (any case): the length of <name>, else 0. */
static size_t binary_name_len(const char *attr)
{
    size_t n = strlen(attr), suffix = sizeof ";base64" - 1;
    return n > suffix && strcasecmp(attr + n - suffix, ";base64") == 0 ? n - suffix : 0;
}

void s2l_mods_free_(LDAPMod **mods)
{
    if (mods == NULL)
        return;
    for (size_t i = 0; mods[i]; i++)
        mod_free(mods[i]);
    free(mods);
}

/* values: an array of values, a single scalar, or NULL (no values). */
static LDAPMod *mod_make(int op, const char *attr, const json_t *values, int *rc)
{
    LDAPMod *m = calloc(1, sizeof *m);
    if (m == NULL)
        goto oom;
    m->mod_op = op | LDAP_MOD_BVALUES;
    size_t bin = binary_name_len(attr);
    m->mod_type = bin ? strndup(attr, bin) : strdup(attr);
    if (m->mod_type == NULL)
        goto oom;
    size_t n = values == NULL ? 0 : json_is_array(values) ? json_array_size(values) : 1;
    if (n == 0)
        return m; /* delete-all / replace-with-nothing */
    m->mod_bvalues = calloc(n + 1, sizeof *m->mod_bvalues);
    if (m->mod_bvalues == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_is_array(values) ? json_array_get(values, i) : values;
        int err = LDAP_NO_MEMORY; /* unless value_to_berval says the type is wrong */
        m->mod_bvalues[i] = bin ? base64_to_berval(v, &err) : value_to_berval(v, &err);
        if (m->mod_bvalues[i] == NULL) {
            *rc = err;
            goto fail;
        }
    }
    return m;
oom:
    *rc = LDAP_NO_MEMORY;
fail:
    mod_free(m);
    return NULL;
}

LDAPMod **s2l_mods_from_attrs_(const json_t *attrs, int *rc)
{
    LDAPMod **mods = NULL;
    if (!json_is_object(attrs)) {
        *rc = LDAP_PARAM_ERROR;
        return NULL;
    }
    mods = calloc(json_object_size(attrs) + 1, sizeof *mods);
    if (mods == NULL) {
        *rc = LDAP_NO_MEMORY;
        return NULL;
    }
    size_t n = 0;
    const char *name;
    const json_t *values;
    json_object_foreach((json_t *)attrs, name, values) {
        /* An attribute without values cannot be added; the mapping may emit
         * empty optional attributes, which simply mean "absent". */
        if (json_is_array(values) && json_array_size(values) == 0)
            continue;
        if (json_is_null(values))
            continue;
        mods[n] = mod_make(LDAP_MOD_ADD, name, values, rc);
        if (mods[n] == NULL)
            goto fail;
        n++;
    }
    return mods;
fail:
    s2l_mods_free_(mods);
    return NULL;
}

LDAPMod **s2l_mods_from_json_(const json_t *list, int *rc)
{
    LDAPMod **mods = NULL;
    if (!json_is_array(list)) {
        *rc = LDAP_PARAM_ERROR;
        return NULL;
    }
    mods = calloc(json_array_size(list) + 1, sizeof *mods);
    if (mods == NULL) {
        *rc = LDAP_NO_MEMORY;
        return NULL;
    }
    size_t i;
    const json_t *item;
    json_array_foreach((json_t *)list, i, item) {
        const char *opname = json_string_value(json_object_get(item, "op"));
        const char *attr = json_string_value(json_object_get(item, "attr"));
        const json_t *values = json_object_get(item, "values");
        int op;
        if (opname == NULL || attr == NULL || attr[0] == '\0')
            goto bad;
        if (strcmp(opname, "add") == 0)
            op = LDAP_MOD_ADD;
        else if (strcmp(opname, "delete") == 0)
            op = LDAP_MOD_DELETE;
        else if (strcmp(opname, "replace") == 0)
            op = LDAP_MOD_REPLACE;
        else
            goto bad;
        if (values != NULL && json_is_null(values))
            values = NULL;
        if (values != NULL && json_is_array(values) && json_array_size(values) == 0)
            values = NULL;
        /* "add" needs values; delete/replace without values clear the attribute. */
        if (op == LDAP_MOD_ADD && values == NULL)
            goto bad;
        mods[i] = mod_make(op, attr, values, rc);
        if (mods[i] == NULL)
            goto fail;
    }
    return mods;
bad:
    *rc = LDAP_PARAM_ERROR;
fail:
    s2l_mods_free_(mods);
    return NULL;
}

/* ---- LDAP entry → JSON ---- */

/* Strict UTF-8 (RFC 3629: no overlongs, no surrogates, max U+10FFFF) without NUL. */
static bool is_text(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += len;
    }
    return true;
}

static json_t *base64_string(const struct berval *bv)
{
    json_t *s = NULL;
    if (bv->bv_len > (ber_len_t)(INT32_MAX / 4 * 3 - 3))
        return NULL;
    size_t cap = (bv->bv_len + 2) / 3 * 4 + 1;
    unsigned char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    int n = EVP_EncodeBlock(out, (const unsigned char *)bv->bv_val, (int)bv->bv_len);
    if (n >= 0)
        s = json_stringn((const char *)out, (size_t)n);
    free(out);
    return s;
}

/* Appends v to attrs[key] (creating the array): keys may repeat when the server
 * returns the same type twice or text and binary values of one attribute. */
static int append_value(json_t *attrs, const char *key, json_t *v)
{
    if (v == NULL)
        return -1;
    json_t *arr = json_object_get(attrs, key);
    if (arr == NULL) {
        arr = json_array();
        if (arr == NULL || json_object_set_new(attrs, key, arr) != 0) {
            json_decref(v);
            return -1;
        }
    }
    return json_array_append_new(arr, v);
}

static int add_attribute(json_t *attrs, const struct berval *name, const struct berval *vals)
{
    int rc = -1;
    char *key = NULL, *bkey = NULL;
    key = strndup(name->bv_val, name->bv_len);
    if (key == NULL)
        goto out;
    size_t blen = name->bv_len + sizeof ";base64";
    bkey = malloc(blen);
    if (bkey == NULL)
        goto out;
    snprintf(bkey, blen, "%s;base64", key);
    for (size_t i = 0; vals && vals[i].bv_val; i++) {
        const struct berval *bv = &vals[i];
        if (is_text((const unsigned char *)bv->bv_val, bv->bv_len)) {
            if (append_value(attrs, key, json_stringn(bv->bv_val, bv->bv_len)) != 0)
                goto out;
        } else {
            if (append_value(attrs, bkey, base64_string(bv)) != 0)
                goto out;
        }
    }
    /* An attribute listed without values (typesOnly) still appears. */
    if ((vals == NULL || vals[0].bv_val == NULL) && json_object_get(attrs, key) == NULL) {
        json_t *empty = json_array();
        if (empty == NULL || json_object_set_new(attrs, key, empty) != 0)
            goto out;
    }
    rc = 0;
out:
    free(key);
    free(bkey);
    return rc;
}

json_t *s2l_entry_to_json_(LDAP *ld, LDAPMessage *entry)
{
    BerElement *ber = NULL;
    struct berval dn = {0, NULL};
    json_t *out = NULL, *attrs = NULL;

    if (ldap_get_dn_ber(ld, entry, &ber, &dn) != LDAP_SUCCESS)
        goto fail;
    /* DNs are UTF-8 strings by definition (RFC 4514); anything else is garbage. */
    if (!is_text((const unsigned char *)dn.bv_val, dn.bv_len))
        goto fail;
    attrs = json_object();
    out = json_object();
    if (attrs == NULL || out == NULL)
        goto fail;
    if (json_object_set_new(out, "dn", json_stringn(dn.bv_val, dn.bv_len)) != 0)
        goto fail;
    for (;;) {
        struct berval name = {0, NULL};
        struct berval *vals = NULL;
        if (ldap_get_attribute_ber(ld, entry, ber, &name, &vals) != LDAP_SUCCESS)
            goto fail;
        if (name.bv_val == NULL)
            break;
        int rc = add_attribute(attrs, &name, vals);
        ber_memfree(vals);
        if (rc != 0)
            goto fail;
    }
    if (json_object_set(out, "attrs", attrs) != 0)
        goto fail;
    json_decref(attrs);
    ber_free(ber, 0);
    return out;
fail:
    if (ber)
        ber_free(ber, 0);
    json_decref(attrs);
    json_decref(out);
    return NULL;
}

json_t *s2l_entry_from_read_control_(const LDAPControl *ctrl)
{
    /* SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName, attributes
     *   PartialAttributeList ::= SEQUENCE OF SEQUENCE { type, vals SET OF value } } */
    struct berval dn = {0, NULL};
    json_t *out = NULL, *attrs = NULL;
    /* liblber reads past an empty buffer: a control without a value is no entry. */
    if (ctrl->ldctl_value.bv_val == NULL || ctrl->ldctl_value.bv_len == 0)
        return NULL;
    BerElement *ber = ber_init((struct berval *)&ctrl->ldctl_value);
    if (ber == NULL)
        return NULL;
    if (ber_scanf(ber, "{m" /*}*/, &dn) == LBER_ERROR || !is_text((const unsigned char *)dn.bv_val, dn.bv_len))
        goto fail;
    attrs = json_object();
    out = json_object();
    if (attrs == NULL || out == NULL || json_object_set_new(out, "dn", json_stringn(dn.bv_val, dn.bv_len)) != 0)
        goto fail;
    ber_len_t len;
    char *last;
    for (ber_tag_t tag = ber_first_element(ber, &len, &last); tag != LBER_DEFAULT;
         tag = ber_next_element(ber, &len, last)) {
        struct berval name = {0, NULL};
        BerVarray vals = NULL;
        if (ber_scanf(ber, "{m[W]}", &name, &vals) == LBER_ERROR)
            goto fail;
        int rc = add_attribute(attrs, &name, vals);
        ber_bvarray_free(vals);
        if (rc != 0)
            goto fail;
    }
    if (json_object_set_new(out, "attrs", attrs) != 0) {
        attrs = NULL;
        goto fail;
    }
    ber_free(ber, 1);
    return out;
fail:
    json_decref(attrs);
    json_decref(out);
    ber_free(ber, 1);
    return NULL;
}

int s2l_read_control_value_(char *const *attrs, struct berval *out)
{
    /* AttributeSelection ::= SEQUENCE OF LDAPString */
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    if (ber == NULL)
        return LDAP_NO_MEMORY;
    int rc = LDAP_SUCCESS;
    if (ber_printf(ber, "{v}", (char **)attrs) == -1 || ber_flatten2(ber, out, 1) == -1)
        rc = LDAP_ENCODING_ERROR;
    ber_free(ber, 1);
    return rc;
}
