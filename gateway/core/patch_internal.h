/* patch_internal.h — state shared by patch.c (resource attributes) and
 * patch_delta.c (delta attributes such as group members).
 *
 * Ownership: an s2l_patch_ctx borrows rt, resource, delta_names and err; it
 * owns its delta states, released by s2l_patch_ctx_fini.
 */
#ifndef S2L_PATCH_INTERNAL_H
#define S2L_PATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "s2l/error.h"
#include "s2l/filter.h"
#include "s2l/schema.h"
#include "resource_internal.h"

typedef enum { S2L_PATCH_ADD, S2L_PATCH_REPLACE, S2L_PATCH_REMOVE } s2l_patch_op;

/* Value-level changes to one delta attribute, accumulated over the operations. */
typedef struct s2l_patch_delta_state {
    const s2l_attr_def *def;
    json_t *add;        /* object: id key -> member value, in the order first added */
    json_t *remove;     /* object: id key -> {"value": id} */
    bool replace_all;
} s2l_patch_delta_state;

typedef struct s2l_patch_ctx {
    const s2l_resource_type *rt;
    json_t *resource;
    const char *const *delta_names;   /* NULL-terminated, or NULL */
    s2l_res_pol pol;                  /* policies for content outside the view */
    s2l_patch_delta_state *deltas;
    size_t n_deltas, cap_deltas;
    s2l_error *err;
} s2l_patch_ctx;

/* True when def is one of the top-level delta attributes. */
bool s2l_patch_is_delta(const s2l_patch_ctx *c, const s2l_attr_def *def);

/* Records op on delta attribute def. path is the parsed path (NULL for a key
 * of a path-less value); value may be NULL for remove. 0 or -1 + c->err. */
int s2l_patch_delta_op(s2l_patch_ctx *c, s2l_patch_op op, const s2l_attr_def *def, const s2l_path *path,
                       const json_t *value);

/* The deltas as resource.h documents them (*out NULL when none); -1 on allocation failure. */
int s2l_patch_deltas_json(const s2l_patch_ctx *c, json_t **out);

void s2l_patch_ctx_fini(s2l_patch_ctx *c);

#endif
