/* ldif.h — LDIF change records (RFC 2849) from the mapping's JSON forms.
 *
 * Pure: JSON in, text out. The inputs are the forms of mapping.h:
 *
 *   attrs = {"<attribute>": ["value", ...], ...}
 *   mods  = [{"op": "add"|"delete"|"replace", "attr": "mail", "values": ["..."]}, ...]
 *
 * Encoding (RFC 2849 §2): a DN or value that is not a SAFE-STRING is written
 * base64 ("attr:: <base64>"): one holding NUL, CR or LF, a byte above 127
 * (UTF-8 text included), one starting with a space, ':' or '<', and one
 * ending with a space (the RFC's "SHOULD"). An empty value is "attr:".
 * Lines are not folded (RFC 2849 allows, never requires, folding). Records
 * are separated by one empty line.
 *
 * With `annotate` set, every base64 value that is printable UTF-8 is preceded
 * by a comment line showing it ("# cn: Jürgen"), for people reading the
 * output; LDIF readers ignore comment lines.
 *
 * Ownership: an s2l_ldif is a caller-owned buffer ({0} is empty and ready);
 * s2l_ldif_take hands its text to the caller (free) and resets it. A failed
 * append (out of memory, or input not of the forms above) marks the buffer
 * failed: s2l_ldif_take then returns NULL.
 */
#ifndef S2L_LDIF_H
#define S2L_LDIF_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

typedef struct s2l_ldif {
    char *s;
    size_t len, cap;
    bool failed;
    bool annotate;       /* comment lines with the text of base64 values */
} s2l_ldif;

/* True when value can be written as is after "attr: " (a SAFE-STRING that
 * does not end with a space). */
bool s2l_ldif_is_safe(const char *value, size_t len);

/* RFC 4648 base64 without line breaks; malloc'd, NULL on allocation failure. */
char *s2l_base64_encode(const void *data, size_t len);

/* One "name: value" line (or "name:: base64"). name must be an LDAP
 * attribute description (letters, digits, '-', ';', '.'); -1 otherwise. */
int s2l_ldif_attrval(s2l_ldif *out, const char *name, const char *value, size_t len);

/* Comment lines: "# <line>" for each line of text (CR/LF split lines). */
int s2l_ldif_comment(s2l_ldif *out, const char *text);

/* Records. Each starts with an empty line unless the buffer is empty. */
int s2l_ldif_add(s2l_ldif *out, const char *dn, const json_t *attrs);
int s2l_ldif_modify(s2l_ldif *out, const char *dn, const json_t *mods);
/* newsuperior may be NULL (same parent). */
int s2l_ldif_modrdn(s2l_ldif *out, const char *dn, const char *newrdn, bool deleteoldrdn, const char *newsuperior);
int s2l_ldif_delete(s2l_ldif *out, const char *dn);

/* Starts a new record-level block (the empty line between records) without
 * writing a record; for comment blocks of their own. */
int s2l_ldif_separator(s2l_ldif *out);

/* The text (malloc'd, caller frees; "" when nothing was written), or NULL when
 * an append failed. Resets the buffer either way. */
char *s2l_ldif_take(s2l_ldif *out);
void s2l_ldif_reset(s2l_ldif *out);

#endif
