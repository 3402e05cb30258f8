/* fuzz_subschema.c — libFuzzer target for the RFC 4512 description parser
 * (s2l_subschema_*), which reads what a directory sends.
 *
 * The input is tried as an attribute type, an object class and a matching
 * rule description, and as an LDIF dump. Besides memory safety: a refusal is
 * 400 (or 500) with a detail naming an offset; an accepted description is
 * found again by its OID and each of its names; inheritance and the class
 * lookups terminate on whatever SUP chains the input builds. */
#include "s2l/subschema.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(const s2l_error *e)
{
    if (e->status == 500)
        return;
    if (e->status != 400 || strstr(e->detail, "offset") == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    s2l_subschema *s = s2l_subschema_create();
    s2l_error e = {0};
    if (s == NULL)
        return 0;

    if (s2l_subschema_add_attribute_type(s, text, size, &e) < 0) {
        check_refusal(&e);
    } else if (s2l_subschema_finish(s) == 0) {
        const s2l_ldap_attr_type *at = s2l_subschema_attr_at(s, 0);
        if (at == NULL || s2l_subschema_attr(s, at->oid) != at)
            abort();
        for (size_t i = 0; i < at->n_names; i++)
            if (s2l_subschema_attr(s, at->names[i]) != at)
                abort();
        (void)s2l_ldap_rule_kind_of(at->eff_equality);
        (void)s2l_ldap_syntax_kind_of(at->eff_syntax);
    }
    memset(&e, 0, sizeof e);
    if (s2l_subschema_add_object_class(s, text, size, &e) < 0)
        check_refusal(&e);
    memset(&e, 0, sizeof e);
    if (s2l_subschema_add_matching_rule(s, text, size, &e) < 0)
        check_refusal(&e);
    memset(&e, 0, sizeof e);
    size_t skipped = 0;
    if (s2l_subschema_add_ldif(s, text, size, &skipped, &e) < 0 && e.status != 500)
        abort();
    if (s2l_subschema_finish(s) == 0) {
        for (size_t i = 0; i < s2l_subschema_class_count(s); i++) {
            const s2l_ldap_object_class *oc = s2l_subschema_class_at(s, i);
            const char **must = s2l_subschema_class_attrs(s, oc->oid, true);
            const char **may = s2l_subschema_class_attrs(s, oc->oid, false);
            const char *classes[] = {oc->oid, NULL};
            (void)s2l_subschema_allows(s, classes, "cn");
            free(must);
            free(may);
        }
        for (size_t i = 0; i < s2l_subschema_attr_count(s); i++) {
            const s2l_ldap_attr_type *at = s2l_subschema_attr_at(s, i);
            /* an inherited field is the type's own or one of its supertypes' */
            bool found = at->eff_equality == NULL;
            const s2l_ldap_attr_type *t = at;
            for (int d = 0; t && d < 64 && !found; d++, t = t->sup_type)
                found = t->equality == at->eff_equality;
            if (!found)
                abort();
        }
    }
    s2l_subschema_destroy(s);
    return 0;
}
