/* test_ldif.c — LDIF rendering (RFC 2849): which values need base64, the
 * encoder against RFC 4648 vectors and a round trip through a decoder written
 * here, and whole add/modify/modrdn/delete records byte for byte. */
#include "s2l/ldif.h"
#include "unit.h"

static void safe_case(const char *v, size_t len, bool want)
{
    bool got = s2l_ldif_is_safe(v, len);
    if (got != want)
        fprintf(stderr, "is_safe(\"%.*s\") = %d\n", (int)len, v, got);
    CHECK(got == want);
}

static void test_safe(void)
{
    safe_case("", 0, true);
    safe_case("jdoe", 4, true);
    safe_case("a:b", 3, true);         /* ':' and '<' are only unsafe first */
    safe_case("a<b", 3, true);
    safe_case("#hash", 5, true);       /* '#' is a SAFE-INIT-CHAR */
    safe_case("uid=a\\2cb,ou=x", 14, true);
    safe_case("mid dle", 7, true);
    safe_case("~\x7f", 2, true);       /* DEL is a SAFE-CHAR (%x0E-7F) */
    safe_case("\t", 1, true);          /* so is TAB (%x01-09) */
    safe_case(" lead", 5, false);
    safe_case(":colon", 6, false);
    safe_case("<url", 4, false);
    safe_case("trail ", 6, false);
    safe_case(" ", 1, false);
    safe_case("a\nb", 3, false);
    safe_case("a\rb", 3, false);
    safe_case("a\0b", 3, false);
    safe_case("J\xc3\xbcrgen", 7, false); /* UTF-8 is not SAFE-CHAR */
    safe_case("\xff", 1, false);
}

static void b64_case(const char *in, size_t len, const char *want)
{
    char *got = s2l_base64_encode(in, len);
    CHECK_STR(got, want);
    free(got);
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* An independent decoder: the encoder's output must decode to its input. */
static size_t b64_decode(const char *s, unsigned char *out)
{
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i + 4 <= len; i += 4) {
        int a = b64_val(s[i]), b = b64_val(s[i + 1]);
        int c = s[i + 2] == '=' ? -2 : b64_val(s[i + 2]);
        int d = s[i + 3] == '=' ? -2 : b64_val(s[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1)
            return (size_t)-1;
        out[n++] = (unsigned char)(a << 2 | b >> 4);
        if (c >= 0)
            out[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
        if (c >= 0 && d >= 0)
            out[n++] = (unsigned char)((c & 3) << 6 | d);
    }
    return n;
}

static void test_base64(void)
{
    /* RFC 4648 §10 */
    b64_case("", 0, "");
    b64_case("f", 1, "Zg==");
    b64_case("fo", 2, "Zm8=");
    b64_case("foo", 3, "Zm9v");
    b64_case("foob", 4, "Zm9vYg==");
    b64_case("fooba", 5, "Zm9vYmE=");
    b64_case("foobar", 6, "Zm9vYmFy");
    b64_case("\0\xff", 2, "AP8=");
    b64_case(" lead", 5, "IGxlYWQ=");
    b64_case("J\xc3\xbcrgen", 7, "SsO8cmdlbg==");

    /* every length 0..300 of pseudo-random bytes round-trips */
    unsigned char in[300], out[300];
    unsigned x = 12345;
    int bad = 0;
    for (size_t len = 0; len <= sizeof in; len++) {
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            in[i] = (unsigned char)(x >> 16);
        }
        char *enc = s2l_base64_encode(in, len);
        if (enc == NULL || strlen(enc) != (len + 2) / 3 * 4) {
            bad++;
        } else if (len > 0) {
            size_t n = b64_decode(enc, out);
            if (n != len || memcmp(in, out, len) != 0)
                bad++;
        }
        free(enc);
    }
    CHECK_INT(bad, 0);
}

static char *take(s2l_ldif *o)
{
    return s2l_ldif_take(o);
}

static void test_attrval(void)
{
    s2l_ldif o = {0};
    CHECK_INT(s2l_ldif_attrval(&o, "cn", "Jane Doe", 8), 0);
    CHECK_INT(s2l_ldif_attrval(&o, "member", "", 0), 0);
    CHECK_INT(s2l_ldif_attrval(&o, "description", " lead", 5), 0);
    CHECK_INT(s2l_ldif_attrval(&o, "description", "two\nlines", 9), 0);
    CHECK_INT(s2l_ldif_attrval(&o, "userCertificate;binary", "\x30\x82", 2), 0);
    char *s = take(&o);
    CHECK_STR(s, "cn: Jane Doe\n"
                 "member:\n"
                 "description:: IGxlYWQ=\n"
                 "description:: dHdvCmxpbmVz\n"
                 "userCertificate;binary:: MII=\n");
    free(s);

    /* annotated: printable UTF-8 gets a comment, control characters and
     * invalid UTF-8 do not (a comment line cannot hold them) */
    o.annotate = true;
    s2l_ldif_attrval(&o, "cn", "J\xc3\xbcrgen", 7);
    s2l_ldif_attrval(&o, "cn", "trail ", 6);
    s2l_ldif_attrval(&o, "cn", "a\nb", 3);
    s2l_ldif_attrval(&o, "cn", "\xc3\x28", 2);       /* invalid continuation */
    s2l_ldif_attrval(&o, "cn", "\xc0\xaf", 2);       /* overlong '/' */
    s2l_ldif_attrval(&o, "cn", "\xed\xa0\x80", 3);   /* surrogate */
    s2l_ldif_attrval(&o, "cn", "\xc2\x85", 2);       /* C1 control (NEL) */
    s2l_ldif_attrval(&o, "cn", "\xf0\x9f\x98\x80", 4); /* U+1F600 */
    s = take(&o);
    CHECK_STR(s, "# cn: J\xc3\xbcrgen\n"
                 "cn:: SsO8cmdlbg==\n"
                 "# cn: trail \n"
                 "cn:: dHJhaWwg\n"
                 "cn:: YQpi\n"
                 "cn:: wyg=\n"
                 "cn:: wK8=\n"
                 "cn:: 7aCA\n"
                 "cn:: woU=\n"
                 "# cn: \xf0\x9f\x98\x80\n"
                 "cn:: 8J+YgA==\n");
    free(s);

    /* a name that could inject a line is refused, and the buffer is failed */
    o = (s2l_ldif){0};
    CHECK_INT(s2l_ldif_attrval(&o, "cn\nuid", "x", 1), -1);
    CHECK_INT(s2l_ldif_attrval(&o, "", "x", 1), -1);
    CHECK(take(&o) == NULL);
}

static void test_records(void)
{
    s2l_ldif o = {0};
    json_t *attrs = json_pack("{s:[s,s], s:[s], s:[s], s:[s]}", "objectClass", "top", "inetOrgPerson", "uid",
                              "jdoe", "cn", "J\xc3\xbcrgen Doe", "member", "");
    json_t *mods = json_pack("[{s:s, s:s, s:[s,s]}, {s:s, s:s, s:[s]}, {s:s, s:s}, {s:s, s:s, s:[]}]", "op",
                             "add", "attr", "member", "values", "uid=a,ou=people,dc=x", "uid=b\\2c c,ou=people,dc=x",
                             "op", "delete", "attr", "member", "values", "", "op", "delete", "attr",
                             "telephoneNumber", "op", "replace", "attr", "mail", "values");
    CHECK_INT(s2l_ldif_add(&o, "uid=jdoe,ou=people,dc=example,dc=org", attrs), 0);
    CHECK_INT(s2l_ldif_modrdn(&o, "uid=jdoe,ou=people,dc=example,dc=org", "uid=jane", true, NULL), 0);
    CHECK_INT(s2l_ldif_modify(&o, "uid=jane,ou=people,dc=example,dc=org", mods), 0);
    CHECK_INT(s2l_ldif_modrdn(&o, "cn=g,dc=x", "cn=h", false, "ou=groups,dc=x"), 0);
    CHECK_INT(s2l_ldif_delete(&o, "cn=\xc3\xa9,dc=x"), 0);
    char *s = take(&o);
    CHECK_STR(s, "dn: uid=jdoe,ou=people,dc=example,dc=org\n"
                 "changetype: add\n"
                 "objectClass: top\n"
                 "objectClass: inetOrgPerson\n"
                 "uid: jdoe\n"
                 "cn:: SsO8cmdlbiBEb2U=\n"
                 "member:\n"
                 "\n"
                 "dn: uid=jdoe,ou=people,dc=example,dc=org\n"
                 "changetype: modrdn\n"
                 "newrdn: uid=jane\n"
                 "deleteoldrdn: 1\n"
                 "\n"
                 "dn: uid=jane,ou=people,dc=example,dc=org\n"
                 "changetype: modify\n"
                 "add: member\n"
                 "member: uid=a,ou=people,dc=x\n"
                 "member: uid=b\\2c c,ou=people,dc=x\n"
                 "-\n"
                 "delete: member\n"
                 "member:\n"
                 "-\n"
                 "delete: telephoneNumber\n"
                 "-\n"
                 "replace: mail\n"
                 "-\n"
                 "\n"
                 "dn: cn=g,dc=x\n"
                 "changetype: modrdn\n"
                 "newrdn: cn=h\n"
                 "deleteoldrdn: 0\n"
                 "newsuperior: ou=groups,dc=x\n"
                 "\n"
                 "dn:: Y249w6ksZGM9eA==\n"
                 "changetype: delete\n");
    free(s);

    /* comments: one "#" line per line of text, and a block of their own */
    CHECK_INT(s2l_ldif_comment(&o, "first\nsecond\r\n\nlast"), 0);
    CHECK_INT(s2l_ldif_separator(&o), 0);
    CHECK_INT(s2l_ldif_comment(&o, ""), 0);
    s = take(&o);
    CHECK_STR(s, "# first\n# second\n#\n# last\n\n#\n");
    free(s);

    /* an empty buffer takes as "" */
    s = take(&o);
    CHECK_STR(s, "");
    free(s);

    /* malformed input fails the buffer rather than writing half a record */
    json_t *bad_op = json_pack("[{s:s, s:s}]", "op", "increment", "attr", "x");
    json_t *bad_val = json_pack("[{s:s, s:s, s:[i]}]", "op", "add", "attr", "x", "values", 1);
    json_t *bad_attr = json_pack("[{s:s, s:s}]", "op", "add", "attr", "a: b");
    CHECK_INT(s2l_ldif_modify(&o, "cn=x", bad_op), -1);
    CHECK(take(&o) == NULL);
    CHECK_INT(s2l_ldif_modify(&o, "cn=x", bad_val), -1);
    CHECK(take(&o) == NULL);
    CHECK_INT(s2l_ldif_modify(&o, "cn=x", bad_attr), -1);
    CHECK(take(&o) == NULL);
    CHECK_INT(s2l_ldif_add(&o, NULL, attrs), -1);
    CHECK(take(&o) == NULL);
    CHECK_INT(s2l_ldif_add(&o, "cn=x", mods), -1);
    s2l_ldif_reset(&o);
    json_decref(bad_op);
    json_decref(bad_val);
    json_decref(bad_attr);
    json_decref(attrs);
    json_decref(mods);
}

int main(void)
{
    test_safe();
    test_base64();
    test_attrval();
    test_records();
    return UNIT_DONE();
}
