/* test_mapping_check.c — s2l_mapping_check_directory (scim2ldap check --live)
 * without a directory: the shipped mappings against the real subschema of the
 * tests' slapd (tests/data/subschema/openldap-2.5.ldif) are clean; the same
 * subschema with a class and attributes taken away, and controls missing,
 * gives exactly the expected findings. */
#include "s2l/mapping.h"
#include "mapping_fixture.h"
#include "unit.h"

/* The slapd subschema, minus the LDIF lines that contain any of `drop`. */
static s2l_subschema *schema_without(const char *const *drop)
{
    size_t len = 0;
    char *text = mf_read_file("tests/data/subschema/openldap-2.5.ldif", &len);
    CHECK(text != NULL);
    if (text == NULL)
        return NULL;
    /* unfold first (a description may span lines), then filter whole values */
    char *flat = malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n' && i + 1 < len && text[i + 1] == ' ') {
            i++;
            continue;
        }
        flat[o++] = text[i];
    }
    flat[o] = 0;
    char *kept = malloc(o + 2);
    size_t k = 0;
    for (char *line = strtok(flat, "\n"); line; line = strtok(NULL, "\n")) {
        bool skip = false;
        for (size_t d = 0; drop && drop[d]; d++)
            skip = skip || strstr(line, drop[d]) != NULL;
        if (skip)
            continue;
        size_t n = strlen(line);
        memcpy(kept + k, line, n);
        k += n;
        kept[k++] = '\n';
    }
    s2l_subschema *s = s2l_subschema_create();
    s2l_error err;
    s2l_error_clear(&err);
    size_t skipped = 0;
    CHECK(s2l_subschema_add_ldif(s, kept, k, &skipped, &err) > 0);
    CHECK_INT(skipped, 0);
    CHECK(s2l_subschema_finish(s) == 0);
    free(text);
    free(flat);
    free(kept);
    return s;
}

static size_t count_level(const json_t *f, const char *level)
{
    size_t n = 0, i;
    json_t *x;
    json_array_foreach(f, i, x) n += strcmp(json_string_value(json_object_get(x, "level")), level) == 0;
    return n;
}

static bool has(const json_t *f, const char *level, const char *type, const char *a, const char *b)
{
    size_t i;
    json_t *x;
    json_array_foreach(f, i, x) {
        const char *t = json_string_value(json_object_get(x, "text"));
        const char *ty = json_string_value(json_object_get(x, "type"));
        if (strcmp(json_string_value(json_object_get(x, "level")), level) == 0 &&
            ((type == NULL && ty == NULL) || (type && ty && strcmp(type, ty) == 0)) && strstr(t, a) &&
            (b == NULL || strstr(t, b)))
            return true;
    }
    return false;
}

static void dump(const json_t *f)
{
    size_t i;
    json_t *x;
    json_array_foreach(f, i, x) fprintf(stderr, "  %s\n", json_string_value(json_object_get(x, "text")));
}

static const char *const all_controls[] = {"1.3.6.1.1.13.2", "1.2.840.113556.1.4.473", "2.16.840.1.113730.3.4.9",
                                           NULL};

static void test_clean(const mapping_fixture *mf)
{
    s2l_subschema *s = schema_without(NULL);
    json_t *f = s2l_mapping_check_directory(mf->openldap, s, all_controls);
    CHECK(f != NULL);
    CHECK_INT(json_array_size(f), 0);
    if (json_array_size(f))
        dump(f);
    json_decref(f);
    /* without the controls: three warnings, no error */
    const char *const none[] = {NULL};
    f = s2l_mapping_check_directory(mf->openldap, s, none);
    CHECK_INT(count_level(f, "error"), 0);
    CHECK_INT(count_level(f, "warning"), 3);
    CHECK(has(f, "warning", NULL, "post-read", "1.3.6.1.1.13.2"));
    CHECK(has(f, "warning", NULL, "virtual list view", NULL));
    json_decref(f);
    /* controls NULL: not checked */
    f = s2l_mapping_check_directory(mf->openldap, s, NULL);
    CHECK_INT(json_array_size(f), 0);
    json_decref(f);
    s2l_subschema_destroy(s);
}

static void test_missing(const mapping_fixture *mf)
{
    /* no scimUser class, no memberOf (no overlay), no scimNickName attribute */
    const char *const drop[] = {"NAME 'scimUser'", "NAME 'memberOf'", "NAME 'scimNickName'", NULL};
    s2l_subschema *s = schema_without(drop);
    json_t *f = s2l_mapping_check_directory(mf->openldap, s, all_controls);
    CHECK(has(f, "error", "User", "object class scimUser", "no such object class"));
    CHECK(has(f, "error", "User", "memberOf (the user's groups)", "memberof overlay"));
    CHECK(has(f, "error", "User", "scimNickName (from SCIM nickName)", "no such attribute type"));
    /* the scim* attributes scimUser allowed are now allowed by no class */
    CHECK(has(f, "error", "User", "(from SCIM locale) is not allowed", NULL));
    CHECK_INT(count_level(f, "warning"), 0);
    json_decref(f);
    s2l_subschema_destroy(s);
}

int main(void)
{
    mapping_fixture mf;
    if (!mf_init(&mf))
        return 1;
    test_clean(&mf);
    test_missing(&mf);
    mf_fini(&mf);
    return UNIT_DONE();
}
